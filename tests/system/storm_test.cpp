// Storm control: per-source rate limits fold a flood of reports into counted updates, and a
// playbook's group_by gathers one zone's incidents into one run, one staff page and one public
// alert.

#include <catch2/catch.hpp>

#include <fstream>
#include <thread>

#include <boost/json.hpp>

#include "tests/support/sensor_client.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/tocsin_server.hpp"
#include "tests/support/wait.hpp"

using namespace tocsin::test;
using namespace std::chrono_literals;
namespace json = boost::json;

TEST_CASE("1,000 incidents from 40 sources in one zone in 10 s page each person once", "[storm]") {
  TempDir playbooks;
  std::ofstream(playbooks.path() / "gauges.yaml") << R"(id: riverside-gauges
match:
  type: flood.water_level
  zone: [riverside]
group_by: zone
group_wait: 3s
steps:
  - notify: { audience: { roles: [duty-officer] }, channels: [email], template: flood-staff }
  - require_approval: { role: approver, count: 2, timeout: 15m }
  - notify: { audience: { residents: { area: incident } }, channels: [websocket], template: flood-public, public: true, expires: 6h }
  - resolve_when: { attributes: { level_m: { "<": 3.0 } } }
)";
  ServerOptions options;
  options.playbooks_dir = playbooks.path().string();
  options.ingest_yaml = "  storm:\n    per_source_per_minute: 5\n";
  TocsinServer server(options);
  server.start();

  constexpr int kSources = 40, kReports = 1000;
  SensorClient sensor(server.zmq_endpoint());
  auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < kReports; ++i) {
    // 100 a second: the storm lasts ten seconds.
    std::this_thread::sleep_until(started + i * 10ms);
    json::object report{{"source", "gauge-" + std::to_string(i % kSources)},
                        {"type", "flood.water_level"},
                        {"severity", "severe"},
                        {"headline", "Level rising"},
                        {"dedup_key", "reading-" + std::to_string(i)},
                        {"location", json::object{{"zone", "riverside"}}},
                        {"attributes", json::object{{"level_m", 4.0 + (i % 7) / 10.0}}}};
    sensor.send("r" + std::to_string(i), json::serialize(report));
  }
  int ok = 0, folded = 0;
  for (int i = 0; i < kReports; ++i) {
    auto reply = sensor.receive(30s);
    REQUIRE(reply);
    REQUIRE(reply->size() == 4);
    if ((*reply)[1] == "ok") ++ok;
    if ((*reply)[3] == "folded") ++folded;
  }
  REQUIRE(ok == kReports);

  // Every report is accounted for: an incident of its own, or counted on one.
  REQUIRE(server.settled());  // every report has run its playbooks
  const auto db = server.database();
  long long incidents = query_integer(db, "SELECT count(*) FROM incidents");
  CHECK(incidents + query_integer(db, "SELECT sum(folded) FROM incidents") == kReports);
  CHECK(query_integer(db, "SELECT sum(folded) FROM incidents") == folded);
  CHECK(folded > 0);
  // 5 a minute and source, plus what refills in the storm's ten seconds.
  CHECK(query_integer(
            db, "SELECT max(n) FROM (SELECT count(*) AS n FROM incidents GROUP BY source)") <= 6);
  CHECK(query_integer(db, "SELECT count(*) FROM incident_events WHERE kind = 'folded'") == folded);

  // One run for the zone, speaking for every incident.
  CHECK(query_integer(db, "SELECT count(*) FROM playbook_runs") == 1);
  CHECK(query_integer(db, "SELECT count(*) FROM run_members") == incidents);

  // One staff alert and one public alert (one approval for the group); each duty officer gets
  // one email.
  REQUIRE(release_pending_approvals(server, 1));
  REQUIRE(wait_until(
      [&] {
        return query_integer(db, "SELECT count(*) FROM alerts WHERE status != 'pending'") == 2 &&
               query_integer(db,
                             "SELECT count(*) FROM deliveries WHERE state IN ('queued', "
                             "'sending')") == 0;
      },
      30s));
  CHECK(query_integer(db, "SELECT count(*) FROM alerts WHERE public = 1") == 1);
  CHECK(query_integer(db, "SELECT count(*) FROM alerts WHERE public = 0") == 1);
  auto staff = query_strings(db,
                             "SELECT recipient || ':' || count(*) FROM deliveries WHERE channel = "
                             "'email' GROUP BY recipient");
  CHECK(staff == std::set<std::string>{"jtremblay:1", "mgagnon:1"});
  CHECK(server.outbox("email").size() == 2);
  CHECK(server.outbox("websocket").size() == 2);  // the public feed: French and English

  // The page lists the incidents gathered before it went out.
  auto lines = server.outbox("email");
  auto mail = json::parse(lines.front()).as_object();
  std::string text = std::string(mail.at("text").as_string());
  INFO(text);
  CHECK(text.find("incidents dans ce groupe") != std::string::npos);
  CHECK(text.find("- gauge-0, ") != std::string::npos);
  long long listed =
      query_integer(db, "SELECT json_array_length(grouped) FROM alerts WHERE public = 0");
  CHECK(listed > 1);
  auto public_id = *query_strings(db, "SELECT id FROM alerts WHERE public = 1").begin();
  auto shown = json::parse(server.get("/api/v1/alerts/" + public_id)->body).at("alert");
  CHECK(shown.at("group").as_array().size() > 1);
  CHECK(shown.at("group").as_array()[0].at("zone") == "riverside");
}
