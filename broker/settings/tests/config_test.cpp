#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>

#include "broker/settings/config.hpp"
#include "tests/support/temp_dir.hpp"

using namespace tocsin;
using tocsin::test::TempDir;

namespace {

const char* kValid = R"(node:
  id: node-1
storage:
  data_dir: var/x
ingest:
  zmq:
    bind: tcp://127.0.0.1:5555
http:
  bind: 127.0.0.1:8080
  web_dir: )" TOCSIN_SOURCE_DIR R"(/web
redis:
  mode: managed
)";

std::vector<std::string> errors_of(const TempDir& dir, const std::string& yaml) {
  auto file = dir.path() / "tocsin.yaml";
  std::ofstream(file) << yaml;
  auto r = load_config(file);
  if (auto* e = std::get_if<ConfigErrors>(&r)) return e->errors;
  return {};
}

}  // namespace

TEST_CASE("the shipped configuration is valid") {
  auto r = load_config(std::filesystem::path(TOCSIN_SOURCE_DIR) / "config/tocsin.yaml");
  REQUIRE(std::holds_alternative<Config>(r));
  const Config& c = std::get<Config>(r);
  CHECK(c.node_id == "node-1");
  CHECK(c.redis.mode == RedisConfig::Mode::managed);
  CHECK(c.http.bind.port == 8080);
  CHECK(c.time_zone == "America/Montreal");
}

TEST_CASE("integrations.alertmanager maps labels, and says which value is wrong") {
  TempDir dir;
  auto file = dir.path() / "tocsin.yaml";
  std::ofstream(file) << kValid
                      << "integrations:\n  alertmanager:\n    source: prometheus-eoc\n"
                         "    type_label: service\n    severities: { P1: extreme, P2: severe }\n";
  auto r = load_config(file);
  REQUIRE(std::holds_alternative<Config>(r));
  const auto& m = std::get<Config>(r).alertmanager;
  CHECK(m.source == "prometheus-eoc");
  CHECK(m.type_label == "service");
  CHECK(m.severity_label == "severity");  // the default
  CHECK(m.severities == std::map<std::string, std::string>{{"P1", "extreme"}, {"P2", "severe"}});
  auto e = errors_of(dir, std::string(kValid) +
                              "integrations:\n  alertmanager:\n    severities: { P1: dire }\n"
                              "    source: a b\n");
  REQUIRE(e.size() == 2);
  CHECK(e[0].find("integrations.alertmanager.source: use letters") != std::string::npos);
  CHECK(e[1].find("integrations.alertmanager.severities.P1: 'dire' is not extreme") !=
        std::string::npos);
}

TEST_CASE("city.time_zone is a zone of the tz database, else an error at its line") {
  TempDir dir;
  auto file = dir.path() / "tocsin.yaml";
  std::ofstream(file) << kValid;
  auto r = load_config(file);
  REQUIRE(std::holds_alternative<Config>(r));
  CHECK(std::get<Config>(r).time_zone == "UTC");  // unset: UTC
  for (const char* zone : {"Europe/Paris", "America/Argentina/Buenos_Aires", "UTC"})
    CHECK(errors_of(dir, std::string(kValid) + "city:\n  time_zone: " + zone + "\n").empty());
  for (const char* zone : {"Mars/Olympus_Mons", "../../etc/passwd", "America", "/etc/localtime"}) {
    auto e = errors_of(dir, std::string(kValid) + "city:\n  time_zone: " + zone + "\n");
    REQUIRE(e.size() == 1);
    INFO(e[0]);
    CHECK(e[0].find("tocsin.yaml:14:14: city.time_zone: '" + std::string(zone) +
                    "' is not a time zone of the tz database") != std::string::npos);
  }
  auto typo = errors_of(dir, std::string(kValid) + "city:\n  timezone: UTC\n");
  REQUIRE(typo.size() == 1);
  CHECK(typo[0].find("did you mean 'time_zone'") != std::string::npos);
}

TEST_CASE("a minimal configuration gets defaults") {
  TempDir dir;
  auto file = dir.path() / "tocsin.yaml";
  std::ofstream(file) << kValid;
  auto r = load_config(file);
  REQUIRE(std::holds_alternative<Config>(r));
  const Config& c = std::get<Config>(r);
  CHECK(c.ingest.zmq_bind == "tcp://127.0.0.1:5555");
  CHECK(c.journal.synchronous == "full");
  CHECK(c.data_dir.is_absolute());
}

