// The console in a real browser: tests/browser/console.mjs drives Debian's chromium (headless,
// playwright-core) against a tocsin server it starts and restarts; screenshots of each step go
// to build/test-output/console/.

#include <catch2/catch.hpp>

#include <ctime>
#include <filesystem>
#include <fstream>

#include "tests/support/fake_provider.hpp"
#include "tests/support/process.hpp"
#include "tests/support/residents.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/tls_certificate.hpp"
#include "tests/support/tocsin_server.hpp"
#include "tests/support/wait.hpp"

using namespace tocsin::test;
using namespace std::chrono_literals;

TEST_CASE("the console: sign in, a live incident, acknowledge, approve, survive a restart",
          "[browser]") {
  ServerOptions options;
  options.playbooks_dir = TOCSIN_SOURCE_DIR "/config/playbooks";
  options.http_yaml = "  web_dir: " TOCSIN_SOURCE_DIR "/web\n";
  TocsinServer server(options);  // its configuration; the script runs the server itself
  server.add_user("mgagnon", "operator", "correct horse battery");
  server.add_user("swilliams", "approver", "correct horse battery");
  server.add_user("plavoie", "approver", "correct horse battery");
  server.add_user("aroy", "approver", "correct horse battery");
  server.add_user("ada", "admin", "correct horse battery");
  auto out =
      std::filesystem::path(TOCSIN_BINARY).parent_path().parent_path() / "test-output" / "console";
  std::filesystem::remove_all(out);
  auto r = run_command(
      {"node", TOCSIN_SOURCE_DIR "/tests/browser/console.mjs", "--tocsin", TOCSIN_BINARY,
       "--config", server.config_file(), "--port", std::to_string(server.http_port()), "--zmq",
       server.zmq_endpoint(), "--out", out.string()},
      180s);
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK(r.output.find("console: every step held") != std::string::npos);
  // axe-core ran on the sign-in page, the board, the correction and compose forms, the audit
  // trail.
  std::size_t audited = 0;
  for (auto at = r.output.find("no WCAG 2.1 AA violation"); at != std::string::npos;
       at = r.output.find("no WCAG 2.1 AA violation", at + 1))
    ++audited;
  CHECK(audited == 5);
  for (const char* shot :
       {"01-signed-in.png", "02-incident-live.png", "03-acknowledged.png",
        "04-acknowledged-english.png", "05-approved.png", "06-own-approval-refused.png",
        "07-second-person-approved.png", "08-correction-form.png", "09-correction-pending.png",
        "10-public-alert-cancelled.png", "11-session-ended.png", "12-compose-preview.png",
        "13-compose-sent.png", "14-audit-trail.png", "15-server-down.png", "16-reconnected.png"})
    CHECK(std::filesystem::exists(out / shot));
}

TEST_CASE("the console over HTTPS: a Secure session cookie and the live feed over wss",
          "[browser]") {
  TempDir certs;
  auto cert = certs.path() / "cert.pem", key = certs.path() / "key.pem";
  make_tls_certificate(cert, key);
  ServerOptions options;
  options.http_yaml = "  web_dir: " TOCSIN_SOURCE_DIR "/web\n";
  TocsinServer server(over_tls(cert, key, options));
  server.add_user("mgagnon", "operator", "correct horse battery");
  server.start();
  auto out =
      std::filesystem::path(TOCSIN_BINARY).parent_path().parent_path() / "test-output" / "tls";
  auto r = run_command({"node", TOCSIN_SOURCE_DIR "/tests/browser/tls.mjs", "--base",
                        "https://127.0.0.1:" + std::to_string(server.http_port()), "--user",
                        "mgagnon", "--password", "correct horse battery", "--out", out.string()},
                       120s);
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK(r.output.find("console over https: signed in, Secure cookie, live feed wss://") !=
        std::string::npos);
  CHECK(std::filesystem::exists(out / "board-over-https.png"));
}

