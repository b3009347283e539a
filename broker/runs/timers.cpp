#include "broker/runs/timers.hpp"

#include <pthread.h>

namespace tocsin {

Timers::Timers(std::function<void(RunTimer)> fire) : fire_(std::move(fire)) {}

Timers::~Timers() {
  stop();
}

void Timers::start() {
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "timers");
    run();
  });
}

void Timers::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void Timers::arm(std::vector<RunTimer> timers) {
  {
    std::lock_guard lock(mutex_);
    for (auto& t : timers) due_.emplace(t.due, std::move(t.run_id));
  }
  wake_.notify_one();
}

void Timers::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    if (due_.empty()) {
      wake_.wait(lock);
      continue;
    }
    auto first = due_.begin();
    // Timestamps are wall-clock (they survive restarts); wait on the system clock.
    if (now() < first->first) {
      wake_.wait_until(lock, std::chrono::system_clock::time_point(first->first));
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
