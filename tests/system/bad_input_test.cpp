#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include "tests/support/redis_server.hpp"
#include "tests/support/sensor_client.hpp"
#include "tests/support/tocsin_server.hpp"

using namespace tocsin::test;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

struct BadInput {
  std::string name;
  std::string body;
  std::string code;
  std::string field;
};

std::vector<BadInput> bad_inputs() {
  const std::string ok_head = R"({"source":"s","type":"a.b","severity":"minor")";
  std::string not_utf8 = ok_head + R"(,"headline":"caf)" + "\xC3\x28" + R"("})";
  std::string too_large = ok_head + R"(,"description":")" + std::string(70000, 'x') + R"("})";
  return {
      {"not JSON", "{\"source\": ", "not_json", "body"},
      {"not UTF-8", not_utf8, "not_utf8", "body"},
      {"over the size limit", too_large, "too_large", "body"},
      {"a missing field", R"({"source":"s","type":"a.b"})", "missing_field", "severity"},
      {"a wrongly typed field", R"({"source":"s","type":"a.b","severity":3})", "wrong_type",
       "severity"},
      {"an unknown severity", R"({"source":"s","type":"a.b","severity":"catastrophic"})",
       "invalid_value", "severity"},
      {"a latitude out of range", ok_head + R"(,"location":{"lat":-90.5,"lon":10}})",
       "out_of_range", "location.lat"},
      {"a longitude out of range", ok_head + R"(,"location":{"lat":45,"lon":200}})", "out_of_range",
       "location.lon"},
      {"a polygon that is not closed",
       ok_head +
           R"(,"location":{"polygon":[{"lat":1,"lon":1},{"lat":1,"lon":2},{"lat":2,"lon":2},{"lat":2,"lon":1}]}})",
       "invalid_value", "location.polygon"},
      {"a polygon of fewer than 4 points",
       ok_head +
           R"(,"location":{"polygon":[{"lat":1,"lon":1},{"lat":1,"lon":2},{"lat":1,"lon":1}]}})",
       "invalid_value", "location.polygon"},
      {"attributes nested too deep", ok_head + R"(,"attributes":{"level":{"m":4.2}}})", "too_deep",
       "attributes.level"},
      {"JSON nested too deep", ok_head + R"(,"attributes":{"a":[[[[[[[[[[1]]]]]]]]]]}})",
       "too_deep", "body"},
  };
}

}  // namespace

TEST_CASE("bad input over ZeroMQ gets an error reply naming the field, and serving goes on",
          "[bad-input]") {
  RedisServer redis;
  TocsinServer server(redis.url());
  server.start();
  SensorClient client(server.zmq_endpoint());

  for (const auto& bad : bad_inputs()) {
    INFO(bad.name);
    auto reply = client.request("req-" + bad.code, bad.body);
    REQUIRE(reply);
    REQUIRE(reply->size() == 4);
    CHECK((*reply)[0] == "req-" + bad.code);
    CHECK((*reply)[1] == "error");
    CHECK((*reply)[2] == bad.code);
    CHECK((*reply)[3].rfind(bad.field + ":", 0) == 0);
  }

  SECTION("a wrong frame count") {
    client.send({"only-one-frame"});
    auto one = client.receive(10s);
    REQUIRE(one);
    CHECK((*one)[0] == "only-one-frame");
    CHECK((*one)[1] == "error");
    CHECK((*one)[2] == "bad_frames");
    CHECK((*one)[3] ==
          "frames: expected [request-id][json report] or "
          "[request-id][ack|resolve|cancel|heartbeat][json], "
          "got 1 frames");

    client.send({"r3", "reopen", incident_json("s", "k")});
    auto three = client.receive(10s);
    REQUIRE(three);
    CHECK((*three)[0] == "r3");
    CHECK((*three)[2] == "bad_frames");
  }

  // The broker is still serving, and refused reports left nothing behind.
  auto good = client.request("good", incident_json("s", "still-serving"));
  REQUIRE(good);
  CHECK((*good)[1] == "ok");
  CHECK(query_integer(server.database(), "SELECT count(*) FROM incidents") == 1);
  auto metrics = server.get("/metrics");
  REQUIRE(metrics);
  CHECK(metrics->body.find("tocsin_incidents_rejected_total{reason=\"not_utf8\"} 1") !=
        std::string::npos);
}

TEST_CASE("bad input over HTTP gets a JSON error naming the field, and serving goes on",
          "[bad-input][http]") {
  RedisServer redis;
  TocsinServer server(redis.url());
  server.start();

  for (const auto& bad : bad_inputs()) {
    INFO(bad.name);
    auto r = server.post("/api/v1/incidents", bad.body);
    REQUIRE(r);
    CHECK(r->status == (bad.code == "too_large" ? 413 : 400));
    CHECK(r->headers["content-type"] == "application/json");
    auto err = json::parse(r->body).at("error");
    CHECK(err.at("code").as_string() == bad.code);
    CHECK(err.at("field").as_string() == bad.field);
    CHECK(std::string(err.at("message").as_string()).rfind(bad.field + ":", 0) == 0);
  }

  SECTION("an HTTP body over the server's limit") {
    auto r = server.post("/api/v1/incidents", std::string(200000, ' '));
    REQUIRE(r);
    CHECK(r->status == 413);
    CHECK(json::parse(r->body).at("error").at("code").as_string() == "too_large");
  }
  SECTION("a body that is not declared JSON") {
    auto r = server.post("/api/v1/incidents", incident_json("s", "k"), "text/plain");
    REQUIRE(r);
    CHECK(r->status == 415);
    CHECK(json::parse(r->body).at("error").at("field").as_string() == "Content-Type");
  }
  SECTION("an unknown path and a wrong method") {
    auto r = server.get("/api/v1/nothing");
    REQUIRE(r);
    CHECK(r->status == 404);
    auto m = server.request("DELETE", "/api/v1/incidents");
    REQUIRE(m);
    CHECK(m->status == 405);
    CHECK(m->headers["allow"] == "GET, POST");
  }
  SECTION("a bad list query") {
    auto r = server.get("/api/v1/incidents?state=sleeping");
    REQUIRE(r);
    CHECK(r->status == 400);
    CHECK(json::parse(r->body).at("error").at("field").as_string() == "state");
  }

  auto good = server.post("/api/v1/incidents", incident_json("s", "still-serving"));
  REQUIRE(good);
  CHECK(good->status == 201);
  CHECK(query_integer(server.database(), "SELECT count(*) FROM incidents") == 1);
}
