#pragma once
// A live-feed WebSocket session (/ws/public, /ws/console), as in Beast's chat-multi example: the
// session owns its write queue; the feed hub (live/feed_hub.hpp) only posts to it. Included only
// by http_server.cpp.

#include "broker/api/beast.hpp"
#include "broker/live/feed_hub.hpp"

namespace tocsin {

// One live-feed WebSocket session. It owns a write queue and sends the next message only when
// the last write completed; messages are shared, immutable buffers. A session whose queue
// passes the limit (a client that does not read) is closed with the reason, never waited for.
// Over plain TCP or TLS (`Stream`).
constexpr std::chrono::seconds kConsoleRecheck{10};

template <class Stream>
class FeedSession : public FeedSubscriber,
                    public std::enable_shared_from_this<FeedSession<Stream>> {
 public:
  FeedSession(Stream stream, FeedHub& hub, std::size_t max_queue)
      : ws_(std::move(stream)), hub_(hub), max_queue_(max_queue) {}

  // A console's credential is asked again every kConsoleRecheck: a session signed out, expired
  // or disabled, or a token revoked, no longer gets the board (the socket is closed, and the
  // page goes back to sign-in).
  void recheck(std::function<bool()> still_valid) { still_valid_ = std::move(still_valid); }
  // Held for the session's life: its connection's place in the server's budget.
  void hold(std::shared_ptr<void> slot) { slot_ = std::move(slot); }
  ~FeedSession() override { hub_.leave(this); }  // a session dropped with the server, unread

  asio::awaitable<void> run(http::request<http::string_body> req, Subscription what) {
    beast::get_lowest_layer(ws_).expires_never();
    // A push feed needs little kernel buffer; a small one makes a client that stopped reading
    // show up in our own queue (and be dropped) instead of hiding megabytes in the kernel.
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().set_option(asio::socket_base::send_buffer_size(16 * 1024),
                                                     ignored);
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws_.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& res) { res.set(http::field::server, "tocsin"); }));
    ws_.read_message_max(4096);  // clients only listen; anything they send is small or ignored
    auto [ec] = co_await ws_.async_accept(req, asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    std::uint64_t seq = hub_.join(this->shared_from_this(), what);
    // A console starts from a snapshot, sent before any delta (they are posted to this strand
    // and run only once this coroutine waits).
    if (what.console && hub_.snapshot) {
      try {
        enqueue(std::make_shared<const std::string>(hub_.snapshot(seq)));
      } catch (const std::exception& e) {
        spdlog::error("live feed: no snapshot for a console: {}", e.what());
      }
    }
    // A public page starts from the alerts standing now, not only the next one.
    if (!what.console && hub_.public_snapshot) {
      try {
        enqueue(std::make_shared<const std::string>(hub_.public_snapshot(what.language)));
      } catch (const std::exception& e) {
        spdlog::error("live feed: no snapshot for a public page: {}", e.what());
      }
    }
    if (still_valid_)
      asio::co_spawn(ws_.get_executor(), watch(this->shared_from_this()), asio::detached);
    beast::flat_buffer buffer;
    for (;;) {
      auto [rec, n] = co_await ws_.async_read(buffer, asio::as_tuple(asio::use_awaitable));
      if (rec) break;
      buffer.consume(n);
    }
    open_ = false;
    hub_.leave(this);
  }

  asio::any_io_executor executor() { return ws_.get_executor(); }

  // FeedSubscriber
  void push(std::shared_ptr<const std::string> message) override {
    asio::post(ws_.get_executor(), [self = this->shared_from_this(), message = std::move(message)] {
      self->enqueue(std::move(message));
    });
  }

 private:
  void enqueue(std::shared_ptr<const std::string> message) {
    if (closing_) return;
    if (queue_.size() >= max_queue_) {
      closing_ = true;
      queue_.clear();
      std::string why = "too slow: more than " + std::to_string(max_queue_) + " messages waiting";
      spdlog::warn("live feed: dropping a session: {}", why);
      ws_.async_close(websocket::close_reason(websocket::close_code::policy_error, why),
                      [self = this->shared_from_this()](beast::error_code) {});
      // The close frame waits behind the write the client is not reading; if it starts reading
      // again it gets the reason. One that still reads nothing is cut off.
      auto timer = std::make_shared<asio::steady_timer>(ws_.get_executor());
      timer->expires_after(std::chrono::seconds(30));
      timer->async_wait([self = this->shared_from_this(), timer](beast::error_code) {
        beast::error_code ignored;
        beast::get_lowest_layer(self->ws_).socket().close(ignored);
      });
      return;
    }
    queue_.push_back(std::move(message));
    if (!writing_) write_next();
  }

  asio::awaitable<void> watch(std::shared_ptr<FeedSession> self) {
    asio::steady_timer timer(ws_.get_executor());
    while (open_ && !closing_) {
      timer.expires_after(kConsoleRecheck);
      auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
      if (ec || !open_ || closing_) co_return;
      bool valid = false;
      try {
        valid = still_valid_();
      } catch (const std::exception& e) {  // the store is away: keep serving, ask again later
        spdlog::warn("live feed: a console's session could not be checked: {}", e.what());
        continue;
      }
      if (valid) continue;
      closing_ = true;
      queue_.clear();
      spdlog::info("live feed: a console's session ended: closing its feed");
      hub_.leave(this);
      ws_.async_close(websocket::close_reason(websocket::close_code::policy_error, "session ended"),
                      [self](beast::error_code) {});
      co_return;
    }
  }

  void write_next() {
    writing_ = true;
    ws_.text(true);
    ws_.async_write(asio::buffer(*queue_.front()),
                    [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                      self->writing_ = false;
                      if (ec || self->closing_) return;
                      self->queue_.pop_front();
                      if (!self->queue_.empty()) self->write_next();
                    });
  }

  websocket::stream<Stream> ws_;
  FeedHub& hub_;
  std::size_t max_queue_;
  std::deque<std::shared_ptr<const std::string>> queue_;
  bool writing_ = false;
  bool closing_ = false;
  bool open_ = true;
  std::function<bool()> still_valid_;
  std::shared_ptr<void> slot_;
};

}  // namespace tocsin
