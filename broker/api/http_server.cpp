#include "broker/api/http_server.hpp"

#include "broker/api/routes.hpp"

#include <pthread.h>
#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/core/detect_ssl.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

namespace tocsin {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using tls_stream = beast::ssl_stream<beast::tcp_stream>;

namespace {

// Awaits Api::handle: its answer may come from another thread; the coroutine resumes on its own
// executor.
template <class Token>
auto async_handle(Api& api, ApiRequest request, Token&& token) {
  return asio::async_initiate<Token, void(ApiResponse)>(
      [&api](auto handler, ApiRequest request) {
        auto shared = std::make_shared<decltype(handler)>(std::move(handler));
        api.handle(std::move(request), [shared](ApiResponse response) {
          auto executor = asio::get_associated_executor(*shared);
          asio::post(executor, [shared, response = std::move(response)]() mutable {
            (*shared)(std::move(response));
          });
        });
      },
      token, std::move(request));
}

http::response<http::string_body> to_beast(ApiResponse r, unsigned version, bool keep_alive,
                                           bool tls) {
  http::response<http::string_body> res{static_cast<http::status>(r.status), version};
  res.set(http::field::server, "tocsin");
  // Over TLS, browsers are told to keep to it (a year).
  if (tls) res.set(http::field::strict_transport_security, "max-age=31536000");
  res.set(http::field::content_type, r.content_type);
  res.set(http::field::cache_control, "no-store");
  for (const auto& [k, v] : r.headers) res.set(k, v);
  res.body() = std::move(r.body);
  res.keep_alive(keep_alive);
  res.prepare_payload();
  return res;
}

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
};

std::map<std::string, std::string> headers_of(const http::request<http::string_body>& req) {
  std::map<std::string, std::string> out;
  for (const auto& f : req) {
    std::string name(f.name_string());
    for (char& c : name) c = char(std::tolower(static_cast<unsigned char>(c)));
    out[name] = std::string(f.value());
  }
  return out;
}

// The query's parameters, URL-decoded as the API's are.
Query query_of(std::string_view target) {
  auto q = target.find('?');
  return q == std::string_view::npos ? Query{} : parse_query(target.substr(q + 1));
}

}  // namespace

struct HttpServer::Impl {
  HostPort bind;
  std::size_t max_body;
  int thread_count;
  Api& api;
  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::vector<std::jthread> threads;  // they run io until io.stop()
  std::atomic<int> active_requests{0};

  FeedHub* feed = nullptr;
  std::size_t feed_max_queue = 256;
  Auth* auth = nullptr;
  std::optional<ssl::context> tls;  // set: HTTPS and WSS only

  Impl(const HostPort& b, std::size_t max_body, int threads, Api& api)
      : bind(b), max_body(max_body), thread_count(threads), api(api) {}

  // /ws/public?lang=fr|en (no auth: public alerts only) and /ws/console?person=ID. An answer
  // other than a session (bad path or query) is an HTTP error.
  template <class Stream>
  std::optional<ApiResponse> upgrade(Stream& stream, http::request<http::string_body>& req) {
    std::string_view target = req.target();
    std::string_view path = target.substr(0, target.find('?'));
    auto query = query_of(target);
    Subscription what;
    if (path == "/ws/public") {
      what.language = query.count("lang") ? query["lang"] : "";
      if (what.language != "" && what.language != "fr" && what.language != "en")
        return Api::error(400, Error{"invalid_value", "lang: fr or en", "lang"});
    } else if (path == "/ws/console") {
      // A coordinator's session (the person is who signed in), or a token with the read scope
      // naming the person whose console it serves.
      what.console = true;
      auto who = auth ? auth->identify(headers_of(req)) : std::nullopt;
      if (!who) return Api::error(401, Error{"unauthenticated", "sign in first", "Cookie"});
      if (!who->can("read"))
        return Api::error(403, Error{"forbidden", who->id + " may not read", "Authorization"});
      what.person = who->kind == "user" ? who->id : query["person"];
      if (what.person.empty() || what.person.size() > 64)
        return Api::error(400, Error{"invalid_value", "person: who is at this console", "person"});
    } else {
      return Api::error(404, Error{"not_found", "no WebSocket at " + std::string(path), "path"});
    }
    if (!feed) return Api::error(503, Error{"unavailable", "the live feed is off", ""});
    auto session = std::make_shared<FeedSession<Stream>>(std::move(stream), *feed, feed_max_queue);
    if (what.console)
      session->recheck([auth = auth, headers = headers_of(req)] {
        auto who = auth->identify(headers);
        return who && who->can("read");
      });
    asio::co_spawn(session->executor(), session->run(std::move(req), what),
                   [session](std::exception_ptr e) {
                     if (!e) return;
                     try {
                       std::rethrow_exception(e);
                     } catch (const std::exception& x) {
                       spdlog::warn("live feed: a session failed: {}", x.what());
                     }
                   });
    return std::nullopt;
  }

