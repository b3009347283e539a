#pragma once
// What the broker counts, exposed at GET /metrics.

#include <map>
#include <mutex>
#include <string>

#include "core/metrics.hpp"

namespace tocsin {

class BrokerMetrics {
 public:
  Counter received_zmq;
  Counter received_http;
  Counter created;
  Counter updated;
  Histogram commit_seconds{0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5};
  Histogram ack_seconds{0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5};
  Histogram batch_size{1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000};
  Counter redis_errors;
  Counter redis_rebuilds;
  std::atomic<int> redis_up{0};
  std::atomic<long> journal_queue{0};
  std::atomic<long> runs_pending{0};  // committed reports whose playbooks have not run yet

  Counter commit_failures;  // journal transactions rolled back (a full disk, I/O, a held lock)
  Counter internal_errors;  // journal transactions rolled back on an exception not the database's

  void rejected(const std::string& reason) {
    std::lock_guard lock(mutex_);
    rejected_[reason].inc();
  }

  // The journal's state for /health: failing from a rolled-back commit until the next commit.
  // Returns whether this failure is the first of a run (to log once).
  bool journal_failed(std::string error) {
    commit_failures.inc();
    std::lock_guard lock(mutex_);
    journal_error_ = std::move(error);
    return !journal_failing_.exchange(true);
  }
  // Returns whether the journal was failing until now (to log its recovery).
  bool journal_committed() {
    if (!journal_failing_.load(std::memory_order_relaxed)) return false;
    std::lock_guard lock(mutex_);
    return journal_failing_.exchange(false);
  }
  // Empty: committing.
  std::string journal_failing() const {
    if (!journal_failing_.load(std::memory_order_relaxed)) return {};
    std::lock_guard lock(mutex_);
    return journal_error_;
  }

  std::string render() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, Counter> rejected_;
  std::atomic<bool> journal_failing_{false};
  std::string journal_error_;
};

}  // namespace tocsin