TEST_CASE("config errors name the file, line and column") {
  TempDir dir;
  std::string file = (dir.path() / "tocsin.yaml").string();

  SECTION("an unknown key") {
    auto errors = errors_of(dir, std::string(kValid) + "htpp:\n  bind: x\n");
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].rfind(file + ":13:1: unknown key 'htpp'", 0) == 0);
  }
  SECTION("an unknown nested key") {
    std::string yaml = kValid;
    yaml.replace(yaml.find("  bind: 127.0.0.1:8080"), 22, "  bind: 127.0.0.1:8080\n  treads: 4");
    auto errors = errors_of(dir, yaml);
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].rfind(file + ":10:3: unknown key 'http.treads'", 0) == 0);
  }
  SECTION("a wrong type") {
    std::string yaml = kValid;
    yaml += "journal:\n  max_batch: lots\n";
    auto errors = errors_of(dir, yaml);
    REQUIRE(errors.size() == 1);
    CHECK(errors[0] == file + ":14:14: journal.max_batch: must be an integer");
  }
  SECTION("a missing required value") {
    std::string yaml = kValid;
    yaml.replace(yaml.find("node:\n  id: node-1\n"), 19, "");
    auto errors = errors_of(dir, yaml);
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].find("missing required key 'node'") != std::string::npos);
    CHECK(errors[0].rfind(file + ":1:1:", 0) == 0);
  }
  SECTION("every error is reported, not only the first") {
    std::string yaml = kValid;
    yaml.replace(yaml.find("mode: managed"), 13, "mode: sometimes");
    yaml.replace(yaml.find("tcp://127.0.0.1:5555"), 20, "localhost:5555");
    auto errors = errors_of(dir, yaml);
    REQUIRE(errors.size() == 2);
    CHECK(errors[0] == file +
                           ":7:11: ingest.zmq.bind: 'localhost:5555' is not a ZeroMQ endpoint "
                           "(tcp://host:port, ipc://path)");
    CHECK(errors[1] == file + ":12:9: redis.mode: 'sometimes' is not one of managed, external");
  }
  SECTION("external redis needs a url") {
    std::string yaml = kValid;
    yaml.replace(yaml.find("mode: managed"), 13, "mode: external");
    auto errors = errors_of(dir, yaml);
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].find("missing required key 'redis.url'") != std::string::npos);
  }
  SECTION("a YAML syntax error") {
    auto errors = errors_of(dir, "node:\n  id: [unclosed\n");
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].rfind(file + ":", 0) == 0);
  }
}

TEST_CASE("secrets come from environment variables and are never echoed") {
  TempDir dir;
  std::string yaml = kValid;
  yaml.replace(
      yaml.find("mode: managed"), 13,
      "mode: external\n  url: redis://127.0.0.1:6379/0\n  password_env: TOCSIN_TEST_SECRET");
  ::unsetenv("TOCSIN_TEST_SECRET");
  auto errors = errors_of(dir, yaml);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].find("environment variable TOCSIN_TEST_SECRET is not set") != std::string::npos);

  ::setenv("TOCSIN_TEST_SECRET", "hunter2-very-secret", 1);
  auto file = dir.path() / "tocsin.yaml";
  auto r = load_config(file);
  REQUIRE(std::holds_alternative<Config>(r));
  CHECK(std::get<Config>(r).redis.password == "hunter2-very-secret");
  ::unsetenv("TOCSIN_TEST_SECRET");
}

