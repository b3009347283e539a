#include "channels/http/http_client.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace tocsin::channels {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

struct Url {
  bool tls = false;
  std::string host, port, target;
};

std::optional<Url> parse_url(const std::string& url) {
  Url u;
  std::string_view rest = url;
  if (rest.rfind("https://", 0) == 0) {
    u.tls = true;
    rest.remove_prefix(8);
  } else if (rest.rfind("http://", 0) == 0) {
    rest.remove_prefix(7);
  } else {
    return std::nullopt;
  }
  auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  u.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (authority.empty() || authority.find('@') != std::string_view::npos) return std::nullopt;
  auto colon = authority.rfind(':');
  if (colon != std::string_view::npos && authority.find(']') == std::string_view::npos) {
    u.host = authority.substr(0, colon);
    u.port = authority.substr(colon + 1);
  } else {
    u.host = authority;
    u.port = u.tls ? "443" : "80";
  }
  if (u.host.size() > 2 && u.host.front() == '[') u.host = u.host.substr(1, u.host.size() - 2);
  return u;
}

bool is_ip_literal(const std::string& host) {
  beast::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

Error failure(const beast::error_code& ec, const char* step) {
  std::string code = ec == beast::error::timeout       ? "timeout"
                     : std::string_view(step) == "tls" ? "tls"
                     : std::string_view(step) == "connect" || std::string_view(step) == "resolve"
                         ? "connect"
                         : "io";
  return Error{code, std::string(step) + ": " + ec.message(), ""};
}

}  // namespace

struct HttpClient::Impl {
  ssl::context tls{ssl::context::tls_client};
};

HttpClient::HttpClient(const std::string& ca_file) : impl_(std::make_unique<Impl>()) {
  impl_->tls.set_verify_mode(ssl::verify_peer);
  impl_->tls.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                         ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                         ssl::context::no_tlsv1_1);
  if (ca_file.empty())
    impl_->tls.set_default_verify_paths();
  else
    impl_->tls.load_verify_file(ca_file);  // throws if unreadable: a configuration error
}

HttpClient::~HttpClient() = default;

Result<HttpAnswer> HttpClient::call(const HttpCall& c) const {
  auto url = parse_url(c.url);
  if (!url)
    return Error{"bad_url", "url: '" + c.url + "' is not http(s)://host[:port]/path", "url"};

  http::request<http::string_body> req{http::string_to_verb(c.method), url->target, 11};
  req.set(http::field::host, url->host);
  req.set(http::field::user_agent, "tocsin");
  for (const auto& [k, v] : c.headers) req.set(k, v);
  req.body() = c.body;
  req.prepare_payload();

  asio::io_context io;
  std::optional<Result<HttpAnswer>> outcome;
  auto deadline = std::chrono::steady_clock::now() + c.timeout;
  auto remaining = [&] {
    return std::max(std::chrono::steady_clock::duration(std::chrono::milliseconds(1)),
                    deadline - std::chrono::steady_clock::now());
  };

  auto exchange = [&](auto& stream, auto& lowest) -> asio::awaitable<void> {
    lowest.expires_after(remaining());
    auto [wec, wn] = co_await http::async_write(stream, req, asio::as_tuple(asio::use_awaitable));
    if (wec) {
      outcome = failure(wec, "write");
      co_return;
    }
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(1 << 20);
    lowest.expires_after(remaining());
    auto [rec, rn] =
        co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
    if (rec) {
      outcome = failure(rec, "read");
      co_return;
    }
    auto& res = parser.get();
    HttpAnswer a;
    a.status = int(res.result_int());
    for (const auto& f : res) {
      std::string name(f.name_string());
      for (char& ch : name) ch = char(std::tolower(static_cast<unsigned char>(ch)));
      a.headers[name] = std::string(f.value());
    }
    a.body = std::move(res.body());
    outcome = std::move(a);
  };

  auto run = [&]() -> asio::awaitable<void> {
    tcp::resolver resolver(io);
    auto [rec, endpoints] =
        co_await resolver.async_resolve(url->host, url->port, asio::as_tuple(asio::use_awaitable));
    if (rec) {
      outcome = failure(rec, "resolve");
      co_return;
    }
    if (!url->tls) {
      beast::tcp_stream stream(io);
      stream.expires_after(remaining());
      auto [cec, ep] =
          co_await stream.async_connect(endpoints, asio::as_tuple(asio::use_awaitable));
      if (cec) {
        outcome = failure(cec, "connect");
        co_return;
      }
      co_await exchange(stream, stream);
      beast::error_code ignored;
      stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
      co_return;
    }
    beast::ssl_stream<beast::tcp_stream> stream(io, impl_->tls);
    if (!is_ip_literal(url->host))
      SSL_set_tlsext_host_name(stream.native_handle(), url->host.c_str());  // SNI
    stream.set_verify_callback(ssl::host_name_verification(url->host));
    auto& lowest = beast::get_lowest_layer(stream);
    lowest.expires_after(remaining());
    auto [cec, ep] = co_await lowest.async_connect(endpoints, asio::as_tuple(asio::use_awaitable));
    if (cec) {
      outcome = failure(cec, "connect");
      co_return;
    }
    lowest.expires_after(remaining());
    auto [hec] = co_await stream.async_handshake(ssl::stream_base::client,
                                                 asio::as_tuple(asio::use_awaitable));
    if (hec) {
      outcome = failure(hec, "tls");
      co_return;
    }
    co_await exchange(stream, lowest);
    lowest.expires_after(std::chrono::seconds(1));
    co_await stream.async_shutdown(asio::as_tuple(asio::use_awaitable));  // errors do not matter
  };

  asio::co_spawn(io, run(), asio::detached);
  io.run();
  if (!outcome) return Error{"io", "the request ended without an answer", ""};
  return std::move(*outcome);
}

