#include "broker/runs/timers.hpp"

#include <pthread.h>

namespace tocsin {

Timers::Timers(std::function<void(RunTimer)> fire) : fire_(std::move(fire)) {}

Timers::~Timers() {
  stop();
}

void Timers::start() {
  thread_ = std::jthread([this](std::stop_token stop) {
    pthread_setname_np(pthread_self(), "timers");
    run(stop);
  });
}

void Timers::stop() {
  thread_.request_stop();
  if (thread_.joinable()) thread_.join();
}

void Timers::arm(std::vector<RunTimer> timers) {
  {
    std::lock_guard lock(mutex_);
    for (auto& t : timers) due_.emplace(t.due, std::move(t.run_id));
  }
  wake_.notify_one();
}

void Timers::run(std::stop_token stop) {
  std::unique_lock lock(mutex_);
  while (!stop.stop_requested()) {
    if (due_.empty()) {
      wake_.wait(lock, stop, [&] { return !due_.empty(); });
      continue;
    }
    auto first = due_.begin();
    // Timestamps are wall-clock (they survive restarts); wait on the system clock, or until a
    // sooner timer is armed.
    if (Timestamp due = first->first; now() < due) {
      wake_.wait_until(lock, stop, std::chrono::system_clock::time_point(due),
                       [&] { return !due_.empty() && due_.begin()->first < due; });
      continue;
    }
    RunTimer t{first->second, first->first};
    due_.erase(first);
    lock.unlock();
    fire_(std::move(t));
    lock.lock();
  }
}

}  // namespace tocsin