TEST_CASE("http.tls needs both files, each one there, and makes the session cookie Secure") {
  TempDir dir;
  std::ofstream(dir.path() / "cert.pem") << "-----BEGIN CERTIFICATE-----\n";
  std::ofstream(dir.path() / "key.pem") << "-----BEGIN PRIVATE KEY-----\n";
  auto with_tls = [&](const std::string& tls) {
    std::string yaml = kValid;
    yaml.insert(yaml.find("redis:"), "  tls: " + tls + "\n");
    return yaml;
  };
  auto cert = (dir.path() / "cert.pem").string(), key = (dir.path() / "key.pem").string();
  auto file = dir.path() / "tocsin.yaml";
  std::ofstream(file) << with_tls("{certificate: " + cert + ", private_key: " + key + "}");
  auto r = load_config(file);
  REQUIRE(std::holds_alternative<Config>(r));
  CHECK(std::get<Config>(r).http.tls.certificate == cert);
  CHECK(std::get<Config>(r).http.auth.secure_cookie);

  auto missing = errors_of(dir, with_tls("{certificate: " + cert + ", private_key: nope.pem}"));
  REQUIRE(missing.size() == 1);
  INFO(missing[0]);
  CHECK(missing[0].starts_with(file.string() + ":11:"));  // the line of http.tls
  CHECK(missing[0].ends_with("http.tls.private_key: no file at 'nope.pem'"));
  auto alone = errors_of(dir, with_tls("{certificate: " + cert + "}"));
  REQUIRE(alone.size() == 1);
  CHECK(alone[0].find("http.tls.private_key") != std::string::npos);
}

TEST_CASE("each channel's provider reads its own settings, and only what that channel can use") {
  TempDir dir;
  std::string file = (dir.path() / "tocsin.yaml").string();
  auto with = [&](const std::string& channels) {
    return errors_of(dir, std::string(kValid) + "channels:\n" + channels);
  };

  SECTION("an unknown channel names the ones there are") {
    auto errors = with("  pager: {}\n");
    REQUIRE(errors.size() == 1);
    CHECK(errors[0] == file +
                           ":14:3: channels.pager: unknown channel (sms, email, console, "
                           "websocket, webhook, cap, siren)");
  }
  SECTION("a provider that does not carry the channel") {
    auto errors = with("  email: { provider: twilio }\n");
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].find("channels.email.provider: 'twilio' does not carry email (smtp, "
                         "outbox)") != std::string::npos);
  }
  SECTION("max_segments belongs to a channel counted in SMS segments") {
    CHECK(with("  sms: { provider: outbox, max_segments: 2 }\n").empty());
    auto errors = with("  email: { provider: outbox, max_segments: 2 }\n");
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].find("channels.email: unknown key 'max_segments'") != std::string::npos);
  }
  SECTION("another provider's key is unknown") {
    auto errors = with("  sms: { provider: outbox, account_sid: AC1 }\n");
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].find("channels.sms: unknown key 'account_sid'") != std::string::npos);
  }
  SECTION("a provider's own checks, with the line") {
    auto errors = with("  webhook:\n    url: ftp://x\n");
    REQUIRE(errors.size() == 1);
    CHECK(errors[0] == file + ":15:10: channels.webhook.url: must start with https:// or http://");
  }
  SECTION("defaults: the first provider, the SMS segment limit, the outbox file in data_dir") {
    auto f = dir.path() / "tocsin.yaml";
    std::ofstream(f) << std::string(kValid) + "channels:\n  sms: { provider: outbox }\n  cap:\n";
    auto r = load_config(f);
    REQUIRE(std::holds_alternative<Config>(r));
    const Config& c = std::get<Config>(r);
    REQUIRE(c.channels.size() == 2);
    CHECK(c.channels[0].provider == "outbox");
    CHECK(c.channels[0].policy.max_segments == 3);
    CHECK(c.channels[1].name == "cap");
    CHECK(c.channels[1].provider == "outbox");
    CHECK(c.channels[1].policy.max_segments == 0);
    CHECK(c.channels[1].settings != nullptr);
  }
}

