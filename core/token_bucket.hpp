#pragma once
// A token bucket: `burst` tokens at most, refilled at `rate` a second. The one rate limit of the
// code base: a channel's sends (dispatchers' lanes) and storm control's new incidents per source
// and type (the journal). Time is passed in, so it is tested without a clock; not thread-safe.

#include <algorithm>
#include <chrono>
#include <optional>

namespace tocsin {

class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;
  TokenBucket(double rate_per_second, double burst)
      : rate_(rate_per_second), burst_(burst), tokens_(burst) {}

  // Takes a token and returns nullopt, or returns how long until one is there.
  std::optional<Clock::duration> take(Clock::time_point now) {
    refill(now);
    if (tokens_ >= 1.0) {
      tokens_ -= 1.0;
      return std::nullopt;
    }
    double seconds = (1.0 - tokens_) / rate_;
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  }
  // Whether a token is there now, without taking it.
  bool ready(Clock::time_point now) {
    refill(now);
    return tokens_ >= 1.0;
  }
  // Takes a token whether or not one is there (the count may go below zero: a debt).
  void spend(Clock::time_point now) {
    refill(now);
    tokens_ -= 1.0;
  }
  // Full again: nothing taken that has not been refilled (an idle key may be forgotten).
  bool full(Clock::time_point now) const {
    double elapsed = last_ == Clock::time_point{}
                         ? 0.0
                         : std::chrono::duration<double>(now - last_).count();
    return tokens_ + elapsed * rate_ >= burst_;
  }

 private:
  void refill(Clock::time_point now) {
    if (last_ != Clock::time_point{}) {
      double elapsed = std::chrono::duration<double>(now - last_).count();
      tokens_ = std::min(burst_, tokens_ + elapsed * rate_);
    }
    last_ = now;
  }
  double rate_, burst_, tokens_;
  Clock::time_point last_{};
};

}  // namespace tocsin
