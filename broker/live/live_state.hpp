#pragma once
// The live projection of active incidents in Redis: one hash per incident
// (tocsin:incident:{id}) and a sorted set of active ids by last update (tocsin:incidents:active).
// SQLite stays the system of record: the projection is rebuilt from it at start-up and whenever
// Redis comes back after an outage. Alerting never waits for Redis.

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "broker/journal/journal.hpp"
#include "broker/live/redis_endpoint.hpp"
#include "broker/metrics/broker_metrics.hpp"
#include "broker/storage/incident_store.hpp"

struct redisContext;

namespace tocsin {

class LiveState : public CommitObserver {
 public:
  // `before_connect` runs before each connection attempt and may change the endpoint (managed
  // mode restarts its server, on a new socket).
  using BeforeConnect = std::function<void(RedisEndpoint&)>;
  LiveState(RedisEndpoint endpoint, IncidentStore& store, BrokerMetrics& metrics,
            BeforeConnect before_connect = {});
  ~LiveState() override;

  void start();
  void stop();

  // "ok" when connected and current, "degraded" otherwise.
  std::string status() const { return up_.load() ? "ok" : "degraded"; }
  std::string last_error() const;
  std::string endpoint() const;  // for health and logs: no password

  // CommitObserver
  void on_committed(std::vector<IncidentRecord> records) override;

  // The deliveries of these alerts changed: their counts by state are projected to
  // tocsin:alert:{id} (coalesced: a burst of changes costs one read per alert).
  void alerts_changed(std::vector<std::string> alert_ids);
  // A hash of live facts that are not in SQLite (siren status): the latest value of each key is
  // written; while Redis is away they are dropped (the poller writes them again).
  void set_hash(std::string key, std::vector<std::pair<std::string, std::string>> fields);

 private:
  void run(std::stop_token stop);
  bool connect();
  void disconnect(const std::string& why);
  bool rebuild();
  bool write(const std::vector<IncidentRecord>& records);
  bool ping();
  bool write_alert_counts(const std::set<std::string>& alert_ids);
  bool send(class Pipeline& p);  // false: the connection is dropped (and the error kept)

  RedisEndpoint endpoint_;
  IncidentStore& store_;
  BrokerMetrics& metrics_;
  BeforeConnect before_connect_;
  redisContext* ctx_ = nullptr;

  mutable std::mutex mutex_;
  std::condition_variable_any wake_;
  std::deque<IncidentRecord> queue_;
  std::set<std::string> changed_alerts_;
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> hashes_;
  bool accepting_ = false;   // queue commits (connected, or rebuilding)
  bool overflowed_ = false;  // records were dropped: a rebuild is needed
  std::string last_error_;
  std::atomic<bool> up_{false};
  std::jthread thread_;
};

}  // namespace tocsin
