#pragma once
// A host and a TCP port, as the configuration writes them: "127.0.0.1:8080", "[::1]:502",
// "siren-3.ville.example:502".

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tocsin {

struct HostPort {
  std::string host;
  std::uint16_t port = 0;
};

// nullopt: not host:port with a port of 0-65535.
std::optional<HostPort> parse_host_port(std::string_view text);

}  // namespace tocsin
