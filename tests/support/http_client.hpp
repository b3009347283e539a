#pragma once
// A minimal blocking HTTP/1.1 client over a real TCP socket (one request per connection).

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace tocsin::test {

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

// Returns nullopt if the connection fails or no complete response arrives.
std::optional<HttpResponse> http_request(std::uint16_t port, const std::string& method,
                                         const std::string& target, const std::string& body = "",
                                         const std::string& content_type = "application/json",
                                         const std::map<std::string, std::string>& extra = {});

// Raw TCP, for what a well-behaved client would not do (hold a connection, send HEAD, come from
// another loopback address: 127.0.0.0/8 is all local). -1 if it cannot connect.
int connect_from(const char* source, std::uint16_t port);
// Sends `request` and reads until the server closes, the time is up (5 s of silence), or a
// 101 Switching Protocols' header has ended; "" when nothing came.
std::string exchange(int fd, const std::string& request);
// One request on a connection of its own; the whole answer as sent.
std::string raw_request(std::uint16_t port, const std::string& method, const std::string& path);

}  // namespace tocsin::test
