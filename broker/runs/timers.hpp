#pragma once
// Run timers, kept in memory and re-armed from SQLite at start-up (the due time is in the run's
// row): after a restart a wait ends at its original due time. A timer that fires for a run that
// moved on is ignored by the run (its due time no longer matches).

#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include <stop_token>
#include <vector>

#include "broker/runs/runs.hpp"

namespace tocsin {

// Arms run timers; each fires back through the intake (Intake::timer_due).
class TimerArm {
 public:
  virtual ~TimerArm() = default;
  virtual void arm(std::vector<RunTimer> timers) = 0;
};

class Timers : public TimerArm {
 public:
  explicit Timers(std::function<void(RunTimer)> fire);
  ~Timers() override;

  void start();
  void stop();

  // TimerArm
  void arm(std::vector<RunTimer> timers) override;

 private:
  void run(std::stop_token stop);

  std::function<void(RunTimer)> fire_;
  std::mutex mutex_;
  std::condition_variable_any wake_;
  std::multimap<Timestamp, std::string> due_;  // due time -> run id
  std::jthread thread_;
};

}  // namespace tocsin
