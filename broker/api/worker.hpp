#pragma once
// One thread that runs blocking jobs (SQLite reads) in order, off the Asio threads.

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include <pthread.h>
#include <spdlog/spdlog.h>

namespace tocsin {

class Worker {
 public:
  Worker()
      : thread_([this](std::stop_token stop) {
          pthread_setname_np(pthread_self(), "reads");
          run(stop);
        }) {}
  ~Worker() { stop(); }
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  void post(std::function<void()> job) {
    {
      std::lock_guard lock(mutex_);
      jobs_.push_back(std::move(job));
    }
    wake_.notify_one();
  }

  // Runs the jobs already posted, then stops.
  void stop() {
    thread_.request_stop();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void run(std::stop_token stop) {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, stop, [&] { return !jobs_.empty(); });
        if (jobs_.empty()) return;  // stopped, and nothing is left
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      // The last boundary: a job's own catch answers its request (Api::off_thread); whatever
      // still escapes is logged, and the next job runs.
      try {
        job();
      } catch (const std::exception& e) {
        spdlog::error("reads: a job failed: {}", e.what());
      } catch (...) {
        spdlog::error("reads: a job failed");
      }
    }
  }

  std::mutex mutex_;
  std::condition_variable_any wake_;
  std::deque<std::function<void()>> jobs_;
  std::jthread thread_;
};

}  // namespace tocsin
