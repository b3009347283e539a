#include "broker/settings/config.hpp"

#include "broker/residents/contact_checks.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <regex>

#include "broker/ingest/sensor_keys.hpp"
#include "channels/registry.hpp"
#include "core/yaml_reader.hpp"

namespace tocsin {

namespace {

bool is_zmq_endpoint(const std::string& e) {
  static const std::regex re(R"(^(tcp://[^\s]+:(\d+|\*)|ipc://[^\s]+|inproc://[^\s]+)$)");
  return std::regex_match(e, re);
}

void channel_policy(YamlReader& r, const YAML::Node& n, const std::string& path,
                    dispatchers::ChannelPolicy& p) {
  if (n["rate_per_second"] && r.number(n, path, "rate_per_second", p.rate_per_second) &&
      (p.rate_per_second <= 0 || p.rate_per_second > 100000))
    r.error(n["rate_per_second"].Mark(),
            path + ".rate_per_second: must be over 0 and at most 100000");
  p.burst = p.rate_per_second;
  if (n["burst"] && r.number(n, path, "burst", p.burst) && p.burst < 1)
    r.error(n["burst"].Mark(), path + ".burst: must be at least 1");
  r.integer(n, path, "workers", p.workers, 1, 256);
  r.integer(n, path, "max_attempts", p.max_attempts, 1, 100);
  r.duration(n, path, "max_age", false, p.max_age, std::chrono::seconds(1),
             std::chrono::seconds(7 * 86400));
  std::chrono::seconds s{};
  if (r.duration(n, path, "retry_initial", false, s, std::chrono::seconds(1),
                 std::chrono::seconds(3600)))
    p.backoff_initial = s;
  if (r.duration(n, path, "retry_max", false, s, std::chrono::seconds(1),
                 std::chrono::seconds(86400)))
    p.backoff_max = s;
  r.integer(n, path, "breaker_failures", p.breaker_failures, 1, 1000);
  if (r.duration(n, path, "breaker_cooldown", false, s, std::chrono::seconds(1),
                 std::chrono::seconds(3600)))
    p.breaker_cooldown = s;
  r.string(n, path, "fallback", false, p.fallback);
}

void channels_section(YamlReader& r, const YAML::Node& node, Config& c) {
  if (!node.IsMap()) {
    r.error(node.Mark(), "channels: must be a mapping of channel name to its settings");
    return;
  }
  r.unique_keys(node, "channels");
  for (const auto& kv : node) {
    std::string name = kv.first.Scalar();
    std::string path = "channels." + name;
    const channels::ChannelKind* kind = channels::channel_kind(name);
    if (!kind) {
      std::string list;
      std::vector<std::string> names;
      for (const auto& k : channels::channel_kinds()) {
        list += (list.empty() ? "" : ", ") + std::string(k.name);
        names.emplace_back(k.name);
      }
      r.error(kv.first.Mark(),
              path + ": unknown channel (" + list + ")" + YamlReader::did_you_mean(name, names));
      continue;
    }
    const YAML::Node& n = kv.second;
    if (!n.IsMap() && !n.IsNull()) {
      r.error(n.Mark(), path + ": must be a mapping");
      continue;
    }
    ChannelConfig ch;
    ch.name = name;
    const channels::Provider* provider = &kind->providers.front();
    if (n.IsMap() && n["provider"]) {
      r.string(n, path, "provider", true, ch.provider);
      auto it = std::find_if(kind->providers.begin(), kind->providers.end(),
                             [&](const channels::Provider& p) { return ch.provider == p.name; });
      if (it == kind->providers.end()) {
        std::string list;
        for (const auto& p : kind->providers)
          list += (list.empty() ? "" : ", ") + std::string(p.name);
        r.error(n["provider"].Mark(), path + ".provider: '" + ch.provider + "' does not carry " +
                                          name + " (" + list + ")");
        continue;
      }
      provider = &*it;
    }
    ch.provider = provider->name;
    // The dispatcher's policy keys, the segment limit of an SMS-like channel, the provider's own.
    std::vector<const char*> known = {"provider",         "rate_per_second", "burst",
                                      "workers",          "max_attempts",    "max_age",
                                      "retry_initial",    "retry_max",       "breaker_failures",
                                      "breaker_cooldown", "fallback"};
    if (kind->can.segments > 0) known.push_back("max_segments");
    known.insert(known.end(), provider->keys.begin(), provider->keys.end());
    if (n.IsMap()) r.unique_keys(n, path);
    if (n.IsMap())
      for (const auto& k : n) {
        std::string key = k.first.Scalar();
        if (!YamlReader::allowed(key, known))
          r.error(k.first.Mark(),
                  path + ": unknown key '" + key + "'" +
                      YamlReader::did_you_mean(
                          key, std::vector<std::string>(known.begin(), known.end())));
      }
    if (n.IsMap()) channel_policy(r, n, path, ch.policy);
    ch.policy.max_segments = kind->can.segments;
    if (kind->can.segments > 0 && n.IsMap())
      r.integer(n, path, "max_segments", ch.policy.max_segments, 1, 10);
    channels::SettingsScope scope{name, path, kind->can, c.data_dir, c.config_dir};
    ch.settings = provider->read(r, n, scope);
    c.channels.push_back(std::move(ch));
  }
  for (const auto& ch : c.channels) {
    if (ch.policy.fallback.empty()) continue;
    bool known = std::any_of(c.channels.begin(), c.channels.end(),
                             [&](const ChannelConfig& o) { return o.name == ch.policy.fallback; });
    if (!known || ch.policy.fallback == ch.name)
      r.error(node[ch.name]["fallback"].Mark(), "channels." + ch.name + ".fallback: '" +
                                                    ch.policy.fallback +
                                                    "' is not another configured channel");
  }
}

// The console's files as installed: beside the binary, as the package lays them out
// (/usr/bin/tocsin, /usr/share/tocsin/web), wherever that tree was unpacked.
std::filesystem::path installed_web_dir() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "/usr/share/tocsin/web";
  return (exe.parent_path() / ".." / "share" / "tocsin" / "web").lexically_normal();
}

std::variant<Config, ConfigErrors> read_config(const std::filesystem::path& file, bool with_secrets,
                                               bool residents_key) {
  std::string name = file.string();
  YamlReader r(name);
  if (!with_secrets) r.skip_secrets();
  auto loaded = load_yaml_file(name, 1 << 20, r);
  if (!loaded) return ConfigErrors{r.take()};
  const YAML::Node& root = *loaded;
  Config c;
  c.source_file = name;
  // Relative paths are the config file's neighbours, wherever the server was started from
  // (systemd starts it in /).
  c.config_dir = std::filesystem::absolute(file).parent_path().lexically_normal();
  auto resolve = [&](const std::string& p) { return (c.config_dir / p).lexically_normal(); };
  r.base_dir(c.config_dir);
  if (!r.mapping(root, "",
                 {"node", "storage", "ingest", "http", "redis", "journal", "log", "playbooks",
                  "channels", "silences", "city", "integrations", "residents"}))
    return ConfigErrors{r.take()};

  if (auto node = r.section(root, "", "node", true); node && r.mapping(*node, "node", {"id"})) {
    if (r.string(*node, "node", "id", true, c.node_id)) {
      static const std::regex re("^[a-z0-9][a-z0-9-]{0,62}$");
      if (!std::regex_match(c.node_id, re))
        r.error((*node)["id"].Mark(), "node.id: use 1-63 lower-case letters, digits and '-'");
    }
  }

  if (auto storage = r.section(root, "", "storage", true);
      storage &&
      r.mapping(*storage, "storage",
                {"data_dir", "audit_key", "audit_checkpoints", "audit_checkpoint_interval"})) {
    std::string dir, key, checkpoints;
    if (r.string(*storage, "storage", "data_dir", true, dir)) c.data_dir = resolve(dir);
    r.string(*storage, "storage", "audit_key", false, key);
    r.string(*storage, "storage", "audit_checkpoints", false, checkpoints);
    c.audit.key = key.empty() ? c.data_dir / "audit.key" : resolve(key);
    c.audit.checkpoints =
        checkpoints.empty() ? c.data_dir / "audit.checkpoints" : resolve(checkpoints);
    r.duration(*storage, "storage", "audit_checkpoint_interval", false, c.audit.checkpoint_interval,
               std::chrono::seconds(1), std::chrono::hours(1));
  }

  if (auto ingest = r.section(root, "", "ingest", true);
      ingest &&
      r.mapping(*ingest, "ingest",
                {"zmq", "max_in_flight", "max_in_flight_bytes", "limits", "sources", "storm"})) {
    if (auto storm = r.section(*ingest, "ingest", "storm", false);
        storm &&
        r.mapping(*storm, "ingest.storm", {"per_source_per_minute", "per_type_per_minute"})) {
      r.integer(*storm, "ingest.storm", "per_source_per_minute",
                c.ingest.storm.per_source_per_minute, 0, 1'000'000);
      r.integer(*storm, "ingest.storm", "per_type_per_minute", c.ingest.storm.per_type_per_minute,
                0, 1'000'000);
    }
    std::string sources;
    if (r.string(*ingest, "ingest", "sources", false, sources)) c.ingest.sources = resolve(sources);
    if (auto zmq = r.section(*ingest, "ingest", "zmq", true);
        zmq && r.mapping(*zmq, "ingest.zmq", {"bind", "curve"})) {
      if (auto curve = r.section(*zmq, "ingest.zmq", "curve", false);
          curve && r.mapping(*curve, "ingest.zmq.curve", {"secret_key_env", "sensors"})) {
        auto& k = c.ingest.curve;
        if (!YamlReader::has_secret(*curve, "secret_key_env"))
          r.error(curve->Mark(),
                  "ingest.zmq.curve.secret_key_env: is required (the name of the "
                  "environment variable holding the broker's secret key; or secret_key_file, "
                  "secret_key_credential)");
        r.secret(*curve, "ingest.zmq.curve", "secret_key_env", k.secret_key);
        if (k.secret_key && !is_curve_key(*k.secret_key))
          r.error((*curve)["secret_key_env"] ? (*curve)["secret_key_env"].Mark() : curve->Mark(),
                  "ingest.zmq.curve: the secret key given is not a CURVE secret key "
                  "(40 Z85 characters, as `tocsin keygen` prints)");
        std::string sensors;
        if (r.string(*curve, "ingest.zmq.curve", "sensors", true, sensors))
          k.sensors = resolve(sensors);
      }
      if (r.string(*zmq, "ingest.zmq", "bind", true, c.ingest.zmq_bind) &&
          !is_zmq_endpoint(c.ingest.zmq_bind))
        r.error((*zmq)["bind"].Mark(),
                "ingest.zmq.bind: '" + c.ingest.zmq_bind +
                    "' is not a ZeroMQ endpoint (tcp://host:port, ipc://path)");
    }
    r.integer(*ingest, "ingest", "max_in_flight", c.ingest.max_in_flight, 1, 1'000'000);
    r.integer(*ingest, "ingest", "max_in_flight_bytes", c.ingest.max_in_flight_bytes, 1 << 20,
              std::size_t(4) << 30);
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
      http &&
      r.mapping(*http, "http",
                {"bind", "max_body_bytes", "threads", "feed_max_queue", "auth", "web_dir", "tls",
                 "public_origin", "max_connections", "max_connections_per_address"})) {
    if (r.string(*http, "http", "public_origin", false, c.http.auth.public_origin)) {
      static const std::regex origin_re(R"(^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$)");
      if (!std::regex_match(c.http.auth.public_origin, origin_re))
        r.error((*http)["public_origin"].Mark(),
                "http.public_origin: '" + c.http.auth.public_origin +
                    "' is not an origin (scheme://host[:port], no path), e.g. "
                    "https://alertes.ville.example");
    }
    std::string web;
    if (r.string(*http, "http", "web_dir", false, web))
      c.http.web_dir = resolve(web);
    else
      c.http.web_dir = installed_web_dir();
    // The server's console must be there (not a JSON 404 on /console once it runs).
    if (with_secrets && !std::filesystem::exists(c.http.web_dir / "index.html"))
      r.error(http->IsMap() && (*http)["web_dir"] ? (*http)["web_dir"].Mark() : http->Mark(),
              "http.web_dir: no console in " + c.http.web_dir.string() +
                  " (no index.html); set http.web_dir to the directory of the console's files");
    if (auto tls = r.section(*http, "http", "tls", false);
        tls && r.mapping(*tls, "http.tls", {"certificate", "private_key"})) {
      std::string cert, key;
      // Both required; readable files (their contents are checked when the server starts).
      for (auto [name, value] : {std::pair{"certificate", &cert}, {"private_key", &key}}) {
        if (!r.string(*tls, "http.tls", name, true, *value)) continue;
        std::error_code ec;
        if (!std::filesystem::is_regular_file(*value, ec))
          r.error((*tls)[name].Mark(),
                  std::string("http.tls.") + name + ": no file at '" + *value + "'");
      }
      c.http.tls.certificate = cert.empty() ? "" : resolve(cert);
      c.http.tls.private_key = key.empty() ? "" : resolve(key);
      // Behind TLS, the session cookie says Secure (unless http.auth says otherwise).
      c.http.auth.secure_cookie = !cert.empty();
    }
    if (auto auth = r.section(*http, "http", "auth", false);
        auth && r.mapping(*auth, "http.auth",
                          {"public_metrics", "public_health", "session_ttl", "login_attempts",
                           "login_window", "secure_cookie"})) {
      auto& a = c.http.auth;
      r.boolean(*auth, "http.auth", "public_metrics", c.http.public_metrics);
      r.boolean(*auth, "http.auth", "public_health", c.http.public_health);
      r.duration(*auth, "http.auth", "session_ttl", false, a.session_ttl, std::chrono::minutes(5),
                 std::chrono::hours(24 * 7));
      r.integer(*auth, "http.auth", "login_attempts", a.login_attempts, 1, 1000);
      r.duration(*auth, "http.auth", "login_window", false, a.login_window, std::chrono::seconds(1),
                 std::chrono::hours(24));
      r.boolean(*auth, "http.auth", "secure_cookie", a.secure_cookie);
    }
    std::string bind;
    if (r.string(*http, "http", "bind", true, bind)) {
      if (auto hp = parse_host_port(bind))
        c.http.bind = *hp;
      else
        r.error((*http)["bind"].Mark(), "http.bind: '" + bind + "' is not host:port");
    }
    r.integer(*http, "http", "max_body_bytes", c.http.max_body_bytes, 256, 64 << 20);
    r.integer(*http, "http", "threads", c.http.threads, 1, 64);
    r.integer(*http, "http", "feed_max_queue", c.http.feed_max_queue, 1, 100000);
    r.integer(*http, "http", "max_connections", c.http.max_connections, 1, 1000000);
    r.integer(*http, "http", "max_connections_per_address", c.http.max_connections_per_address, 1,
              1000000);
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

  if (auto city = r.section(root, "", "city", false);
      city && r.mapping(*city, "city", {"time_zone"})) {
    if (r.string(*city, "city", "time_zone", false, c.time_zone)) {
      static const std::regex name("^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$");
      std::error_code ec;
      if (!std::regex_match(c.time_zone, name) || c.time_zone.size() > 64 ||
          !std::filesystem::is_regular_file("/usr/share/zoneinfo/" + c.time_zone, ec))
        r.error((*city)["time_zone"].Mark(),
                "city.time_zone: '" + c.time_zone +
                    "' is not a time zone of the tz database (e.g. America/Montreal, "
                    "Europe/Paris; see /usr/share/zoneinfo)");
    }
  }

  if (auto integrations = r.section(root, "", "integrations", false);
      integrations && r.mapping(*integrations, "integrations", {"alertmanager", "pagerduty"})) {
    // A monitoring tool's severities as CAP's: {value: severity}.
    auto severities = [&](const YAML::Node& parent, const std::string& path,
                          std::map<std::string, std::string>& out) {
      auto map = r.section(parent, path, "severities", false);
      if (!map) return;
      if (!map->IsMap())
        return r.error(map->Mark(), path + ".severities: a mapping of values to severities");
      out.clear();
      for (const auto& kv : *map) {
        std::string value = kv.second.IsScalar() ? kv.second.Scalar() : "";
        if (value != "extreme" && value != "severe" && value != "moderate" && value != "minor" &&
            value != "unknown")
          r.error(kv.second.Mark(), path + ".severities." + kv.first.Scalar() + ": '" + value +
                                        "' is not extreme, severe, moderate, minor or unknown");
        out[kv.first.Scalar()] = value;
      }
    };
    auto type_prefix = [&](const YAML::Node& parent, const std::string& path, std::string& out) {
      if (r.string(parent, path, "type_prefix", false, out) && !is_type_name(out))
        r.error(parent["type_prefix"].Mark(),
                path + ".type_prefix: use dotted lower-case words, e.g. monitoring");
    };
    std::string path = "integrations.alertmanager";
    if (auto am = r.section(*integrations, "integrations", "alertmanager", false);
        am && r.mapping(*am, path,
                        {"source", "type_prefix", "type_label", "severity_label", "severities",
                         "zone_label"})) {
      auto& m = c.alertmanager;
      if (r.string(*am, path, "source", false, m.source) && !is_identifier(m.source))
        r.error((*am)["source"].Mark(),
                path + ".source: use letters, digits, '_', '-', '.', ':', '/' (a report's source)");
      type_prefix(*am, path, m.type_prefix);
      r.string(*am, path, "type_label", false, m.type_label);
      r.string(*am, path, "severity_label", false, m.severity_label);
      r.string(*am, path, "zone_label", false, m.zone_label);
      severities(*am, path, m.severities);
    }
    path = "integrations.pagerduty";
    if (auto pd = r.section(*integrations, "integrations", "pagerduty", false);
        pd && r.mapping(*pd, path, {"type_prefix", "severities", "zone_field"})) {
      type_prefix(*pd, path, c.pagerduty.type_prefix);
      r.string(*pd, path, "zone_field", false, c.pagerduty.zone_field);
      severities(*pd, path, c.pagerduty.severities);
    }
  }

  if (auto res = r.section(root, "", "residents", false);
      res && r.mapping(*res, "residents",
                       {"key_env", "allowed_countries", "max_places", "max_codes_per_day"})) {
    auto& rc = c.residents;
    rc.enabled = true;
    if (!YamlReader::has_secret(*res, "key_env"))
      r.error(res->Mark(),
              "residents.key_file: required: the key that seals residents' contacts, kept "
              "outside the database (make one with: tocsin resident new-key > FILE; chmod 600)");
    if (residents_key) r.skip_secrets(false);
    r.secret(*res, "residents", "key_env", rc.key);
    if (!with_secrets) r.skip_secrets();
    if (rc.key && !SealedBox::from_key_text(*rc.key))
      r.error(res->Mark(),
              "residents.key_file: " + SealedBox::from_key_text(*rc.key).error().message);
    if (r.string_list(*res, "residents", "allowed_countries", false, rc.allowed_countries)) {
      if (rc.allowed_countries.empty())
        r.error((*res)["allowed_countries"].Mark(),
                "residents.allowed_countries: name at least one country (e.g. [CA])");
      for (const auto& code : rc.allowed_countries)
        if (!known_country(code))
          r.error((*res)["allowed_countries"].Mark(),
                  "residents.allowed_countries: '" + code +
                      "' is not a country code of ISO 3166 (e.g. CA, US)");
    }
    r.integer(*res, "residents", "max_places", rc.max_places, std::size_t(1), std::size_t(20));
    r.integer(*res, "residents", "max_codes_per_day", rc.max_codes_per_day, std::size_t(1),
              std::size_t(1000000));
  }

  if (auto silences = r.section(root, "", "silences", false);
      silences && r.mapping(*silences, "silences", {"max_window"}))
    r.duration(*silences, "silences", "max_window", false, c.silences.max_window,
               std::chrono::minutes(1), std::chrono::hours(24 * 90));

  if (auto journal = r.section(root, "", "journal", false);
      journal && r.mapping(*journal, "journal", {"max_batch", "synchronous"})) {
    r.integer(*journal, "journal", "max_batch", c.journal.max_batch, 1, 100000);
    r.choice(*journal, "journal", "synchronous", c.journal.synchronous, {"full", "normal"});
  }

  if (auto pb = r.section(root, "", "playbooks", false);
      pb && r.mapping(*pb, "playbooks", {"dir", "people", "zones", "templates", "schedules"})) {
    c.playbooks.enabled = true;
    std::string v;
    auto path = [&](const char* key, std::filesystem::path& out) {
      if (r.string(*pb, "playbooks", key, true, v)) out = resolve(v);
    };
    path("dir", c.playbooks.dir);
    path("people", c.playbooks.people);
    path("zones", c.playbooks.zones);
    path("templates", c.playbooks.templates);
    if (r.string(*pb, "playbooks", "schedules", false, v) && !v.empty())
      c.playbooks.schedules = resolve(v);  // empty: none
    c.playbooks.time_zone = c.time_zone;
  }

  if (auto channels = r.section(root, "", "channels", false)) channels_section(r, *channels, c);
  for (const auto& ch : c.channels) c.playbooks.channels.emplace_back(ch.name, ch.policy.fallback);

  if (auto log = r.section(root, "", "log", false);
      log && r.mapping(*log, "log", {"level", "format"})) {
    r.choice(*log, "log", "level", c.log_level, {"trace", "debug", "info", "warn", "error", "off"});
    r.choice(*log, "log", "format", c.log_format, {"text", "json", "journal"});
  }

  if (r.failed()) return ConfigErrors{r.take()};
  return c;
}

}  // namespace

// yaml-cpp throws on a node it cannot give (a key that is itself a mapping): an error with its
// place, as any other in the file, never an exception out of check-config or serve.
std::variant<Config, ConfigErrors> load_config(const std::filesystem::path& file, bool with_secrets,
                                               bool residents_key) {
  try {
    return read_config(file, with_secrets, residents_key);
  } catch (const YAML::Exception& e) {
    YamlReader r(file.string());
    r.error(e.mark, "cannot be read here: " + e.msg);
    return ConfigErrors{r.take()};
  }
}

}  // namespace tocsin
