#include "broker/residents/retention.hpp"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <condition_variable>
#include <memory>
#include <mutex>

#include "broker/residents/registry.hpp"
#include "core/time.hpp"

namespace tocsin {

// How long a sign-up waits for its confirmation before it is erased.
constexpr std::chrono::hours kUnconfirmedKept{24};

ResidentRetention::ResidentRetention(Write write, std::chrono::seconds every)
    : write_(std::move(write)), every_(every) {}

void ResidentRetention::start() {
  thread_ = std::jthread([this](std::stop_token stop) { run(stop); });
}

void ResidentRetention::stop() {
  if (!thread_.joinable()) return;
  thread_.request_stop();
  thread_.join();
}

void ResidentRetention::run(std::stop_token stop) {
  pthread_setname_np(pthread_self(), "res-retention");
  std::mutex m;
  std::condition_variable_any wake;
  for (;;) {
    auto purged = std::make_shared<std::int64_t>(0);
    write_(
        [purged](db::Connection& db) {
          *purged = residents::purge_unconfirmed(db, now(), kUnconfirmedKept);
        },
        [purged](bool committed) {
          if (!committed)
            spdlog::error("residents: the retention's purge was not stored; next hour again");
          else if (*purged > 0)
            spdlog::info("residents: erased {} sign-up(s) left unconfirmed for {} h", *purged,
                         kUnconfirmedKept.count());
        });
    std::unique_lock lock(m);
    wake.wait_for(lock, stop, every_, [] { return false; });  // woken by the stop only
    if (stop.stop_requested()) return;
  }
}

}  // namespace tocsin
