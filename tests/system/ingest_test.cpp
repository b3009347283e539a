#include <catch2/catch.hpp>

#include <csignal>
#include <map>
#include <set>
#include <thread>

#include <boost/json.hpp>

#include "tests/support/redis_server.hpp"
#include "tests/support/sensor_client.hpp"
#include "tests/support/tocsin_server.hpp"
#include "tests/support/wait.hpp"

using namespace tocsin::test;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

std::set<std::string> active_ids_in_sqlite(const TocsinServer& s) {
  return query_strings(s.database(), "SELECT id FROM incidents WHERE state = 'active'");
}

}  // namespace

TEST_CASE("10,000 incidents from 4 concurrent DEALER clients are all durable and projected",
          "[ingest]") {
  RedisServer redis;
  TocsinServer server(redis.url());
  server.start();

  constexpr int kClients = 4, kEach = 2500;
  std::vector<std::map<std::string, std::vector<std::string>>> replies(kClients);
  std::vector<std::thread> threads;
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&, c] {
      SensorClient client(server.zmq_endpoint());
      // Pipelined: every request goes out before the first reply is read.
      for (int i = 0; i < kEach; ++i) {
        std::string rid = "c" + std::to_string(c) + "-" + std::to_string(i);
        client.send(rid, incident_json("sensor-" + std::to_string(c), rid));
      }
      for (int i = 0; i < kEach; ++i) {
        auto reply = client.receive(30s);
        if (!reply) break;
        replies[c][(*reply)[0]] = *reply;
      }
    });
  }
  for (auto& t : threads) t.join();

  std::set<std::string> ok_ids;
  int ok = 0;
  for (const auto& per_client : replies) {
    for (const auto& [rid, frames] : per_client) {
      INFO(rid);
      REQUIRE(frames.size() == 4);
      CHECK(frames[1] == "ok");
      CHECK(frames[3] == "created");
      ok_ids.insert(frames[2]);
      ++ok;
    }
  }
  REQUIRE(ok == kClients * kEach);
  REQUIRE(ok_ids.size() == std::size_t(ok));  // every incident has its own id

  // Every acknowledged id is in SQLite...
  auto in_sqlite = active_ids_in_sqlite(server);
  CHECK(in_sqlite == ok_ids);
  // ...and, once the projection catches up, in Redis.
  CHECK(wait_until([&] { return redis.zrange("tocsin:incidents:active") == ok_ids; }, 20s));
  auto hash = redis.hgetall("tocsin:incident:" + *ok_ids.begin());
  CHECK(hash["state"] == "active");
  CHECK(hash["type"] == "test.event");
  CHECK(hash["zone"] == "riverside");
  CHECK(server.terminate() == 0);
}

TEST_CASE("a report with an active incident's dedup_key answers 'updated' with its id",
          "[ingest]") {
  RedisServer redis;
  TocsinServer server(redis.url());
  server.start();
  SensorClient client(server.zmq_endpoint());

  auto first = client.request("r1", incident_json("gauge-1", "gauge-1/riverside", "moderate"));
  auto second = client.request("r2", incident_json("gauge-1", "gauge-1/riverside", "severe"));
  REQUIRE(first);
  REQUIRE(second);
  CHECK((*first)[1] == "ok");
  CHECK((*first)[3] == "created");
  CHECK((*second)[0] == "r2");
  CHECK((*second)[1] == "ok");
  CHECK((*second)[2] == (*first)[2]);
  CHECK((*second)[3] == "updated");

  auto r = server.get("/api/v1/incidents/" + (*first)[2]);
  REQUIRE(r);
  REQUIRE(r->status == 200);
  auto body = json::parse(r->body).as_object();
  CHECK(body.at("severity").as_string() == "severe");
  CHECK(body.at("updates").as_int64() == 1);
  auto& events = body.at("events").as_array();
  REQUIRE(events.size() == 2);
  CHECK(events[0].at("kind").as_string() == "created");
  CHECK(events[0].at("report").at("severity").as_string() == "moderate");
  CHECK(events[1].at("kind").as_string() == "updated");
  CHECK(events[1].at("actor").as_string() == "gauge-1");

  CHECK(wait_until(
      [&] { return redis.hgetall("tocsin:incident:" + (*first)[2])["severity"] == "severe"; },
      10s));
}

