#include "broker/settings/config.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <regex>

#include "broker/ingest/sensor_keys.hpp"
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

const char* const kChannelNames[] = {"sms",     "email", "console", "websocket",
                                     "webhook", "cap",   "siren"};

// The providers each channel may use; the first is the default.
std::vector<std::string> providers_of(const std::string& channel) {
  if (channel == "sms") return {"twilio", "outbox"};
  if (channel == "email") return {"smtp", "outbox"};
  if (channel == "webhook") return {"http", "outbox"};
  if (channel == "siren") return {"modbus", "outbox"};
  if (channel == "console" || channel == "websocket") return {"live", "outbox"};  // live: /ws/…
  return {"outbox"};                                                              // cap
}

void channels_section(YamlReader& r, const YAML::Node& node, Config& c) {
  if (!node.IsMap()) {
    r.error(node.Mark(), "channels: must be a mapping of channel name to its settings");
    return;
  }
  for (const auto& kv : node) {
    std::string name = kv.first.Scalar();
    std::string path = "channels." + name;
    if (std::find(std::begin(kChannelNames), std::end(kChannelNames), name) ==
        std::end(kChannelNames)) {
      r.error(kv.first.Mark(), path +
                                   ": unknown channel (sms, email, console, websocket, "
                                   "webhook, cap, siren)");
      continue;
    }
    const YAML::Node& n = kv.second;
    ChannelConfig ch;
    ch.name = name;
    auto providers = providers_of(name);
    ch.provider = providers.front();
    if (n.IsMap() && n["provider"]) {
      r.string(n, path, "provider", true, ch.provider);
      if (std::find(providers.begin(), providers.end(), ch.provider) == providers.end()) {
        std::string list;
        for (const auto& p : providers) list += (list.empty() ? "" : ", ") + p;
        r.error(n["provider"].Mark(), path + ".provider: '" + ch.provider + "' does not carry " +
                                          name + " (" + list + ")");
        continue;
      }
    }
    std::initializer_list<const char*> policy_keys = {
        "provider",         "rate_per_second",  "burst",         "workers",
        "max_attempts",     "max_age",          "retry_initial", "retry_max",
        "breaker_failures", "breaker_cooldown", "fallback",      "max_segments"};
    auto keys = [&](std::initializer_list<const char*> own) {
      std::vector<const char*> all(policy_keys);
      all.insert(all.end(), own.begin(), own.end());
      // YamlReader::mapping takes an initializer_list: check the unknown keys here.
      for (const auto& k : n) {
        std::string key = k.first.Scalar();
        if (std::none_of(all.begin(), all.end(), [&](const char* a) { return key == a; }))
          r.error(k.first.Mark(), path + ": unknown key '" + key + "'");
      }
    };
    if (!n.IsMap() && !n.IsNull()) {
      r.error(n.Mark(), path + ": must be a mapping");
      continue;
    }
    if (n.IsMap()) channel_policy(r, n, path, ch.policy);
    if (name == "sms" && n.IsMap())
      r.integer(n, path, "max_segments", ch.policy.max_segments, 1, 10);
    else if (name == "sms")
      ch.policy.max_segments = 3;
    auto timeout = [&](std::chrono::seconds& t) {
      r.duration(n, path, "timeout", false, t, std::chrono::seconds(1), std::chrono::seconds(300));
    };
    if (ch.provider == "outbox") {
      keys({"file"});
      OutboxSettings o;
      std::string file;
      if (n.IsMap() && r.string(n, path, "file", false, file))
        o.file = std::filesystem::absolute(file);
      ch.settings = o;
    } else if (ch.provider == "twilio") {
      keys({"api_base", "account_sid", "auth_token_env", "from", "status_callback", "ca_file",
            "timeout"});
      TwilioSettings t;
      r.string(n, path, "api_base", false, t.api_base);
      if (t.api_base.rfind("https://", 0) != 0)
        r.error(n["api_base"].Mark(), path + ".api_base: must start with https://");
      r.string(n, path, "account_sid", true, t.account_sid);
      if (!n["auth_token_env"])
        r.error(n.Mark(), "missing required key '" + path + ".auth_token_env'");
      r.secret(n, path, "auth_token_env", t.auth_token);
      if (r.string(n, path, "from", true, t.from) && (t.from.empty() || t.from[0] != '+'))
        r.error(n["from"].Mark(), path + ".from: an E.164 number, like +15145550100");
      r.string(n, path, "status_callback", false, t.status_callback);
      r.string(n, path, "ca_file", false, t.ca_file);
      timeout(t.timeout);
      ch.settings = t;
    } else if (ch.provider == "smtp") {
      keys({"url", "from", "starttls", "username", "password_env", "ca_file", "unsubscribe_url",
            "timeout"});
      SmtpSettings m;
      if (r.string(n, path, "url", true, m.url) && m.url.rfind("smtp://", 0) != 0 &&
          m.url.rfind("smtps://", 0) != 0)
        r.error(n["url"].Mark(), path + ".url: must start with smtp:// or smtps://");
      r.string(n, path, "from", true, m.from);
      r.choice(n, path, "starttls", m.starttls, {"required", "optional", "off"});
      r.string(n, path, "username", false, m.username);
      r.secret(n, path, "password_env", m.password);
      r.string(n, path, "ca_file", false, m.ca_file);
      r.string(n, path, "unsubscribe_url", false, m.unsubscribe_url);
      timeout(m.timeout);
      ch.settings = m;
    } else if (ch.provider == "http") {
      keys({"url", "secret_env", "ca_file", "timeout"});
      WebhookSettings w;
      if (r.string(n, path, "url", true, w.url) && w.url.rfind("https://", 0) != 0 &&
          w.url.rfind("http://", 0) != 0)
        r.error(n["url"].Mark(), path + ".url: must start with https:// or http://");
      r.secret(n, path, "secret_env", w.secret);
      r.string(n, path, "ca_file", false, w.ca_file);
      timeout(w.timeout);
      ch.settings = w;
    } else if (ch.provider == "modbus") {
      keys({"controllers", "poll_interval", "timeout"});
      SirenSettings sr;
      r.duration(n, path, "poll_interval", false, sr.poll_interval, std::chrono::seconds(1),
                 std::chrono::seconds(3600));
      timeout(sr.timeout);
      if (auto list = r.section(n, path, "controllers", true)) {
        if (!list->IsSequence()) r.error(list->Mark(), path + ".controllers: must be a list");
        std::size_t i = 0;
        for (const auto& item : *list) {
          std::string cp = path + ".controllers[" + std::to_string(i++) + "]";
          if (!r.mapping(item, cp, {"id", "endpoint", "unit_id", "zones", "profile"})) continue;
          SirenControllerConfig sc;
          r.string(item, cp, "id", true, sc.id);
          std::string ep;
          if (r.string(item, cp, "endpoint", true, ep)) {
            if (auto hp = parse_host_port(ep))
              sc.endpoint = *hp;
            else
              r.error(item["endpoint"].Mark(), cp + ".endpoint: '" + ep + "' is not host:port");
          }
          r.integer(item, cp, "unit_id", sc.unit_id, 0, 247);
          r.string_list(item, cp, "zones", true, sc.zones);
          r.choice(item, cp, "profile", sc.profile, {"default", "federal-signal"});
          sr.controllers.push_back(std::move(sc));
        }
      }
      ch.settings = sr;
    } else {  // live
      keys({});
      ch.settings = LiveSettings{};
    }
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

}  // namespace

std::variant<Config, ConfigErrors> load_config(const std::filesystem::path& file,
                                               bool with_secrets) {
  std::string name = file.string();
  YamlReader r(name);
  if (!with_secrets) r.skip_secrets();
  auto loaded = load_yaml_file(name, 1 << 20, r);
  if (!loaded) return ConfigErrors{r.take()};
  const YAML::Node& root = *loaded;
  Config c;
  c.source_file = name;
  if (!r.mapping(root, "",
                 {"node", "storage", "ingest", "http", "redis", "journal", "log", "playbooks",
                  "channels", "silences"}))
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
      ingest &&
      r.mapping(*ingest, "ingest", {"zmq", "max_in_flight", "limits", "sources", "storm"})) {
    if (auto storm = r.section(*ingest, "ingest", "storm", false);
        storm &&
        r.mapping(*storm, "ingest.storm", {"per_source_per_minute", "per_type_per_minute"})) {
      r.integer(*storm, "ingest.storm", "per_source_per_minute",
                c.ingest.storm.per_source_per_minute, 0, 1'000'000);
      r.integer(*storm, "ingest.storm", "per_type_per_minute", c.ingest.storm.per_type_per_minute,
                0, 1'000'000);
    }
    std::string sources;
    if (r.string(*ingest, "ingest", "sources", false, sources))
      c.ingest.sources = std::filesystem::absolute(sources);
    if (auto zmq = r.section(*ingest, "ingest", "zmq", true);
        zmq && r.mapping(*zmq, "ingest.zmq", {"bind", "curve"})) {
      if (auto curve = r.section(*zmq, "ingest.zmq", "curve", false);
          curve && r.mapping(*curve, "ingest.zmq.curve", {"secret_key_env", "sensors"})) {
        auto& k = c.ingest.curve;
        if (!(*curve)["secret_key_env"])
          r.error(curve->Mark(),
                  "ingest.zmq.curve.secret_key_env: is required (the name of the "
                  "environment variable holding the broker's secret key)");
        r.secret(*curve, "ingest.zmq.curve", "secret_key_env", k.secret_key);
        if (k.secret_key && !is_curve_key(*k.secret_key))
          r.error((*curve)["secret_key_env"].Mark(),
                  "ingest.zmq.curve.secret_key_env: the variable does not hold a CURVE secret key "
                  "(40 Z85 characters, as `tocsin keygen` prints)");
        std::string sensors;
        if (r.string(*curve, "ingest.zmq.curve", "sensors", true, sensors))
          k.sensors = std::filesystem::absolute(sensors);
      }
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
      http && r.mapping(*http, "http",
                        {"bind", "max_body_bytes", "threads", "feed_max_queue", "auth", "web_dir",
                         "tls"})) {
    std::string web = "web";
    r.string(*http, "http", "web_dir", false, web);
    c.http.web_dir = std::filesystem::absolute(web);
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
      c.http.tls.certificate = cert.empty() ? "" : std::filesystem::absolute(cert);
      c.http.tls.private_key = key.empty() ? "" : std::filesystem::absolute(key);
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

  if (auto channels = r.section(root, "", "channels", false)) channels_section(r, *channels, c);
  for (auto& ch : c.channels)
    if (auto* o = std::get_if<OutboxSettings>(&ch.settings); o && o->file.empty())
      o->file = c.data_dir / "outbox" / (ch.name + ".jsonl");

  if (auto log = r.section(root, "", "log", false); log && r.mapping(*log, "log", {"level"})) {
    r.choice(*log, "log", "level", c.log_level, {"trace", "debug", "info", "warn", "error", "off"});
  }

  if (r.failed()) return ConfigErrors{r.take()};
  return c;
}

}  // namespace tocsin