TEST_CASE("relative paths are the file's neighbours wherever it starts, and the console is there") {
  TempDir dir;
  std::filesystem::create_directories(dir.path() / "etc");
  auto file = dir.path() / "etc" / "tocsin.yaml";
  std::ofstream(file) << "node: { id: n }\nstorage: { data_dir: ../state }\n"
                         "ingest: { zmq: { bind: \"tcp://127.0.0.1:1\" } }\n"
                         "http:\n  bind: 127.0.0.1:1\n  web_dir: console\n"
                         "playbooks: { dir: playbooks, people: people.yaml, zones: z.geojson, "
                         "templates: templates }\n";
  // Started from / (as systemd starts it): nothing there is looked at.
  const auto was = std::filesystem::current_path();
  std::filesystem::current_path("/");
  auto missing = load_config(file);
  std::filesystem::create_directories(dir.path() / "etc" / "console");
  std::ofstream(dir.path() / "etc" / "console" / "index.html") << "<!doctype html>";
  auto found = load_config(file);
  std::filesystem::current_path(was);

  REQUIRE(std::holds_alternative<ConfigErrors>(missing));
  const auto& errors = std::get<ConfigErrors>(missing).errors;
  REQUIRE(errors.size() == 1);
  CHECK(errors[0] == file.string() + ":6:12: http.web_dir: no console in " +
                         (dir.path() / "etc" / "console").string() +
                         " (no index.html); set http.web_dir to the directory of the console's "
                         "files");
  REQUIRE(std::holds_alternative<Config>(found));
  const Config& c = std::get<Config>(found);
  CHECK(c.data_dir == dir.path() / "state");
  CHECK(c.playbooks.dir == dir.path() / "etc" / "playbooks");
  CHECK(c.playbooks.templates == dir.path() / "etc" / "templates");
  CHECK(c.http.web_dir == dir.path() / "etc" / "console");
  CHECK(c.audit.key == dir.path() / "state" / "audit.key");
}

TEST_CASE("a secret comes from a variable, a file beside the config, or a systemd credential") {
  TempDir dir;
  auto with_redis = [&](const std::string& secret_line) {
    return std::string(kValid).replace(
        std::string(kValid).find("  mode: managed\n"), 16,
        "  mode: external\n  url: redis://127.0.0.1:6379/0\n" + secret_line);
  };
  auto password = [&](const std::string& yaml) -> std::optional<std::string> {
    auto file = dir.path() / "tocsin.yaml";
    std::ofstream(file) << yaml;
    auto r = load_config(file);
    if (!std::holds_alternative<Config>(r)) return std::nullopt;
    return std::get<Config>(r).redis.password;
  };
  // A file beside the configuration (its last newline not part of it), its owner's only.
  std::filesystem::create_directories(dir.path() / "secrets");
  std::ofstream(dir.path() / "secrets" / "redis") << "from a file\n";
  std::filesystem::permissions(
      dir.path() / "secrets" / "redis",
      std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  CHECK(password(with_redis("  password_file: secrets/redis\n")) == "from a file");
  // Readable by everyone: refused, naming the file.
  std::filesystem::permissions(dir.path() / "secrets" / "redis",
                               std::filesystem::perms::others_read,
                               std::filesystem::perm_options::add);
  auto open = errors_of(dir, with_redis("  password_file: secrets/redis\n"));
  REQUIRE(open.size() == 1);
  CHECK(open[0].find("redis.password_file: " + (dir.path() / "secrets" / "redis").string() +
                     " is readable by everyone") != std::string::npos);
  // A systemd credential (LoadCredential=redis:…): from $CREDENTIALS_DIRECTORY.
  std::filesystem::create_directories(dir.path() / "credentials");
  std::ofstream(dir.path() / "credentials" / "redis") << "from systemd";
  ::setenv("CREDENTIALS_DIRECTORY", (dir.path() / "credentials").c_str(), 1);
  CHECK(password(with_redis("  password_credential: redis\n")) == "from systemd");
  ::unsetenv("CREDENTIALS_DIRECTORY");
  auto unset = errors_of(dir, with_redis("  password_credential: redis\n"));
  REQUIRE(unset.size() == 1);
  CHECK(unset[0].find("redis.password_credential: CREDENTIALS_DIRECTORY is not set") !=
        std::string::npos);
  // Two places at once, or a file that is not there: one error each, naming the keys.
  ::setenv("TOCSIN_TEST_REDIS", "from the environment", 1);
  CHECK(password(with_redis("  password_env: TOCSIN_TEST_REDIS\n")) == "from the environment");
  auto both = errors_of(
      dir, with_redis("  password_env: TOCSIN_TEST_REDIS\n  password_file: secrets/redis\n"));
  REQUIRE(both.size() == 1);
  CHECK(both[0].find("redis.password_env, password_file, password_credential: give one of them") !=
        std::string::npos);
  auto missing = errors_of(dir, with_redis("  password_file: secrets/nope\n"));
  REQUIRE(missing.size() == 1);
  CHECK(missing[0].find("redis.password_file: no file at " +
                        (dir.path() / "secrets" / "nope").string()) != std::string::npos);
  ::unsetenv("TOCSIN_TEST_REDIS");
}
