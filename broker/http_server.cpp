#include "broker/http_server.hpp"

#include <pthread.h>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace tocsin {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

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

http::response<http::string_body> to_beast(ApiResponse r, unsigned version, bool keep_alive) {
  http::response<http::string_body> res{static_cast<http::status>(r.status), version};
  res.set(http::field::server, "tocsin");
  res.set(http::field::content_type, r.content_type);
  res.set(http::field::cache_control, "no-store");
  for (const auto& [k, v] : r.headers) res.set(k, v);
  res.body() = std::move(r.body);
  res.keep_alive(keep_alive);
  res.prepare_payload();
  return res;
}

}  // namespace

struct HttpServer::Impl {
  HostPort bind;
  std::size_t max_body;
  int thread_count;
  Api& api;
  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::vector<std::thread> threads;
  std::atomic<int> active_requests{0};

  Impl(const HostPort& b, std::size_t max_body, int threads, Api& api)
      : bind(b), max_body(max_body), thread_count(threads), api(api) {}

  asio::awaitable<void> session(beast::tcp_stream stream) {
    beast::flat_buffer buffer;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.header_limit(16 * 1024);
      parser.body_limit(max_body);
      stream.expires_after(std::chrono::seconds(60));
      auto [ec, n] =
          co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
      if (ec == http::error::end_of_stream || ec == asio::error::operation_aborted ||
          ec == beast::error::timeout || ec == asio::error::connection_reset)
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
        auto res = to_beast(Api::error(status, Error{code, message, field}), 11, false);
        stream.expires_after(std::chrono::seconds(10));
        co_await http::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
        break;
      }
      auto& req = parser.get();
      ApiRequest request{std::string(req.method_string()),
                         std::string(req.target()),
                         std::string(req[http::field::content_type]),
                         std::move(req.body()),
                         {}};
      for (const auto& f : req) {
        std::string name(f.name_string());
        for (char& c : name) c = char(std::tolower(static_cast<unsigned char>(c)));
        request.headers[name] = std::string(f.value());
      }
      bool keep_alive = req.keep_alive();
      unsigned version = req.version();
      ++active_requests;
      ApiResponse response = co_await async_handle(api, std::move(request), asio::use_awaitable);
      auto res = to_beast(std::move(response), version, keep_alive);
      stream.expires_after(std::chrono::seconds(30));
      auto [wec, wn] = co_await http::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
      --active_requests;
      if (wec || !keep_alive) break;
    }
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  asio::awaitable<void> listen() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec == asio::error::operation_aborted) co_return;
      if (ec) {
        spdlog::warn("http: accept failed: {}", ec.message());
        continue;
      }
      asio::co_spawn(acceptor.get_executor(), session(beast::tcp_stream(std::move(socket))),
                     asio::detached);
    }
  }
};

HttpServer::HttpServer(const HostPort& bind, std::size_t max_body_bytes, int threads, Api& api)
    : impl_(std::make_unique<Impl>(bind, max_body_bytes, threads, api)) {}

HttpServer::~HttpServer() {
  stop();
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
  spdlog::info("http: listening on {}:{}", i.bind.host, i.bind.port);
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
  for (auto& t : i.threads) t.join();
  i.threads.clear();
}

}  // namespace tocsin
