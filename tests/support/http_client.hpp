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

}  // namespace tocsin::test
