#pragma once
// The HTTP server (Boost.Beast on Asio). This header stays free of Beast and Asio: they are heavy
// to compile, so only http_server.cpp includes them.

#include <filesystem>
#include <memory>

#include "broker/api/api.hpp"
#include "broker/live/feed_hub.hpp"
#include "core/host_port.hpp"

namespace tocsin {

class Auth;

class HttpServer {
 public:
  HttpServer(const HostPort& bind, std::size_t max_body_bytes, int threads, Api& api);
  // Serves /ws/public and /ws/console from this hub; a session more than `max_queue` messages
  // behind is closed. Call before start().
  void live_feed(FeedHub& hub, std::size_t max_queue);
  // At most `total` connections open (HTTP and WebSocket), `per_address` from one address;
  // beyond, a request is answered 503 with Retry-After. Call before start().
  void connection_limits(std::size_t total, std::size_t per_address);
  // Who may open /ws/console.
  void authentication(Auth& auth);
  // Serve HTTPS and WSS only, with this PEM certificate chain and key (throws, naming the file,
  // if either cannot be used). Before start(); again while it runs (SIGHUP: a renewed
  // certificate) for the connections from then on, the open ones kept as they are.
  void tls(const std::filesystem::path& certificate, const std::filesystem::path& private_key);
  ~HttpServer();

  void start();  // binds (throws on failure), then serves on its own threads
  // Stops accepting, lets requests in progress finish (bounded wait), then stops.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tocsin