TEST_CASE(
    "the console for a long night: the city's time, the title's count, notifications, "
    "filters, and a phone, a tablet and a wall screen",
    "[browser]") {
  ServerOptions options;
  options.playbooks_dir = TOCSIN_SOURCE_DIR "/config/playbooks";
  options.http_yaml = "  web_dir: " TOCSIN_SOURCE_DIR "/web\n";
  options.extra_yaml = "city:\n  time_zone: America/Montreal\n";
  TocsinServer server(options);
  server.add_user("mgagnon", "operator", "correct horse battery");
  server.add_user("swilliams", "approver", "correct horse battery");
  server.start();
  auto out =
      std::filesystem::path(TOCSIN_BINARY).parent_path().parent_path() / "test-output" / "night";
  std::filesystem::remove_all(out);
  auto r = run_command({"node", TOCSIN_SOURCE_DIR "/tests/browser/night.mjs", "--base",
                        "http://127.0.0.1:" + std::to_string(server.http_port()), "--tocsin",
                        TOCSIN_BINARY, "--zmq", server.zmq_endpoint(), "--out", out.string()},
                       180s);
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK(r.output.find("night: times in the city's zone") != std::string::npos);
  CHECK(r.output.find("night: title counts, chime, desktop notifications and filters held") !=
        std::string::npos);
  for (const char* screen : {"phone (375 px)", "tablet (820 px)", "wall (1920 px)"})
    CHECK(r.output.find(std::string("the board on a ") + screen + ": no WCAG 2.1 AA violation") !=
          std::string::npos);
  CHECK(r.output.find("night: every step held") != std::string::npos);
  for (const char* shot : {"filtered-by-zone.png", "approver-notified.png", "layout-phone.png",
                           "layout-phone-compose.png", "layout-tablet.png", "layout-wall.png"})
    CHECK(std::filesystem::exists(out / shot));
}

TEST_CASE("the console's on-call panel: who is on call, a cover saved and cancelled", "[browser]") {
  TempDir dir;
  std::filesystem::create_directories(dir.path() / "playbooks");
  std::ofstream(dir.path() / "playbooks" / "page.yaml")
      << "id: page\nmatch:\n  type: test.*\nsteps:\n  - notify: { audience: { on_call: [duty] }, "
         "channels: [sms], template: flood-staff }\n";
  // Marie's week began an hour ago (an RFC 3339 start in UTC).
  std::time_t started = std::time(nullptr) - 3600;
  std::tm tm{};
  gmtime_r(&started, &tm);
  char start[32];
  std::strftime(start, sizeof start, "%Y-%m-%dT%H:%M:%SZ", &tm);
  std::ofstream(dir.path() / "schedules.yaml")
      << "schedules:\n  - id: duty\n    name: Garde / Duty\n    rotations:\n      - { id: week, "
         "shift: weekly, start: \""
      << start << "\", participants: [mgagnon, jtremblay] }\n";
  ServerOptions options;
  options.playbooks_dir = (dir.path() / "playbooks").string();
  options.schedules_file = (dir.path() / "schedules.yaml").string();
  options.http_yaml = "  web_dir: " TOCSIN_SOURCE_DIR "/web\n";
  options.extra_yaml = "city:\n  time_zone: America/Montreal\n";
  TocsinServer server(options);
  server.add_user("mgagnon", "operator", "correct horse battery");
  server.start();
  auto out =
      std::filesystem::path(TOCSIN_BINARY).parent_path().parent_path() / "test-output" / "oncall";
  std::filesystem::remove_all(out);
  auto r =
      run_command({"node", TOCSIN_SOURCE_DIR "/tests/browser/oncall.mjs", "--base",
                   "http://127.0.0.1:" + std::to_string(server.http_port()), "--out", out.string()},
                  120s);
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK(r.output.find("the on-call panel: no WCAG 2.1 AA violation") != std::string::npos);
  CHECK(r.output.find("oncall: every step held") != std::string::npos);
  // Made and cancelled by Marie, signed in: both in the audit trail as her.
  CHECK(query_integer(server.database(),
                      "SELECT count(*) FROM audit WHERE action = "
                      "'schedule.override' AND actor = 'mgagnon'") == 1);
  CHECK(query_integer(server.database(),
                      "SELECT count(*) FROM audit WHERE action = "
                      "'schedule.override.cancel' AND actor = 'mgagnon'") == 1);
  CHECK(std::filesystem::exists(out / "oncall-cover.png"));
}

