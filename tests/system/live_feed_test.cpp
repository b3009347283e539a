// The live feed over WebSocket: public alerts to residents' pages, alerts and incident events to
// consoles, and a client that stops reading is dropped without holding anyone else back.

#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>

#include <boost/json.hpp>

#include "tests/support/process.hpp"
#include "tests/support/sensor_client.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/tocsin_server.hpp"
#include "tests/support/wait.hpp"

using namespace tocsin::test;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

const char* kPublicPlaybook = R"(id: public
match: { type: test.public }
steps:
  - require_approval: { role: approver, count: 2, timeout: 15m }
  - notify: { audience: { residents: { area: incident } }, channels: [websocket], template: flood-public, public: true, expires: 6h }
)";

std::size_t count_in(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE(
    "200 live-feed clients, one never reads: it is dropped and told why, the others get every "
    "alert") {
  TempDir playbooks, clients_dir;
  std::ofstream(playbooks.path() / "public.yaml") << kPublicPlaybook;
  ServerOptions options;
  options.playbooks_dir = playbooks.path().string();
  // The default queue (256 messages). Alerts are paced at 200 deliveries/s (100 a language), as a
  // channel's rate limit would: fast readers keep up even on a loaded machine, while the client
  // that never reads falls 256 messages behind (after its kernel buffers filled) and is dropped.
  options.channels_yaml = "  websocket: {provider: live, rate_per_second: 200, burst: 20}\n";
  TocsinServer server(options);
  server.start();

  constexpr int kAlerts = 600;
  auto out = clients_dir.path() / "clients.out";
  Process clients(
      {"/usr/bin/python3", TOCSIN_SOURCE_DIR "/tests/support/ws_clients.py", "--url",
       "ws://127.0.0.1:" + std::to_string(server.http_port()) + "/ws/public?lang=fr", "--count",
       "199", "--stalled", "--expect", std::to_string(kAlerts), "--timeout", "150"},
      out.string());
  REQUIRE(wait_until([&] { return read_file(out).find("ready") != std::string::npos; }, 60s));

  SensorClient sensor(server.zmq_endpoint());
  for (int i = 0; i < kAlerts; ++i)
    accepted_id(sensor, R"({"source":"test","type":"test.public","severity":"severe",)"
                        R"("location":{"zone":"riverside"},"dedup_key":"p-)" +
                            std::to_string(i) + "\"}");
  REQUIRE(release_pending_approvals(server, kAlerts, 120s));

  auto code = clients.wait(180s);
  REQUIRE(code);
  std::string text = read_file(out);
  INFO(text);
  auto result = json::parse(text.substr(text.find('{')));
  auto counts = result.at("counts").as_array();
  REQUIRE(counts.size() == 199);
  for (const auto& c : counts) CHECK(c.as_int64() == kAlerts);
  auto closed = result.at("stalled_closed_with");
  REQUIRE(closed.is_object());
  CHECK(closed.at("code").as_int64() == 1008);
  CHECK(closed.at("reason").as_string() == "too slow: more than 256 messages waiting");
  CHECK(count_in(server.log(), "live feed: dropping a session") == 1);
}

TEST_CASE(
    "a console gets its person's alerts and incident events, and nobody connected is retried") {
  TempDir playbooks, out_dir;
  std::ofstream(playbooks.path() / "page.yaml") << R"(id: page
match: { type: test.page }
steps:
  - notify: { audience: { people: [jtremblay] }, channels: [console], template: flood-staff }
)";
  ServerOptions options;
  options.playbooks_dir = playbooks.path().string();
  options.channels_yaml = "  console: {provider: live, retry_initial: 1s}\n";
  TocsinServer server(options);
  server.start();
  SensorClient sensor(server.zmq_endpoint());
  const std::string report = R"({"source":"test","type":"test.page","severity":"severe",)"
                             R"("location":{"zone":"riverside"},"attributes":{"level_m":4.5}})";
  // Nobody at a console yet: the delivery waits, retried.
  accepted_id(sensor, report);
  REQUIRE(wait_until(
      [&] {
        return query_integer(server.database(),
                             "SELECT count(*) FROM deliveries WHERE attempts >= 1 AND state = "
                             "'queued' AND last_error = 'jtremblay has no console open'") == 1;
      },
      10s));

  auto out = out_dir.path() / "console.out";
  const std::string jtremblay = server.token_for("jtremblay");  // her console's token
  Process console(
      {"/usr/bin/python3", TOCSIN_SOURCE_DIR "/tests/support/ws_clients.py", "--url",
       "ws://127.0.0.1:" + std::to_string(server.http_port()) + "/ws/console?person=jtremblay",
       "--count", "1", "--expect", "1", "--timeout", "30"},
      out.string(), {{"TOCSIN_TOKEN", jtremblay}});
  // Once the console is open, the retry reaches it.
  REQUIRE(wait_until([&] { return read_file(out).find("ready") != std::string::npos; }, 30s));
  // An acknowledgement is an incident event every console sees.
  auto id = *query_strings(server.database(), "SELECT id FROM incidents").begin();
  REQUIRE(server.as_token(jtremblay, "POST", "/api/v1/incidents/" + id + "/ack", "{}")->status ==
          200);
  REQUIRE(console.wait(40s));
  std::string text = read_file(out);
  INFO(text);
  auto result = json::parse(text.substr(text.find('{')));
  CHECK(result.at("counts").as_array().at(0).as_int64() == 1);
  auto others = result.at("others").as_array();
  CHECK(std::count(others.begin(), others.end(), json::value("incident")) >= 1);
  // The client has it; the ledger records it as sent in its next batch.
  CHECK(wait_until(
      [&] {
        return query_integer(server.database(),
                             "SELECT count(*) FROM deliveries WHERE state = 'sent'") == 1;
      },
      10s));
  auto bad = server.get("/ws/console");
  REQUIRE(bad);
  CHECK(bad->status == 426);  // not an upgrade: told to use a WebSocket
  CHECK(bad->headers["upgrade"] == "websocket");
}

