#pragma once
// A small outbound HTTP/1.1 client (Boost.Beast, OpenSSL) for channels that call web APIs: the
// SMS provider, webhooks. Blocking, for the dispatcher's worker threads; every step is bounded by
// the request's timeout. HTTPS verifies the server's certificate and host name. This header stays
// free of Beast and Asio: only http_client.cpp includes them.

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/result.hpp"

namespace tocsin::channels {

struct HttpCall {
  std::string method = "POST";
  std::string url;  // http://host[:port]/path or https://…
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::seconds timeout{10};
};

struct HttpAnswer {
  int status = 0;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
};

class HttpClient {
 public:
  // ca_file: trust only these CAs (PEM); empty: the system's trust store.
  explicit HttpClient(const std::string& ca_file = "");
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Thread-safe. Errors: bad_url, timeout, connect (refused, unreachable, DNS), tls (handshake or
  // certificate), io.
  Result<HttpAnswer> call(const HttpCall& call) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// application/x-www-form-urlencoded, in the order given.
std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields);
// Decodes a form body; false if it is malformed.
bool form_decode(std::string_view body, std::vector<std::pair<std::string, std::string>>& out);
std::string base64(std::string_view data);
std::string hmac_sha256_hex(std::string_view key, std::string_view data);
std::string hmac_sha1_base64(std::string_view key, std::string_view data);
// Compares in time independent of where the texts differ.
bool equal_constant_time(std::string_view a, std::string_view b);

}  // namespace tocsin::channels
