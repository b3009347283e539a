#pragma once
// The residents' retention, kept by the server itself: once at start and every hour, sign-ups
// never confirmed within a day are erased, with the codes and send counts past their use
// (residents::purge_unconfirmed), in the journal's transaction like every write.

#include <chrono>
#include <functional>
#include <thread>

#include "broker/storage/database.hpp"

namespace tocsin {

class ResidentRetention {
 public:
  using Write =
      std::function<void(std::function<void(db::Connection&)>, std::function<void(bool)>)>;
  explicit ResidentRetention(Write write, std::chrono::seconds every = std::chrono::hours(1));
  ~ResidentRetention() { stop(); }
  void start();
  void stop();

 private:
  void run(std::stop_token stop);
  Write write_;
  std::chrono::seconds every_;
  std::jthread thread_;
};

}  // namespace tocsin