TEST_CASE("500 consoles: every delta reaches every console, in order", "[live]") {
  ServerOptions options;  // the staff directory, for the token of mgagnon's console
  options.playbooks_dir = TOCSIN_SOURCE_DIR "/config/playbooks";
  TocsinServer server(options);
  server.start();
  TempDir out_dir;
  auto out = out_dir.path() / "consoles.out";
  constexpr int kIncidents = 50;
  Process consoles(
      {"/usr/bin/python3", TOCSIN_SOURCE_DIR "/tests/support/console_clients.py", "--url",
       "ws://127.0.0.1:" + std::to_string(server.http_port()) + "/ws/console?person=mgagnon",
       "--sessions", "500", "--expect", std::to_string(kIncidents), "--timeout", "120"},
      out.string(), {{"TOCSIN_TOKEN", server.token_for("mgagnon", R"(["read"])")}});
  REQUIRE(wait_until([&] { return read_file(out).find("ready") != std::string::npos; }, 90s));
  SensorClient sensor(server.zmq_endpoint());
  for (int i = 0; i < kIncidents; ++i)
    accepted_id(sensor, R"({"source":"gauge-)" + std::to_string(i) +
                            R"(","type":"flood.water_level","severity":"minor"})");
  REQUIRE(consoles.wait(150s));
  std::string text = read_file(out);
  INFO(text);
  auto result = json::parse(text.substr(text.find('{')));
  CHECK(result.at("complete") == 500);
  CHECK(result.at("gaps") == 0);
  CHECK(result.at("out_of_order") == 0);
}

TEST_CASE("an open console's feed is closed once its credential ends (a token revoked)",
          "[feed][auth]") {
  ServerOptions options;  // the staff directory, for the token of jtremblay's console
  options.playbooks_dir = TOCSIN_SOURCE_DIR "/config/playbooks";
  TocsinServer server(options);
  server.start();
  // A wall screen's token, bound to the person whose console it shows.
  auto made = server.post("/api/v1/tokens",
                          R"({"name":"duty-screen","scopes":["read"],"for":"jtremblay"})");
  REQUIRE(made);
  REQUIRE(made->status == 201);
  auto body = json::parse(made->body);
  std::string token(body.at("token").as_string()), id(body.at("id").as_string());

  TempDir out_dir;
  auto out = out_dir.path() / "console.out";
  Process console(
      {"/usr/bin/python3", TOCSIN_SOURCE_DIR "/tests/support/ws_watch.py", "--url",
       "ws://127.0.0.1:" + std::to_string(server.http_port()) + "/ws/console?person=jtremblay",
       "--timeout", "40"},
      out.string(), {{"TOCSIN_TOKEN", token}});
  bool ready = wait_until([&] { return read_file(out).find("ready") != std::string::npos; }, 30s);
  INFO(read_file(out));
  REQUIRE(ready);
  REQUIRE(server.post("/api/v1/tokens/" + id + "/revoke", "")->status == 200);
  // The server asks again every 10 s: the feed ends then, with the reason, not at the client's
  // leisure.
  REQUIRE(console.wait(45s));
  std::string text = read_file(out);
  INFO(text);
  auto result = json::parse(text.substr(text.find('{')));
  REQUIRE(result.at("closed") == true);
  CHECK(result.at("code") == 1008);
  CHECK(result.at("reason") == "session ended");
}