std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields) {
  auto enc = [](const std::string& s) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char ch : s) {
      if (std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
        out += char(ch);
      } else if (ch == ' ') {
        out += '+';
      } else {
        out += '%';
        out += hex[ch >> 4];
        out += hex[ch & 15];
      }
    }
    return out;
  };
  std::string out;
  for (const auto& [k, v] : fields) {
    if (!out.empty()) out += '&';
    out += enc(k) + "=" + enc(v);
  }
  return out;
}

bool form_decode(std::string_view body, std::vector<std::pair<std::string, std::string>>& out) {
  auto dec = [](std::string_view s, std::string& to) {
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '+') {
        to += ' ';
      } else if (s[i] == '%') {
        if (i + 2 >= s.size() || !std::isxdigit(static_cast<unsigned char>(s[i + 1])) ||
            !std::isxdigit(static_cast<unsigned char>(s[i + 2])))
          return false;
        to += char(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
        i += 2;
      } else {
        to += s[i];
      }
    }
    return true;
  };
  while (!body.empty()) {
    auto amp = body.find('&');
    std::string_view pair = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    std::string k, v;
    if (!dec(pair.substr(0, eq), k)) return false;
    if (eq != std::string_view::npos && !dec(pair.substr(eq + 1), v)) return false;
    out.emplace_back(std::move(k), std::move(v));
  }
  return true;
}

std::string base64(std::string_view data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(data.data()), int(data.size()));
  out.resize(std::size_t(n));
  return out;
}

namespace {
std::string hmac(const EVP_MD* md, std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(md, key.data(), int(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), mac, &len);
  return std::string(reinterpret_cast<char*>(mac), len);
}
}  // namespace

std::string hmac_sha256_hex(std::string_view key, std::string_view data) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char ch : hmac(EVP_sha256(), key, data)) {
    out += hex[ch >> 4];
    out += hex[ch & 15];
  }
  return out;
}

std::string hmac_sha1_base64(std::string_view key, std::string_view data) {
  return base64(hmac(EVP_sha1(), key, data));
}

bool equal_constant_time(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace tocsin::channels
