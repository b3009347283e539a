#include "broker/api/http_server.hpp"

// The listener: accepts connections, each on its own strand, and hands each to an HTTP session
// (http_session.hpp); its threads run Asio's io_context. The only file that includes Beast.
#include <pthread.h>
#include <sys/resource.h>
#include <thread>
#include <vector>

#include "broker/api/http_session.hpp"

namespace tocsin {

struct HttpServer::Impl {
  int thread_count;
  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::vector<std::jthread> threads;  // they run io until io.stop()
  HttpSessions sessions;

  Impl(const HostPort& b, std::size_t max_body, int threads, Api& api)
      : thread_count(threads), sessions(api, b, max_body) {}

  asio::awaitable<void> listen() {
    for (;;) {
      // Each connection on its own strand: a WebSocket session is written to from other threads'
      // posts, and the server may run several threads.
      auto [ec, socket] = co_await acceptor.async_accept(asio::make_strand(io),
                                                         asio::as_tuple(asio::use_awaitable));
      if (ec == asio::error::operation_aborted) co_return;
      if (ec) {
        // Out of file descriptors or memory: a pause, not a loop that spins on the error.
        spdlog::warn("http: accept failed: {}", ec.message());
        asio::steady_timer pause(io, std::chrono::milliseconds(100));
        co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
        continue;
      }
      beast::error_code rec;
      auto remote = socket.remote_endpoint(rec);
      const std::string address = rec ? std::string() : remote.address().to_string();
      ConnectionBudget::Over over;
      auto slot = sessions.budget.take(address, over);
      if (!slot) {
        sessions.refused_one(over);
        ConnectionBudget::Over busy;
        slot = sessions.refusing.take(address, busy);
        if (!slot) {  // too many being refused already: closed at once
          socket.close(rec);
          continue;
        }
      }
      auto executor = socket.get_executor();
      if (sessions.tls_context())
        asio::co_spawn(
            executor,
            sessions.tls_session(beast::tcp_stream(std::move(socket)), std::move(slot), over),
            asio::detached);
      else
        asio::co_spawn(
            executor,
            sessions.session(beast::tcp_stream(std::move(socket)), {}, std::move(slot), over),
            asio::detached);
    }
  }
};

HttpServer::HttpServer(const HostPort& bind, std::size_t max_body_bytes, int threads, Api& api)
    : impl_(std::make_unique<Impl>(bind, max_body_bytes, threads, api)) {}

void HttpServer::live_feed(FeedHub& hub, std::size_t max_queue) {
  impl_->sessions.feed = &hub;
  impl_->sessions.feed_max_queue = max_queue;
}

HttpServer::~HttpServer() {
  stop();
}

void HttpServer::connection_limits(std::size_t total, std::size_t per_address) {
  impl_->sessions.budget.limits({total, per_address});
}

void HttpServer::authentication(Auth& auth) {
  impl_->sessions.auth = &auth;
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
  auto next = std::make_shared<ssl::context>(std::move(ctx));
  auto& s = impl_->sessions;
  std::lock_guard lock(s.tls_mutex);
  if (s.tls) s.retired_tls.push_back(std::move(s.tls));
  s.tls = std::move(next);
}

void HttpServer::start() {
  auto& i = *impl_;
  // Every connection is a file descriptor: the soft limit is raised to the hard one, and the
  // budget kept inside it (with room for the journal, Redis, ZeroMQ and the providers).
  constexpr std::size_t kOtherDescriptors = 256;
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0) {
    if (files.rlim_cur < files.rlim_max) {
      files.rlim_cur = files.rlim_max;
      setrlimit(RLIMIT_NOFILE, &files);
      getrlimit(RLIMIT_NOFILE, &files);
    }
    auto limits = i.sessions.budget.limits();
    if (files.rlim_cur != RLIM_INFINITY && limits.total + kOtherDescriptors > files.rlim_cur) {
      std::size_t fits = files.rlim_cur > 2 * kOtherDescriptors
                             ? std::size_t(files.rlim_cur) - kOtherDescriptors
                             : std::size_t(files.rlim_cur) / 2;
      spdlog::warn(
          "http: max_connections {} does not fit in {} open files (ulimit -n, LimitNOFILE=): {} "
          "it is",
          limits.total, std::uint64_t(files.rlim_cur), fits);
      limits.total = fits;
      limits.per_address = std::min(limits.per_address, fits);
      i.sessions.budget.limits(limits);
    }
  }
  tcp::resolver resolver(i.io);
  const HostPort& bind = i.sessions.bind;
  auto endpoints = resolver.resolve(bind.host, std::to_string(bind.port),
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
  spdlog::info("http: listening on {}:{}{}", bind.host, bind.port,
               i.sessions.tls_context() ? " (HTTPS and WSS only)" : "");
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
  while (i.sessions.active_requests.load() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  i.io.stop();
  i.threads.clear();  // joins each
}

}  // namespace tocsin
