#pragma once
// The delivery pipeline's small stages, one job each: a rate limit (core/token_bucket.hpp), a
// circuit breaker per provider, and the backoff between attempts. Time is passed in, so each stage
// is tested without a clock. Not thread-safe: a Lane holds them under its lock.

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>

#include "core/token_bucket.hpp"

namespace tocsin::dispatchers {

using Clock = std::chrono::steady_clock;

using tocsin::TokenBucket;  // core/token_bucket.hpp: the rate limit stage

// Closed: sends go through. After `threshold` failures in a row it opens: nothing is attempted
// until `cooldown` passed; then one trial send (half-open) closes it again, or re-opens it.
class CircuitBreaker {
 public:
  enum class State { closed, open, half_open };
  CircuitBreaker(int threshold, Clock::duration cooldown)
      : threshold_(threshold), cooldown_(cooldown) {}

  // nullopt: a send may start now; else when to ask again.
  std::optional<Clock::time_point> admit(Clock::time_point now) {
    if (state_ == State::closed) return std::nullopt;
    if (state_ == State::open && now >= reopen_at_) {
      state_ = State::half_open;
      trial_running_ = false;
    }
    if (state_ == State::half_open && !trial_running_) {
      trial_running_ = true;
      return std::nullopt;
    }
    return state_ == State::open ? reopen_at_ : now + cooldown_;
  }
  void succeeded() {
    failures_ = 0;
    state_ = State::closed;
  }
  void failed(Clock::time_point now) {
    ++failures_;
    if (state_ == State::half_open || failures_ >= threshold_) {
      state_ = State::open;
      reopen_at_ = now + cooldown_;
    }
  }
  State state() const { return state_; }

 private:
  int threshold_;
  Clock::duration cooldown_;
  State state_ = State::closed;
  int failures_ = 0;
  bool trial_running_ = false;
  Clock::time_point reopen_at_{};
};

// Exponential backoff with full jitter: attempt n waits a random time in
// [initial·2^(n-1)/2, initial·2^(n-1)], capped at max; a provider's Retry-After is a floor.
class Backoff {
 public:
  Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max)
      : initial_(initial), max_(max), rng_(std::random_device{}()) {}

  std::chrono::milliseconds delay(int attempts,
                                  std::optional<std::chrono::milliseconds> retry_after) {
    double ceiling = double(initial_.count());
    for (int i = 1; i < attempts && ceiling < double(max_.count()); ++i) ceiling *= 2;
    ceiling = std::min(ceiling, double(max_.count()));
    std::uniform_real_distribution<double> jitter(ceiling / 2, ceiling);
    auto d = std::chrono::milliseconds(std::int64_t(jitter(rng_)));
    if (retry_after && *retry_after > d) d = *retry_after;
    return d;
  }

 private:
  std::chrono::milliseconds initial_, max_;
  std::mt19937_64 rng_;
};

}  // namespace tocsin::dispatchers
