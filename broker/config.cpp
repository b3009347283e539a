#include "broker/config.hpp"

#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <regex>

#include "core/yaml_reader.hpp"

namespace tocsin {

std::optional<HostPort> parse_host_port(std::string_view text) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  std::string host(text.substr(0, colon));
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  std::string_view port = text.substr(colon + 1);
  if (port.empty() || port.size() > 5) return std::nullopt;
  unsigned value = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + unsigned(c - '0');
  }
  if (value > 65535) return std::nullopt;
  return HostPort{host, static_cast<std::uint16_t>(value)};
}

namespace {

bool is_zmq_endpoint(const std::string& e) {
  static const std::regex re(R"(^(tcp://[^\s]+:(\d+|\*)|ipc://[^\s]+|inproc://[^\s]+)$)");
  return std::regex_match(e, re);
}

}  // namespace

std::variant<Config, ConfigErrors> load_config(const std::filesystem::path& file) {
  std::string name = file.string();
  YamlReader r(name);
  auto loaded = load_yaml_file(name, 1 << 20, r);
  if (!loaded) return ConfigErrors{r.take()};
  const YAML::Node& root = *loaded;
  Config c;
  c.source_file = name;
  if (!r.mapping(root, "",
                 {"node", "storage", "ingest", "http", "redis", "journal", "log", "playbooks"}))
    return ConfigErrors{r.take()};

  if (auto node = r.section(root, "", "node", true); node && r.mapping(*node, "node", {"id"})) {
    if (r.string(*node, "node", "id", true, c.node_id)) {
      static const std::regex re("^[a-z0-9][a-z0-9-]{0,62}$");
      if (!std::regex_match(c.node_id, re))
        r.error((*node)["id"].Mark(), "node.id: use 1-63 lower-case letters, digits and '-'");
    }
  }

  if (auto storage = r.section(root, "", "storage", true);
      storage && r.mapping(*storage, "storage", {"data_dir"})) {
    std::string dir;
    if (r.string(*storage, "storage", "data_dir", true, dir))
      c.data_dir = std::filesystem::absolute(dir);
  }

  if (auto ingest = r.section(root, "", "ingest", true);
      ingest && r.mapping(*ingest, "ingest", {"zmq", "max_in_flight", "limits"})) {
    if (auto zmq = r.section(*ingest, "ingest", "zmq", true);
        zmq && r.mapping(*zmq, "ingest.zmq", {"bind"})) {
      if (r.string(*zmq, "ingest.zmq", "bind", true, c.ingest.zmq_bind) &&
          !is_zmq_endpoint(c.ingest.zmq_bind))
        r.error((*zmq)["bind"].Mark(),
                "ingest.zmq.bind: '" + c.ingest.zmq_bind +
                    "' is not a ZeroMQ endpoint (tcp://host:port, ipc://path)");
    }
    r.integer(*ingest, "ingest", "max_in_flight", c.ingest.max_in_flight, 1, 1'000'000);
    if (auto lim = r.section(*ingest, "ingest", "limits", false);
        lim && r.mapping(*lim, "ingest.limits",
                         {"max_bytes", "max_depth", "max_attributes", "max_string", "max_headline",
                          "max_description", "max_polygon_points"})) {
      auto& l = c.limits;
      r.integer(*lim, "ingest.limits", "max_bytes", l.max_bytes, 256, 16 << 20);
      r.integer(*lim, "ingest.limits", "max_depth", l.max_depth, 3, 64);
      r.integer(*lim, "ingest.limits", "max_attributes", l.max_attributes, 0, 10000);
      r.integer(*lim, "ingest.limits", "max_string", l.max_string, 16, 1 << 20);
      r.integer(*lim, "ingest.limits", "max_headline", l.max_headline, 16, 1 << 20);
      r.integer(*lim, "ingest.limits", "max_description", l.max_description, 16, 1 << 24);
      r.integer(*lim, "ingest.limits", "max_polygon_points", l.max_polygon_points, 4, 1 << 20);
    }
  }

  if (auto http = r.section(root, "", "http", true);
      http && r.mapping(*http, "http", {"bind", "max_body_bytes", "threads"})) {
    std::string bind;
    if (r.string(*http, "http", "bind", true, bind)) {
      if (auto hp = parse_host_port(bind))
        c.http.bind = *hp;
      else
        r.error((*http)["bind"].Mark(), "http.bind: '" + bind + "' is not host:port");
    }
    r.integer(*http, "http", "max_body_bytes", c.http.max_body_bytes, 256, 64 << 20);
    r.integer(*http, "http", "threads", c.http.threads, 1, 64);
  }

  if (auto redis = r.section(root, "", "redis", false);
      redis && r.mapping(*redis, "redis", {"mode", "url", "password_env", "server_binary"})) {
    std::string mode = "managed";
    r.choice(*redis, "redis", "mode", mode, {"managed", "external"});
    c.redis.mode = mode == "external" ? RedisConfig::Mode::external : RedisConfig::Mode::managed;
    bool has_url = r.string(*redis, "redis", "url", false, c.redis.url);
    if (c.redis.mode == RedisConfig::Mode::external) {
      if (!has_url)
        r.error((*redis).Mark(), "missing required key 'redis.url' (redis.mode is external)");
      else if (c.redis.url.rfind("redis://", 0) != 0 && c.redis.url.rfind("unix://", 0) != 0)
        r.error((*redis)["url"].Mark(),
                "redis.url: '" + c.redis.url + "' must start with redis:// or unix://");
    }
    r.secret(*redis, "redis", "password_env", c.redis.password);
    r.string(*redis, "redis", "server_binary", false, c.redis.server_binary);
  }

  if (auto journal = r.section(root, "", "journal", false);
      journal && r.mapping(*journal, "journal", {"max_batch", "synchronous"})) {
    r.integer(*journal, "journal", "max_batch", c.journal.max_batch, 1, 100000);
    r.choice(*journal, "journal", "synchronous", c.journal.synchronous, {"full", "normal"});
  }

  if (auto pb = r.section(root, "", "playbooks", false);
      pb && r.mapping(*pb, "playbooks", {"dir", "people", "zones", "templates"})) {
    c.playbooks.enabled = true;
    std::string v;
    auto path = [&](const char* key, std::filesystem::path& out) {
      if (r.string(*pb, "playbooks", key, true, v)) out = std::filesystem::absolute(v);
    };
    path("dir", c.playbooks.dir);
    path("people", c.playbooks.people);
    path("zones", c.playbooks.zones);
    path("templates", c.playbooks.templates);
  }

  if (auto log = r.section(root, "", "log", false); log && r.mapping(*log, "log", {"level"})) {
    r.choice(*log, "log", "level", c.log_level, {"trace", "debug", "info", "warn", "error", "off"});
  }

  if (r.failed()) return ConfigErrors{r.take()};
  return c;
}

}  // namespace tocsin
