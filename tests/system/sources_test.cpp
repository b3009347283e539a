// Sensor heartbeats: a declared source that goes silent raises source.silent, and speaking again
// resolves it.

#include <catch2/catch.hpp>

#include <fstream>

#include <boost/json.hpp>

#include "tests/support/sensor_client.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/tocsin_server.hpp"
#include "tests/support/wait.hpp"

using namespace tocsin::test;
using namespace std::chrono_literals;
namespace json = boost::json;

TEST_CASE("a source that stops its heartbeats raises source.silent, and clears it when it speaks") {
  TempDir dir;
  auto file = dir.path() / "sources.yaml";
  std::ofstream(file) << "sources:\n  - { id: gauge-a, expect_every: 1s, grace: 2 }\n"
                         "  - { id: gauge-b, expect_every: 1h }\n";
  ServerOptions options;
  options.ingest_yaml = "  sources: " + file.string() + "\n";
  TocsinServer server(options);
  server.start();
  SensorClient sensor(server.zmq_endpoint());

  sensor.send({"hb-2", "heartbeat", R"({"source":"gauge-a"})"});
  auto reply = sensor.receive(10s);
  REQUIRE(reply);
  REQUIRE(reply->size() == 4);
  CHECK((*reply)[1] == "ok");
  CHECK((*reply)[2] == "gauge-a");
  auto list = json::parse(server.get("/api/v1/sources")->body).at("sources").as_array();
  REQUIRE(list.size() == 2);
  CHECK(list[0].at("id").as_string() == "gauge-a");
  CHECK(list[0].at("last_seen").is_string());
  CHECK(list[1].at("last_seen").is_null());

  auto silent_state = [&] {
    auto s = query_strings(server.database(),
                           "SELECT state FROM incidents WHERE type = 'source.silent' AND "
                           "dedup_key = 'source.silent/gauge-a'");
    return s.empty() ? std::string() : *s.begin();
  };
  // Two seconds without a word (grace 2 × 1 s).
  REQUIRE(wait_until([&] { return silent_state() == "active"; }, 10s));
  CHECK(json::parse(server.get("/api/v1/sources")->body).at("sources").as_array()[0].at("silent") ==
        true);
  // gauge-b has an hour: still fine.
  CHECK(query_integer(server.database(),
                      "SELECT count(*) FROM incidents WHERE dedup_key = 'source.silent/gauge-b'") ==
        0);

  auto r = server.post("/api/v1/sources/gauge-a/heartbeat", "");
  REQUIRE(r);
  CHECK(r->status == 200);
  REQUIRE(wait_until([&] { return silent_state() == "resolved"; }, 10s));
  CHECK(server.post("/api/v1/sources/nobody/heartbeat", "")->status == 404);
}
