#pragma once
// An HTTP connection (plain or TLS): requests read with limits, each handed to the API (its answer
// may come from another thread), keep-alive; a WebSocket upgrade becomes a feed session. Included
// only by http_server.cpp, the listener.

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "broker/api/auth.hpp"
#include "broker/api/beast.hpp"
#include "broker/api/connection_budget.hpp"
#include "broker/api/routes.hpp"
#include "broker/api/websocket_session.hpp"
#include "broker/live/feed_hub.hpp"

namespace tocsin {

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

inline http::response<http::string_body> to_beast(ApiResponse r, unsigned version, bool keep_alive,
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

inline std::map<std::string, std::string> headers_of(const http::request<http::string_body>& req) {
  std::map<std::string, std::string> out;
  for (const auto& f : req) {
    std::string name(f.name_string());
    for (char& c : name) c = char(std::tolower(static_cast<unsigned char>(c)));
    out[name] = std::string(f.value());
  }
  return out;
}

// The query's parameters, URL-decoded as the API's are.
inline Query query_of(std::string_view target) {
  auto q = target.find('?');
  return q == std::string_view::npos ? Query{} : parse_query(target.substr(q + 1));
}

// A request's header must arrive within this (slow-header clients, idle keep-alive connections
// are closed), its body within the second.
constexpr std::chrono::seconds kHeaderDeadline{10};
constexpr std::chrono::seconds kBodyDeadline{30};

// What every connection is served with, and its coroutines.
struct HttpSessions {
  Api& api;
  HostPort bind;
  std::size_t max_body;
  FeedHub* feed = nullptr;
  std::size_t feed_max_queue = 256;
  Auth* auth = nullptr;
  // Set: HTTPS and WSS only. Replaced on reload (a renewed certificate); a replaced context is
  // kept, for the connections that were opened with it (a console's WebSocket stays).
  std::shared_ptr<ssl::context> tls;
  std::vector<std::shared_ptr<ssl::context>> retired_tls;
  std::mutex tls_mutex;
  std::shared_ptr<ssl::context> tls_context() {
    std::lock_guard lock(tls_mutex);
    return tls;
  }
  std::atomic<int> active_requests{0};
  ConnectionBudget budget;  // http.max_connections, http.max_connections_per_address
  // Connections over the budget are told so (503, Retry-After) by a few at a time; past these,
  // closed at once.
  ConnectionBudget refusing{{.total = 64, .per_address = 4}};
  std::atomic<std::int64_t> refusals{0};  // since the last log line
  std::atomic<std::int64_t> last_refusal_log{0};

  HttpSessions(Api& a, HostPort b, std::size_t max) : api(a), bind(std::move(b)), max_body(max) {}

  // /ws/public?lang=fr|en (no auth: public alerts only) and /ws/console?person=ID. An answer
  // other than a session (bad path or query) is an HTTP error.
  template <class Stream>
  std::optional<ApiResponse> upgrade(Stream& stream, http::request<http::string_body>& req,
                                     ConnectionBudget::Slot& slot) {
    std::string_view target = req.target();
    std::string_view path = target.substr(0, target.find('?'));
    auto query = query_of(target);
    Subscription what;
    if (path == "/ws/public") {
      what.language = query.count("lang") ? query["lang"] : "";
      if (what.language != "" && what.language != "fr" && what.language != "en")
        return Api::error(400, Error{"invalid_value", "lang: fr or en", "lang"});
    } else if (path == "/ws/console") {
      // A coordinator's session (the person is who signed in), or a token bound to a person
      // (a wall screen: tocsin token add NAME --for PERSON), for that person's console only. A
      // token bound to nobody opens nobody's console (their pages, their alerts).
      what.console = true;
      auto who = auth ? auth->identify(headers_of(req)) : std::nullopt;
      if (!who) return Api::error(401, Error{"unauthenticated", "sign in first", "Cookie"});
      // Another site's page may not open a person's console with their cookie.
      if (!auth->origin_allowed(std::string(req[http::field::origin]),
                                std::string(req[http::field::host])))
        return Api::error(403,
                          Error{"cross_origin",
                                "Origin: " + std::string(req[http::field::origin]).substr(0, 256) +
                                    " is not the console's (http.public_origin)",
                                "Origin"});
      if (!who->can("read"))
        return Api::error(403, Error{"forbidden", who->id + " may not read", "Authorization"});
      if (who->kind != "user" && who->person.empty())
        return Api::error(403, Error{"forbidden",
                                     who->id + " is bound to nobody, so it opens nobody's "
                                               "console (tocsin token add NAME --for PERSON)",
                                     "Authorization", "token_not_bound"});
      what.person = who->kind == "user" ? who->id : who->person;
      if (query.count("person") && query["person"] != what.person)
        return Api::error(
            403,
            Error{"forbidden", who->id + " opens " + what.person + "'s console only", "person"});
    } else {
      return Api::error(404, Error{"not_found", "no WebSocket at " + std::string(path), "path"});
    }
    if (!feed) return Api::error(503, Error{"unavailable", "the live feed is off", ""});
    auto session = std::make_shared<FeedSession<Stream>>(std::move(stream), *feed, feed_max_queue);
    session->hold(std::move(slot));  // the connection's place in the budget, while it is open
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

  // Over the connection budget: the request is answered 503 with Retry-After, and the
  // connection closed.
  static ApiResponse over_budget(ConnectionBudget::Over over) {
    auto r = Api::error(503, Error{"overloaded",
                                   over == ConnectionBudget::Over::address
                                       ? "too many connections from your address; retry later"
                                       : "the server has too many connections; retry later",
                                   ""});
    r.headers["Retry-After"] = "5";
    return r;
  }

  // Logs refusals at most once a minute, with how many there were.
  void refused_one(ConnectionBudget::Over over) {
    ++refusals;
    auto now = std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::steady_clock::now().time_since_epoch())
                   .count();
    auto last = last_refusal_log.load();
    if (now - last < 60 || !last_refusal_log.compare_exchange_strong(last, now)) return;
    auto limits = budget.limits();
    spdlog::warn("http: refused {} connections over the budget ({}: {} at most{})",
                 refusals.exchange(0),
                 over == ConnectionBudget::Over::address ? "per address" : "in all",
                 over == ConnectionBudget::Over::address ? limits.per_address : limits.total,
                 over == ConnectionBudget::Over::address ? "; http.max_connections_per_address"
                                                         : "; http.max_connections");
  }

  template <class Stream>
  asio::awaitable<void> session(Stream stream, beast::flat_buffer buffer,
                                ConnectionBudget::Slot slot, ConnectionBudget::Over over) {
    constexpr bool over_tls = std::is_same_v<Stream, tls_stream>;
    auto& tcp_layer = beast::get_lowest_layer(stream);
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.header_limit(16 * 1024);
      parser.body_limit(max_body);
      // The header within kHeaderDeadline (a client that trickles it byte by byte, or idles
      // between keep-alive requests, is let go), then the body within kBodyDeadline.
      tcp_layer.expires_after(kHeaderDeadline);
      auto [ec, n] = co_await http::async_read_header(stream, buffer, parser,
                                                      asio::as_tuple(asio::use_awaitable));
      if (!ec && over != ConnectionBudget::Over::none) {  // its body is not read
        auto res = to_beast(over_budget(over), parser.get().version(), false, over_tls);
        tcp_layer.expires_after(std::chrono::seconds(5));
        co_await http::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
        break;
      }
      if (!ec && !parser.is_done()) {
        tcp_layer.expires_after(kBodyDeadline);
        auto [body_ec, body_n] =
            co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
        ec = body_ec;
      }
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
        auto refused = upgrade(stream, req, slot);
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
      const bool head = req.method() == http::verb::head;
      ++active_requests;
      ApiResponse response = co_await async_handle(api, std::move(request), asio::use_awaitable);
      auto res = to_beast(std::move(response), version, keep_alive, over_tls);
      if (head) res.body().clear();  // its Content-Length stays the GET's
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
  asio::awaitable<void> tls_session(beast::tcp_stream stream, ConnectionBudget::Slot slot,
                                    ConnectionBudget::Over over) {
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
    tls_stream secure(std::move(stream), *tls_context());
    auto [hec, used] = co_await secure.async_handshake(ssl::stream_base::server, buffer.data(),
                                                       asio::as_tuple(asio::use_awaitable));
    if (hec) {
      spdlog::debug("http: TLS handshake failed: {}", hec.message());
      co_return;
    }
    buffer.consume(used);
    co_await session(std::move(secure), std::move(buffer), std::move(slot), over);
  }
};

}  // namespace tocsin
