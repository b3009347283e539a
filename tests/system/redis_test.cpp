#include <catch2/catch.hpp>

#include <csignal>
#include <fstream>

#include <boost/json.hpp>

#include "tests/support/redis_server.hpp"
#include "tests/support/sensor_client.hpp"
#include "tests/support/tocsin_server.hpp"
#include "tests/support/wait.hpp"

using namespace tocsin::test;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

int send_many(SensorClient& client, const std::string& prefix, int n) {
  for (int i = 0; i < n; ++i)
    client.send(prefix + std::to_string(i), incident_json("s", prefix + std::to_string(i)));
  int ok = 0;
  for (int i = 0; i < n; ++i) {
    auto reply = client.receive(10s);
    if (!reply) break;
    ok += (*reply)[1] == "ok";
  }
  return ok;
}

std::set<std::string> active_in_sqlite(const TocsinServer& s) {
  return query_strings(s.database(), "SELECT id FROM incidents WHERE state = 'active'");
}

// Living children of every thread of pid (a zombie not yet reaped does not count).
std::vector<pid_t> children_of(pid_t pid) {
  std::vector<pid_t> out;
  std::error_code ec;
  for (const auto& task :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    std::ifstream in(task.path() / "children");
    pid_t child;
    while (in >> child) {
      std::ifstream stat("/proc/" + std::to_string(child) + "/stat");
      std::string pid_field, comm, state;
      stat >> pid_field >> comm >> state;
      if (state != "Z") out.push_back(child);
    }
  }
  return out;
}

}  // namespace

TEST_CASE("Redis dies during ingest: acknowledgements go on, health degrades, then recovers",
          "[redis]") {
  RedisServer redis;
  TocsinServer server(redis.url());
  server.start();
  SensorClient client(server.zmq_endpoint());

  REQUIRE(send_many(client, "before-", 500) == 500);
  REQUIRE(wait_until([&] { return redis.zrange("tocsin:incidents:active").size() == 500; }, 10s));

  redis.kill();
  REQUIRE(wait_until([&] { return server.health("redis") == "degraded"; }, 10s));
  auto health = json::parse(server.get("/health")->body);
  CHECK(health.at("status").as_string() == "degraded");
  CHECK(server.get("/metrics")->body.find("tocsin_redis_up 0") != std::string::npos);

  // Alerting does not wait for Redis.
  CHECK(send_many(client, "during-", 1000) == 1000);
  CHECK(active_in_sqlite(server).size() == 1500);

  redis.start();  // an empty Redis: everything must come back from SQLite
  REQUIRE(wait_until([&] { return server.health("redis") == "ok"; }, 20s));
  CHECK(wait_until(
      [&] { return redis.zrange("tocsin:incidents:active") == active_in_sqlite(server); }, 20s));
  CHECK(send_many(client, "after-", 100) == 100);
  CHECK(wait_until(
      [&] { return redis.zrange("tocsin:incidents:active") == active_in_sqlite(server); }, 20s));
  CHECK(server.terminate() == 0);
}

TEST_CASE("managed mode: tocsin runs its own redis-server, restarts it, and stops it on exit",
          "[redis]") {
  TocsinServer server;  // redis.mode: managed
  server.start();
  REQUIRE(wait_until([&] { return server.health("redis") == "ok"; }, 10s));
  auto children = children_of(server.process().pid());
  REQUIRE(children.size() == 1);
  pid_t redis_pid = children[0];

  SensorClient client(server.zmq_endpoint());
  REQUIRE(send_many(client, "m-", 50) == 50);

  ::kill(redis_pid, SIGKILL);
  // Acknowledgements go on while it is down; it comes back by itself, rebuilt from SQLite.
  CHECK(send_many(client, "m2-", 50) == 50);
  REQUIRE(wait_until(
      [&] {
        auto now = children_of(server.process().pid());
        return now.size() == 1 && now[0] != redis_pid && server.health("redis") == "ok";
      },
      20s));
  auto endpoint = std::string(json::parse(server.get("/health")->body)
                                  .at("components")
                                  .at("redis")
                                  .at("endpoint")
                                  .as_string());
  REQUIRE(endpoint.rfind("unix://", 0) == 0);
  auto socket = endpoint.substr(7);
  CHECK(socket.rfind(server.data_dir(), 0) == 0);  // inside the data directory
  auto restarted = children_of(server.process().pid())[0];

  CHECK(server.terminate() == 0);
  CHECK(wait_until([&] { return ::kill(restarted, 0) != 0; }, 10s));  // stopped with us
  CHECK_FALSE(std::filesystem::exists(socket));
}

TEST_CASE("a Redis password comes from the environment and never appears in logs or answers",
          "[redis]") {
  const std::string secret = "correct-horse-battery-staple-42";
  RedisServer redis(secret);
  ::setenv("TOCSIN_TEST_REDIS_PASSWORD", secret.c_str(), 1);
  TocsinServer server(redis.url());
  {
    std::ofstream cfg(server.config_file(), std::ios::app);
    cfg << "  password_env: TOCSIN_TEST_REDIS_PASSWORD\n";
  }
  server.start();
  ::unsetenv("TOCSIN_TEST_REDIS_PASSWORD");
  REQUIRE(wait_until([&] { return server.health("redis") == "ok"; }, 10s));  // AUTH worked
  SensorClient client(server.zmq_endpoint());
  REQUIRE(send_many(client, "p-", 10) == 10);
  redis.kill();
  REQUIRE(wait_until([&] { return server.health("redis") == "degraded"; }, 10s));
  CHECK(server.get("/health")->body.find(secret) == std::string::npos);
  CHECK(server.get("/metrics")->body.find(secret) == std::string::npos);
  CHECK(server.terminate() == 0);
  CHECK(server.log().find(secret) == std::string::npos);
  CHECK(server.log().find("TOCSIN_TEST_REDIS_PASSWORD") == std::string::npos);
}
