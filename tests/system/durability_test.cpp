#include <catch2/catch.hpp>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include "tests/support/redis_server.hpp"
#include "tests/support/sensor_client.hpp"
#include "tests/support/tocsin_server.hpp"
#include "tests/support/wait.hpp"

using namespace tocsin::test;
using namespace std::chrono_literals;

TEST_CASE("SIGKILL while clients send: every acknowledged incident survives, exactly once",
          "[durability]") {
  RedisServer redis;
  TocsinServer server(redis.url());
  server.start();

  constexpr int kClients = 4;
  constexpr int kWindow = 200;  // requests outstanding per client
  std::mutex mutex;
  std::map<std::string, std::string> acked;  // dedup_key -> incident id
  std::atomic<int> ack_count{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&, c] {
      SensorClient client(server.zmq_endpoint());
      int sent = 0, outstanding = 0;
      while (!stop) {
        while (outstanding < kWindow) {
          std::string key = "crash-" + std::to_string(c) + "-" + std::to_string(sent++);
          client.send(key, incident_json("sensor-" + std::to_string(c), key));
          ++outstanding;
        }
        auto reply = client.receive(500ms);
        if (!reply) continue;  // the server is gone: keep trying until told to stop
        --outstanding;
        if (reply->size() == 4 && (*reply)[1] == "ok") {
          std::lock_guard lock(mutex);
          acked[(*reply)[0]] = (*reply)[2];
          ++ack_count;
        }
      }
    });
  }

  REQUIRE(wait_until([&] { return ack_count >= 5000; }, 60s));
  server.kill9();  // mid-stream: requests are in flight in every client
  stop = true;
  for (auto& t : threads) t.join();
  INFO("acknowledged before the kill: " << acked.size());

  server.start();
  std::map<std::string, std::string> stored;
  for (const auto& row :
       query_strings(server.database(), "SELECT dedup_key || ' ' || id FROM incidents")) {
    auto space = row.find(' ');
    stored[row.substr(0, space)] = row.substr(space + 1);
  }
  std::size_t missing = 0;
  for (const auto& [key, id] : acked) {
    auto it = stored.find(key);
    if (it == stored.end() || it->second != id) ++missing;
  }
  CHECK(missing == 0);
  // Exactly once: one row per report key, one event per incident.
  CHECK(query_integer(server.database(), "SELECT count(*) FROM incidents") ==
        query_integer(server.database(), "SELECT count(DISTINCT dedup_key) FROM incidents"));
  CHECK(query_integer(server.database(),
                      "SELECT count(*) FROM (SELECT incident_id FROM incident_events GROUP BY "
                      "incident_id HAVING count(*) != 1)") == 0);
  // The projection is rebuilt from SQLite at start-up.
  auto active = query_strings(server.database(), "SELECT id FROM incidents WHERE state = 'active'");
  CHECK(wait_until([&] { return redis.zrange("tocsin:incidents:active") == active; }, 20s));
  CHECK(server.terminate() == 0);
}

// An acknowledgement does not wait for the report's playbooks: they run in the journal's next
// transactions. A crash in between must lose no run and start none twice.
TEST_CASE(
    "SIGKILL after reports are acknowledged but before their runs exist: each run starts "
    "after the restart, exactly once",
    "[durability][playbooks]") {
  ServerOptions options;
  options.playbooks_dir = TOCSIN_SOURCE_DIR "/config/playbooks";
  TocsinServer server(options);
  server.start();

  constexpr int kClients = 4, kPerClient = 3000, kWindow = 500;
  std::atomic<int> acked{0};
  std::atomic<bool> killed{false};
  std::vector<std::thread> threads;
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&, c] {
      SensorClient client(server.zmq_endpoint());
      int sent = 0, answered = 0;
      while (answered < kPerClient && !killed) {
        while (sent < kPerClient && sent - answered < kWindow) {
          std::string key = "gauge-" + std::to_string(c) + "-" + std::to_string(sent++);
          client.send(key, R"({"source":"gauge-)" + std::to_string(c) +
                               R"(","type":"flood.water_level","severity":"severe",)"
                               R"("location":{"zone":"riverside"},"attributes":{"level_m":4.2},)"
                               R"("dedup_key":")" +
                               key + R"("})");
        }
        auto reply = client.receive(2000ms);
        if (!reply) continue;
        ++answered;
        if (reply->size() == 4 && (*reply)[1] == "ok") ++acked;
      }
    });
  }
  // Killed the moment the last report is acknowledged: their runs are still being made.
  REQUIRE(wait_until([&] { return acked == kClients * kPerClient; }, 120s, 1ms));
  server.kill9();
  killed = true;
  for (auto& t : threads) t.join();

  const std::string db = server.database();
  const std::string incidents = "SELECT count(*) FROM incidents WHERE type = 'flood.water_level'";
  const std::string with_run =
      "SELECT count(DISTINCT incident_id) FROM playbook_runs WHERE playbook_id = "
      "'flood-riverside'";
  REQUIRE(query_integer(db, incidents) == kClients * kPerClient);
  long long before = query_integer(db, with_run);
  INFO("runs before the restart: " << before << " of " << kClients * kPerClient);
  REQUIRE(before < kClients * kPerClient);  // the crash came before some runs existed

  server.start();
  CHECK(wait_until([&] { return query_integer(db, with_run) == kClients * kPerClient; }, 120s));
  // Exactly once: no incident has two runs of the playbook.
  CHECK(query_integer(db,
                      "SELECT count(*) FROM playbook_runs WHERE playbook_id = "
                      "'flood-riverside'") == kClients * kPerClient);
  CHECK(server.terminate() == 0);
}
