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
#include "broker/journal/journal.hpp"
#include "broker/watch/silences.hpp"
#include "core/incident.hpp"
#include "dispatchers/dispatcher.hpp"

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

// A channel as tocsin.yaml configures it: which provider carries it, and the dispatcher's policy
// (rate, retries, fallback). Each provider's own settings are in its struct.
struct OutboxSettings {
  std::filesystem::path file;  // default: <data_dir>/outbox/<channel>.jsonl
};
struct TwilioSettings {
  std::string api_base = "https://api.twilio.com";
  std::string account_sid;
  std::optional<std::string> auth_token;  // from auth_token_env
  std::string from;                       // E.164 sender
  std::string status_callback;            // public URL of POST /api/v1/receipts/sms, or empty
  std::string ca_file;                    // trust these CAs instead of the system's
  std::chrono::seconds timeout{10};
};
struct SmtpSettings {
  std::string url;  // smtp://host:port or smtps://host:port
  std::string from;
  std::string starttls = "required";  // required | optional | off
  std::string username;
  std::optional<std::string> password;  // from password_env
  std::string ca_file;
  std::string unsubscribe_url;  // List-Unsubscribe for public alerts
  std::chrono::seconds timeout{20};
};
struct WebhookSettings {
  std::string url;
  std::optional<std::string> secret;  // HMAC-SHA256 key, from secret_env
  std::string ca_file;
  std::chrono::seconds timeout{10};
};
struct SirenControllerConfig {
  std::string id;
  HostPort endpoint;
  int unit_id = 1;
  std::vector<std::string> zones;
  std::string profile = "default";
};
struct SirenSettings {
  std::vector<SirenControllerConfig> controllers;
  std::chrono::seconds poll_interval{10};
  std::chrono::seconds timeout{2};
};
struct LiveSettings {};  // console and websocket: the broker's own WebSocket sessions

struct ChannelConfig {
  std::string name;      // sms, email, console, websocket, webhook, cap, siren
  std::string provider;  // outbox, twilio, smtp, http, modbus, live
  std::variant<OutboxSettings, TwilioSettings, SmtpSettings, WebhookSettings, SirenSettings,
               LiveSettings>
      settings;
  dispatchers::ChannelPolicy policy;
};

struct Config {
  std::string source_file;
  std::string node_id;
  std::filesystem::path data_dir;
  std::string log_level = "info";
  struct {
    std::string zmq_bind;
    std::size_t max_in_flight = 20000;  // past this, the broker stops reading (back-pressure)
    std::filesystem::path sources;      // expected sources and their heartbeats; empty: none
    StormLimits storm;                  // new incidents per source / type per minute; 0: none
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
    std::size_t feed_max_queue = 256;  // live-feed messages a WebSocket client may fall behind
    AuthOptions auth;
    std::filesystem::path web_dir;  // the console's static files; default: ./web
    bool public_metrics = true;     // GET /metrics without a token (a scraper on a trusted network)
    bool public_health = true;      // GET /health without a token (a load balancer's probe)
    struct {
      std::filesystem::path certificate;  // PEM, the chain; empty: plain HTTP
      std::filesystem::path private_key;  // PEM
    } tls;
  } http;
  RedisConfig redis;
  struct {
    bool enabled = false;  // the section is present
    std::filesystem::path dir, people, zones, templates;
  } playbooks;
  std::vector<ChannelConfig> channels;
  SilenceLimits silences;  // maintenance windows: max_window
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
// `with_secrets` false: the secrets' environment variables are not read (nor required): for the
// CLI's tools (users, tokens, silences, the audit trail), which need none of them.
std::variant<Config, ConfigErrors> load_config(const std::filesystem::path& file,
                                               bool with_secrets = true);

std::optional<HostPort> parse_host_port(std::string_view text);

}  // namespace tocsin
