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

  void rejected(const std::string& reason) {
    std::lock_guard lock(mutex_);
    rejected_[reason].inc();
  }

  std::string render() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, Counter> rejected_;
};

}  // namespace tocsin
