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