  template <class Stream>
  asio::awaitable<void> session(Stream stream, beast::flat_buffer buffer) {
    constexpr bool over_tls = std::is_same_v<Stream, tls_stream>;
    auto& tcp_layer = beast::get_lowest_layer(stream);
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.header_limit(16 * 1024);
      parser.body_limit(max_body);
      tcp_layer.expires_after(std::chrono::seconds(60));
      auto [ec, n] =
          co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
      if (ec == http::error::end_of_stream || ec == asio::error::operation_aborted ||
          ec == beast::error::timeout || ec == asio::error::connection_reset ||
          ec == ssl::error::stream_truncated)
        break;
      if (ec) {
        int status = ec == http::error::body_limit     ? 413
                     : ec == http::error::header_limit ? 431
                                                       : 400;
        std::string code = status == 413 ? "too_large" : "bad_request";
        std::string field = status == 413 ? "body" : "request";
        std::string message = status == 413
                                  ? "body: over the limit of " + std::to_string(max_body) + " bytes"
                                  : "request: " + ec.message();
        auto res = to_beast(Api::error(status, Error{code, message, field}), 11, false, over_tls);
        tcp_layer.expires_after(std::chrono::seconds(10));
        co_await http::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
        break;
      }
      auto& req = parser.get();
      if (websocket::is_upgrade(req)) {
        auto refused = upgrade(stream, req);
        if (!refused) co_return;  // the stream belongs to the WebSocket session now
        auto res = to_beast(std::move(*refused), req.version(), false, over_tls);
        co_await http::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
        break;
      }
      ApiRequest request;
      request.method = std::string(req.method_string());
      request.target = std::string(req.target());
      request.content_type = std::string(req[http::field::content_type]);
      request.headers = headers_of(req);
      request.body = std::move(req.body());
      beast::error_code rec;
      auto remote = tcp_layer.socket().remote_endpoint(rec);
      if (!rec) request.remote = remote.address().to_string();
      bool keep_alive = req.keep_alive();
      unsigned version = req.version();
      ++active_requests;
      ApiResponse response = co_await async_handle(api, std::move(request), asio::use_awaitable);
      auto res = to_beast(std::move(response), version, keep_alive, over_tls);
      tcp_layer.expires_after(std::chrono::seconds(30));
      auto [wec, wn] = co_await http::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
      --active_requests;
      if (wec || !keep_alive) break;
    }
    beast::error_code ignored;
    if constexpr (over_tls) {
      tcp_layer.expires_after(std::chrono::seconds(5));
      co_await stream.async_shutdown(asio::as_tuple(asio::use_awaitable));
    }
    tcp_layer.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  // With TLS on: the handshake, then the same session. A client speaking plain HTTP to this port
  // is told to use https:// (a readable error, not a reset).
  asio::awaitable<void> tls_session(beast::tcp_stream stream) {
    beast::flat_buffer buffer;
    stream.expires_after(std::chrono::seconds(10));
    auto [dec, is_tls] =
        co_await beast::async_detect_ssl(stream, buffer, asio::as_tuple(asio::use_awaitable));
    if (dec) co_return;
    if (!is_tls) {
      auto res = to_beast(Api::error(400, Error{"https_required",
                                                "this port speaks HTTPS: use https://" + bind.host +
                                                    ":" + std::to_string(bind.port),
                                                "scheme"}),
                          11, false, false);
      co_await http::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
      beast::error_code ignored;
      stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
      co_return;
    }
    tls_stream secure(std::move(stream), *tls);
    auto [hec, used] = co_await secure.async_handshake(ssl::stream_base::server, buffer.data(),
                                                       asio::as_tuple(asio::use_awaitable));
    if (hec) {
      spdlog::debug("http: TLS handshake failed: {}", hec.message());
      co_return;
    }
    buffer.consume(used);
    co_await session(std::move(secure), std::move(buffer));
  }