TEST_CASE("a report cannot take over another source's incident through its dedup_key", "[ingest]") {
  TocsinServer server;
  server.start();
  SensorClient client(server.zmq_endpoint());
  auto leak = R"({"source":"chem-3","type":"chem.chlorine","severity":"severe",)"
              R"("headline":"Chlorine leak","location":{"zone":"industrial-park"},)"
              R"("dedup_key":"plant-7/chlorine"})";
  auto first = client.request("r1", leak);
  REQUIRE(first);
  REQUIRE((*first)[3] == "created");
  const std::string id = (*first)[2];

  // Another gauge, the same key: refused, over ZeroMQ and over HTTP, and nothing changes.
  auto other = client.request(
      "r2", R"({"source":"gauge-9","type":"chem.chlorine","severity":"minor","status":"actual",)"
            R"("headline":"test","dedup_key":"plant-7/chlorine"})");
  REQUIRE(other);
  CHECK((*other)[1] == "error");
  CHECK((*other)[2] == "conflict");
  auto http = server.post(
      "/api/v1/incidents",
      R"({"source":"gauge-9","type":"chem.chlorine","severity":"minor","dedup_key":"plant-7/chlorine"})");
  REQUIRE(http);
  CHECK(http->status == 409);
  CHECK(json::parse(http->body).at("error").at("field") == "dedup_key");
  // Its own source, another type: refused too (an update never changes what an incident is).
  auto retype = client.request(
      "r3",
      R"({"source":"chem-3","type":"test.event","severity":"minor","dedup_key":"plant-7/chlorine"})");
  REQUIRE(retype);
  CHECK((*retype)[2] == "conflict");
  // Its own source, the same type: an update, as always.
  auto update = client.request(
      "r4",
      R"({"source":"chem-3","type":"chem.chlorine","severity":"extreme","dedup_key":"plant-7/chlorine"})");
  REQUIRE(update);
  CHECK((*update)[3] == "updated");

  auto incident = json::parse(server.get("/api/v1/incidents/" + id)->body);
  CHECK(incident.at("source") == "chem-3");
  CHECK(incident.at("type") == "chem.chlorine");
  CHECK(incident.at("severity") == "extreme");
  CHECK(incident.at("headline") == "Chlorine leak");
  CHECK(incident.at("updates").as_int64() == 1);
  CHECK(query_integer(server.database(), "SELECT count(*) FROM incidents") == 1);
}

TEST_CASE("the HTTP API creates, lists and shows incidents", "[http]") {
  RedisServer redis;
  TocsinServer server(redis.url());
  server.start();

  auto created = server.post("/api/v1/incidents", R"({"source":"eoc-staff","type":"chem.leak",
      "severity":"extreme","urgency":"immediate","certainty":"observed",
      "headline":"Fuite de chlore, rue Notre-Dame","location":{"lat":45.5,"lon":-73.55}})");
  REQUIRE(created);
  CHECK(created->status == 201);
  auto id = std::string(json::parse(created->body).at("id").as_string());
  CHECK(created->headers["location"] == "/api/v1/incidents/" + id);
  CHECK(json::parse(created->body).at("result").as_string() == "created");

  auto again = server.post("/api/v1/incidents", R"({"source":"eoc-staff","type":"chem.leak",
      "severity":"extreme","location":{"lat":45.5,"lon":-73.55}})");
  REQUIRE(again);
  CHECK(again->status == 200);
  CHECK(json::parse(again->body).at("result").as_string() == "updated");

  auto list = server.get("/api/v1/incidents?state=active");
  REQUIRE(list);
  CHECK(list->status == 200);
  auto listed = json::parse(list->body);
  auto& items = listed.at("incidents").as_array();
  REQUIRE(items.size() == 1);
  CHECK(items[0].at("id").as_string() == id);
  CHECK(items[0].at("headline").as_string() == "Fuite de chlore, rue Notre-Dame");

  auto one = server.get("/api/v1/incidents/" + id);
  REQUIRE(one);
  CHECK(one->status == 200);
  CHECK(json::parse(one->body).at("events").as_array().size() == 2);

  auto missing = server.get("/api/v1/incidents/01ARZ3NDEKTSV4RRFFQ69G5FAV");
  REQUIRE(missing);
  CHECK(missing->status == 404);

  auto metrics = server.get("/metrics");
  REQUIRE(metrics);
  CHECK(metrics->status == 200);
  CHECK(metrics->body.find("tocsin_incidents_received_total{transport=\"http\"} 2") !=
        std::string::npos);
  CHECK(metrics->body.find("tocsin_incidents_created_total 1") != std::string::npos);
  CHECK(metrics->body.find("tocsin_incidents_updated_total 1") != std::string::npos);
  CHECK(metrics->body.find("tocsin_journal_commit_seconds_bucket{le=\"+Inf\"}") !=
        std::string::npos);
  CHECK(metrics->body.find("tocsin_journal_batch_size_count") != std::string::npos);
  CHECK(metrics->body.find("tocsin_redis_up 1") != std::string::npos);

  auto health = server.get("/health");
  REQUIRE(health);
  auto h = json::parse(health->body);
  CHECK(h.at("status").as_string() == "ok");
  CHECK(h.at("components").at("journal").at("status").as_string() == "ok");
  CHECK(h.at("components").at("redis").at("status").as_string() == "ok");
  // Every channel of the tests' configuration writes to an outbox: said, though nothing fails.
  CHECK(h.at("components").at("channels").at("status").as_string() == "outbox");
  CHECK(h.at("components").at("channels").at("outbox").as_array().size() == 6);
}

