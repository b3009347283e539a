#pragma once
// tocsin.yaml: the server's configuration, validated as a whole before anything uses it.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/incident.hpp"

namespace tocsin {

struct HostPort {
  std::string host;
  std::uint16_t port = 0;
};

struct RedisConfig {
  enum class Mode { managed, external };
  Mode mode = Mode::managed;
  std::string url;                             // external: redis://host:port[/db] or unix:///path
  std::optional<std::string> password;         // read from the variable named by redis.password_env
  std::string server_binary = "redis-server";  // managed mode
};

struct Config {
  std::string source_file;
  std::string node_id;
  std::filesystem::path data_dir;
  std::string log_level = "info";
  struct {
    std::string zmq_bind;
    std::size_t max_in_flight = 20000;  // past this, the broker stops reading (back-pressure)
  } ingest;
  IncidentLimits limits;
  struct {
    HostPort bind;
    std::size_t max_body_bytes = 64 * 1024;
    int threads = 1;
  } http;
  RedisConfig redis;
  struct {
    bool enabled = false;  // the section is present
    std::filesystem::path dir, people, zones, templates;
  } playbooks;
  struct {
    std::size_t max_batch = 4096;
    std::string synchronous = "full";  // SQLite PRAGMA synchronous: full or normal
  } journal;
};

// Every problem found, each "file:line:column: message".
struct ConfigErrors {
  std::vector<std::string> errors;
};

// Loads and validates a configuration file. Relative paths (data_dir) are resolved against the
// current directory. On any error nothing is returned but the list of errors.
std::variant<Config, ConfigErrors> load_config(const std::filesystem::path& file);

std::optional<HostPort> parse_host_port(std::string_view text);

}  // namespace tocsin
