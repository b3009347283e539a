#pragma once
// tocsin.yaml: the server's configuration, validated as a whole before anything uses it.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "broker/api/auth.hpp"
#include "broker/ingest/monitoring.hpp"
#include "broker/journal/journal.hpp"
#include "broker/residents/registry.hpp"
#include "broker/runs/playbook_library.hpp"
#include "broker/watch/silences.hpp"
#include "channels/registry.hpp"
#include "core/host_port.hpp"
#include "core/incident.hpp"
#include "dispatchers/dispatcher.hpp"

namespace tocsin {

struct RedisConfig {
  enum class Mode { managed, external };
  Mode mode = Mode::managed;
  std::string url;                             // external: redis://host:port[/db] or unix:///path
  std::optional<std::string> password;         // read from the variable named by redis.password_env
  std::string server_binary = "redis-server";  // managed mode
};

// A channel as tocsin.yaml configures it: which provider carries it, the provider's settings
// (channels/registry.hpp: each provider reads its own) and the dispatcher's policy (rate,
// retries, fallback).
struct ChannelConfig {
  std::string name;      // sms, email, console, websocket, webhook, cap, siren
  std::string provider;  // outbox, twilio, smtp, http, modbus, live
  std::shared_ptr<const channels::ProviderSettings> settings;  // builds the channel
  dispatchers::ChannelPolicy policy;
};

struct Config {
  std::string source_file;
  std::filesystem::path config_dir;  // the file's directory: relative paths resolve against it
  std::string node_id;
  std::filesystem::path data_dir;
  // The audit chain's key and checkpoints, outside the database (default: in data_dir; put them
  // on another disk, or the key in a systemd credential, to keep them from whoever has the
  // database).
  struct {
    std::filesystem::path key;          // default data_dir/audit.key, made at first start
    std::filesystem::path checkpoints;  // default data_dir/audit.checkpoints
    std::chrono::seconds checkpoint_interval{60};
  } audit;
  std::string log_level = "info";
  std::string log_format = "text";  // text | json | journal (broker/logging.hpp)
  struct {
    std::string zmq_bind;
    std::size_t max_in_flight = 20000;  // past this, the broker stops reading (back-pressure)
    std::size_t max_in_flight_bytes = 64 << 20;  // so too past this many bytes of them
    std::filesystem::path sources;  // expected sources and their heartbeats; empty: none
    StormLimits storm;              // new incidents per source / type per minute; 0: none
    struct {
      std::optional<std::string> secret_key;  // the broker's, Z85, from the environment; set: on
      std::filesystem::path sensors;  // the sensors' public keys (broker/ingest/sensor_keys.hpp)
    } curve;                          // CurveZMQ: sensors authenticated and encrypted
  } ingest;
  IncidentLimits limits;
  struct {
    HostPort bind;
    std::size_t max_body_bytes = 64 * 1024;
    int threads = 1;
    std::size_t feed_max_queue = 256;    // live-feed messages a WebSocket client may fall behind
    std::size_t max_connections = 8192;  // open at once, HTTP and WebSocket
    std::size_t max_connections_per_address = 1024;
    AuthOptions auth;
    std::filesystem::path
        web_dir;                 // the console's files; default: ../share/tocsin/web of the binary
    bool public_metrics = true;  // GET /metrics without a token (a scraper on a trusted network)
    bool public_health = true;   // GET /health without a token (a load balancer's probe)
    struct {
      std::filesystem::path certificate;  // PEM, the chain; empty: plain HTTP
      std::filesystem::path private_key;  // PEM
    } tls;
  } http;
  RedisConfig redis;
  PlaybookSources playbooks;  // and the channels configured, each with its fallback
  std::vector<ChannelConfig> channels;
  SilenceLimits silences;  // maintenance windows: max_window
  // The city's time zone (an IANA name of the tz database, /usr/share/zoneinfo): the console
  // shows every time in it, whatever the browser's own.
  std::string time_zone = "UTC";
  AlertmanagerMapping alertmanager;  // integrations.alertmanager: labels to type, severity, zone
  PagerDutyMapping pagerduty;        // integrations.pagerduty: class to type, severities, zone
  ResidentsConfig residents;  // residents: the key that seals their contacts, countries, limits
  struct {
    std::size_t max_batch = 4096;
    std::string synchronous = "full";  // SQLite PRAGMA synchronous: full or normal
  } journal;
};

// Every problem found, each "file:line:column: message".
struct ConfigErrors {
  std::vector<std::string> errors;
};

// Loads and validates a configuration file. Relative paths (data_dir, playbooks, files) are
// resolved against the file's own directory, not the current one. On any error nothing is
// returned but the list of errors. `with_secrets` false: the secrets' environment variables are
// not read (nor required), nor the console's files looked for: for the CLI's tools (users,
// tokens, silences, the audit trail), which need none of them.
// `residents_key`: with secrets off, the residents' key is read all the same (tocsin resident).
std::variant<Config, ConfigErrors> load_config(const std::filesystem::path& file,
                                               bool with_secrets = true,
                                               bool residents_key = false);

}  // namespace tocsin