  asio::awaitable<void> listen() {
    for (;;) {
      // Each connection on its own strand: a WebSocket session is written to from other threads'
      // posts, and the server may run several threads.
      auto [ec, socket] = co_await acceptor.async_accept(asio::make_strand(io),
                                                         asio::as_tuple(asio::use_awaitable));
      if (ec == asio::error::operation_aborted) co_return;
      if (ec) {
        spdlog::warn("http: accept failed: {}", ec.message());
        continue;
      }
      auto executor = socket.get_executor();
      if (tls)
        asio::co_spawn(executor, tls_session(beast::tcp_stream(std::move(socket))), asio::detached);
      else
        asio::co_spawn(executor, session(beast::tcp_stream(std::move(socket)), {}), asio::detached);
    }
  }
};

HttpServer::HttpServer(const HostPort& bind, std::size_t max_body_bytes, int threads, Api& api)
    : impl_(std::make_unique<Impl>(bind, max_body_bytes, threads, api)) {}

void HttpServer::live_feed(FeedHub& hub, std::size_t max_queue) {
  impl_->feed = &hub;
  impl_->feed_max_queue = max_queue;
}

HttpServer::~HttpServer() {
  stop();
}

void HttpServer::authentication(Auth& auth) {
  impl_->auth = &auth;
}

void HttpServer::tls(const std::filesystem::path& certificate,
                     const std::filesystem::path& private_key) {
  ssl::context ctx(ssl::context::tls_server);
  // TLS 1.2 and 1.3 only; OpenSSL's default ciphers for them (forward secrecy).
  ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                  ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                  ssl::context::single_dh_use);
  beast::error_code ec;
  ctx.use_certificate_chain_file(certificate.string(), ec);
  if (ec)
    throw std::runtime_error("http.tls.certificate: cannot use " + certificate.string() + ": " +
                             ec.message());
  ctx.use_private_key_file(private_key.string(), ssl::context::pem, ec);
  if (ec)
    throw std::runtime_error("http.tls.private_key: cannot use " + private_key.string() +
                             " with the certificate " + certificate.string() + ": " + ec.message());
  if (SSL_CTX_check_private_key(ctx.native_handle()) != 1)
    throw std::runtime_error("http.tls.private_key: " + private_key.string() +
                             " does not match the certificate " + certificate.string());
  impl_->tls.emplace(std::move(ctx));
}

void HttpServer::start() {
  auto& i = *impl_;
  tcp::resolver resolver(i.io);
  auto endpoints = resolver.resolve(i.bind.host, std::to_string(i.bind.port),
                                    tcp::resolver::passive | tcp::resolver::numeric_service);
  tcp::endpoint ep = endpoints.begin()->endpoint();
  i.acceptor.open(ep.protocol());
  i.acceptor.set_option(asio::socket_base::reuse_address(true));
  i.acceptor.bind(ep);
  i.acceptor.listen(asio::socket_base::max_listen_connections);
  asio::co_spawn(i.io, i.listen(), asio::detached);
  for (int t = 0; t < i.thread_count; ++t)
    i.threads.emplace_back([&i] {
      pthread_setname_np(pthread_self(), "http");
      i.io.run();
    });
  spdlog::info("http: listening on {}:{}{}", i.bind.host, i.bind.port,
               i.tls ? " (HTTPS and WSS only)" : "");
}

void HttpServer::stop() {
  auto& i = *impl_;
  if (i.threads.empty()) return;
  asio::post(i.io, [&i] {
    beast::error_code ignored;
    i.acceptor.close(ignored);
  });
  // Requests in progress (an incident waiting for its commit) get their answer first.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (i.active_requests.load() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  i.io.stop();
  i.threads.clear();  // joins each
}

}  // namespace tocsin
