#pragma once
// Where Redis is: parsed from redis://[:password@]host:port[/db] or unix:///path[?db=N].

#include <cstdint>
#include <optional>
#include <string>

namespace tocsin {

struct RedisEndpoint {
  std::string unix_path;  // set for unix sockets
  std::string host;
  std::uint16_t port = 6379;
  int db = 0;
  std::optional<std::string> password;

  std::string describe() const;  // for logs: never includes the password
};

std::optional<RedisEndpoint> parse_redis_url(const std::string& url);

}  // namespace tocsin
