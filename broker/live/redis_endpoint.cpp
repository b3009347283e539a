#include "broker/live/redis_endpoint.hpp"

#include "core/host_port.hpp"

namespace tocsin {

std::string RedisEndpoint::describe() const {
  if (!unix_path.empty()) return "unix://" + unix_path;
  return "redis://" + host + ":" + std::to_string(port) + "/" + std::to_string(db);
}

std::optional<RedisEndpoint> parse_redis_url(const std::string& url) {
  RedisEndpoint e;
  if (url.rfind("unix://", 0) == 0) {
    std::string rest = url.substr(7);
    auto q = rest.find("?db=");
    if (q != std::string::npos) {
      try {
        e.db = std::stoi(rest.substr(q + 4));
      } catch (...) {
        return std::nullopt;
      }
      rest.resize(q);
    }
    if (rest.empty() || rest.front() != '/') return std::nullopt;
    e.unix_path = rest;
    return e;
  }
  if (url.rfind("redis://", 0) != 0) return std::nullopt;
  std::string rest = url.substr(8);
  auto at = rest.rfind('@');
  if (at != std::string::npos) {
    std::string auth = rest.substr(0, at);
    auto colon = auth.find(':');
    e.password = colon == std::string::npos ? auth : auth.substr(colon + 1);
    rest = rest.substr(at + 1);
  }
  auto slash = rest.find('/');
  if (slash != std::string::npos) {
    std::string db = rest.substr(slash + 1);
    if (!db.empty()) {
      try {
        e.db = std::stoi(db);
      } catch (...) {
        return std::nullopt;
      }
    }
    rest.resize(slash);
  }
  if (rest.find(':') == std::string::npos) rest += ":6379";
  auto hp = parse_host_port(rest);
  if (!hp || hp->host.empty()) return std::nullopt;
  e.host = hp->host;
  e.port = hp->port;
  return e;
}

}  // namespace tocsin