TEST_CASE("numbers read as they were written: the API, the journal's events and Redis", "[http]") {
  RedisServer redis;
  TocsinServer server(redis.url());
  server.start();
  auto created = server.post("/api/v1/incidents", R"({"source":"gauge-rdp-17",
      "type":"flood.water_level","severity":"minor","location":{"lat":45.5599,"lon":-73.65},
      "attributes":{"level_m":4.2,"rising":true,"readings":3}})");
  REQUIRE(created);
  REQUIRE(created->status == 201);
  const std::string id(json::parse(created->body).at("id").as_string());
  // Not 4.55599E1 and 4.2E0 (Boost.JSON's own way), but as a person wrote them.
  for (const std::string& text : {server.get("/api/v1/incidents/" + id)->body,
                                  server.get("/api/v1/incidents?state=active")->body}) {
    CHECK(text.find(R"("lat":45.5599,"lon":-73.65)") != std::string::npos);
    CHECK(text.find(R"("level_m":4.2)") != std::string::npos);
  }
  CHECK(query_integer(server.database(),
                      "SELECT count(*) FROM incidents WHERE attributes LIKE '%\"level_m\":4.2%'") ==
        1);
  REQUIRE(wait_until([&] { return !redis.hgetall("tocsin:incident:" + id)["json"].empty(); }, 5s));
  CHECK(redis.hgetall("tocsin:incident:" + id)["json"].find(R"("level_m":4.2)") !=
        std::string::npos);
}

TEST_CASE("SIGTERM stops intake, acknowledges what is in flight and exits 0", "[ingest]") {
  RedisServer redis;
  TocsinServer server(redis.url());
  server.start();
  SensorClient client(server.zmq_endpoint());
  constexpr int n = 20000;
  for (int i = 0; i < n; ++i)
    client.send("t" + std::to_string(i), incident_json("s", "term-" + std::to_string(i)));
  auto first = client.receive(10s);
  REQUIRE(first);
  server.process().signal(SIGTERM);

  // Read until the server has exited, however slow a loaded machine makes its last commits, then
  // what it sent before it exited (queued at this socket by then); a pause in the answers is not
  // taken for the end of them.
  std::set<std::string> acked{(*first)[2]};
  auto take = [&](std::chrono::milliseconds wait) {
    while (auto reply = client.receive(wait)) {
      REQUIRE((*reply)[1] == "ok");
      acked.insert((*reply)[2]);
    }
  };
  std::optional<int> code;
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (!code && std::chrono::steady_clock::now() < deadline) {
    take(200ms);
    code = server.process().wait(0ms);
  }
  take(1s);
  REQUIRE(code);
  CHECK(*code == 0);
  // Nothing was committed without its acknowledgement leaving, and nothing acknowledged is missing.
  CHECK(query_strings(server.database(), "SELECT id FROM incidents") == acked);
  INFO("acknowledged before exit: " << acked.size());
  CHECK(server.log().find("tocsin stopped") != std::string::npos);
}