TEST_CASE(
    "the residents' pages: sign up in French, confirm by the code texted, a second place, English, "
    "download, delete",
    "[browser][residents]") {
  FakeProvider provider;
  TempDir dir;
  TocsinServer server(residents_server(provider, dir));
  import_shipped_addresses(server);
  server.start();
  auto out = std::filesystem::path(TOCSIN_BINARY).parent_path().parent_path() / "test-output" /
             "residents";
  std::filesystem::remove_all(out);
  auto r = run_command({"node", TOCSIN_SOURCE_DIR "/tests/browser/residents.mjs", "--base",
                        "http://127.0.0.1:" + std::to_string(server.http_port()), "--requests",
                        provider.requests_file().string(), "--out", out.string()},
                       180s);
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK(r.output.find("residents: every step held") != std::string::npos);
  std::size_t audited = 0;
  for (auto at = r.output.find("no WCAG 2.1 AA violation"); at != std::string::npos;
       at = r.output.find("no WCAG 2.1 AA violation", at + 1))
    ++audited;
  CHECK(audited == 8);
  CHECK(query_integer(server.database(),
                      "SELECT count(*) FROM audit WHERE action = 'resident.erase'") == 1);
  CHECK(query_integer(server.database(), "SELECT count(*) FROM residents") == 1);  // the no-JS one
  for (const char* shot :
       {"01-sign-up.png", "02-subscription.png", "03-subscription-english.png", "04-deleted.png"})
    CHECK(std::filesystem::exists(out / shot));
}

TEST_CASE("the public alerts page follows the feed: an alert released while it is open appears",
          "[browser][public]") {
  TempDir dir;
  std::ofstream(dir.path() / "river.yaml") << R"(id: river
match: { type: test.flood }
steps:
  - require_approval: { role: approver, count: 2, timeout: 1h }
  - notify: { audience: { residents: { area: incident } }, channels: [websocket], template: flood-public, public: true, expires: 6h }
)";
  ServerOptions options;
  options.playbooks_dir = dir.path().string();
  options.channels_yaml = "  websocket: {provider: live}\n";
  TocsinServer server(options);
  server.start();
  auto out =
      std::filesystem::path(TOCSIN_BINARY).parent_path().parent_path() / "test-output" / "alerts";
  std::filesystem::remove_all(out);
  const auto log = dir.path() / "node.out";
  Process node({"node", TOCSIN_SOURCE_DIR "/tests/browser/alerts.mjs", "--base",
                "http://127.0.0.1:" + std::to_string(server.http_port()), "--out", out.string()},
               log.string());
  REQUIRE(wait_until(
      [&] {
        auto text = read_file(log);
        return text.find("watching") != std::string::npos ||
               text.find("Error") != std::string::npos;
      },
      90s));
  INFO(read_file(log));
  REQUIRE(read_file(log).find("watching") != std::string::npos);
  auto r = server.post("/api/v1/incidents",
                       R"({"source":"tests","type":"test.flood","severity":"severe",)"
                       R"("headline":"River rising","location":{"zone":"riverside"}})");
  REQUIRE(r);
  REQUIRE(r->status == 201);
  REQUIRE(release_pending_approvals(server, 1));
  auto code = node.wait(120s);
  INFO(read_file(log));
  REQUIRE(code);
  CHECK(*code == 0);
  CHECK(read_file(log).find("alerts: every step held") != std::string::npos);
  CHECK(std::filesystem::exists(out / "alerts.png"));
}
