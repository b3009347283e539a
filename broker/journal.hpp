#pragma once
// The journal: SQLite, one writer thread, group commit. A report is acknowledged (its callback
// runs) only after the transaction holding it committed.

#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "broker/broker_metrics.hpp"
#include "core/incident.hpp"
#include "core/result.hpp"
#include "core/ulid.hpp"

namespace tocsin {

struct Accepted {
  std::string incident_id;
  bool created = false;  // false: folded into the active incident with the same dedup_key
};

using AcceptCallback = std::function<void(Result<Accepted>)>;

// Told of every committed change, in commit order, on the journal's thread. Must not block.
class CommitObserver {
 public:
  virtual ~CommitObserver() = default;
  virtual void on_committed(std::vector<IncidentRecord> records) = 0;
};

struct JournalOptions {
  std::filesystem::path database;
  std::string node_id;
  std::size_t max_batch = 4096;
  std::string synchronous = "full";
};

class Journal {
 public:
  Journal(JournalOptions options, BrokerMetrics& metrics);
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // Starts the writer. The database must exist and be migrated (sqlite::migrate).
  void start(CommitObserver* observer);
  // Thread-safe. `done` runs on the writer thread once the report is durable (or failed).
  void submit(Incident report, AcceptCallback done);
  // Commits and answers everything submitted so far, then stops the writer.
  void stop();

 private:
  struct Pending {
    Incident report;
    std::string location_json;  // empty: no location
    std::string attributes_json;
    std::string report_json;  // kept in the event
    AcceptCallback done;
  };
  void run();

  JournalOptions options_;
  BrokerMetrics& metrics_;
  CommitObserver* observer_ = nullptr;
  UlidGenerator ids_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Pending> queue_;
  bool stopping_ = false;
  std::thread writer_;
};

}  // namespace tocsin
