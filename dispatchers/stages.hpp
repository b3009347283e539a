#pragma once
// A channel's lane is a list of stages, one job each, composed by the dispatcher:
//   rate limit → circuit breaker → message checks → send → retry with backoff → fallback.
// Each stage may hold a send back (admit), stand in for it with a refusal (check), settle what
// its result means (settle), and act once the delivery's new state is stored (settled). Below
// them, the mechanisms they use: a token bucket (core/token_bucket.hpp), a circuit breaker and a
// backoff, each with time passed in so it is tested without a clock.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>

#include "channels/channel.hpp"
#include "core/alert.hpp"
#include "core/token_bucket.hpp"

namespace tocsin::dispatchers {

struct AlertContent;

using Clock = std::chrono::steady_clock;

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

// What one send came to, as the stages settle it; the lane then stores it.
struct Settlement {
  enum class Next { done, retry, failed };
  Delivery& delivery;
  const channels::SendResult& result;
  const std::shared_ptr<const AlertContent>& content;
  Next next;                           // from the result: done if sent or delivered, else failed
  std::string error;                   // the delivery's last_error
  std::chrono::milliseconds delay{0};  // retry: after this

  Settlement(Delivery& d, const channels::SendResult& r,
             const std::shared_ptr<const AlertContent>& c)
      : delivery(d),
        result(r),
        content(c),
        next(r.outcome == channels::SendResult::Outcome::sent ||
                     r.outcome == channels::SendResult::Outcome::delivered
                 ? Next::done
                 : Next::failed),
        error(next == Next::done ? "" : r.detail) {}
};

// admit and settle are called under the lane's lock (they are quick and hold no I/O); check
// and settled outside it, from any of the lane's workers.
class Stage {
 public:
  virtual ~Stage() = default;
  // Before the next send: nullopt lets one start now; else when to ask again.
  virtual std::optional<Clock::time_point> admit(Clock::time_point) { return std::nullopt; }
  // Before this delivery's send: a result that stands for the send (a refusal), or nullopt.
  virtual std::optional<channels::SendResult> check(const Delivery&, const Alert&, const Message*) {
    return std::nullopt;
  }
  // After the send, in the lane's order.
  virtual void settle(Settlement&, Clock::time_point) {}
  // Once the delivery's new state is stored.
  virtual void settled(const Settlement&) {}
};

// At most `rate` sends a second, in bursts of `burst`.
class RateLimitStage : public Stage {
 public:
  RateLimitStage(double rate, double burst) : bucket_(rate, burst) {}
  std::optional<Clock::time_point> admit(Clock::time_point now) override {
    if (auto wait = bucket_.take(now)) return now + *wait;
    return std::nullopt;
  }

 private:
  TokenBucket bucket_;
};

// A provider that keeps failing is left alone for a while (a refusal of one message, such as a
// bad number, says nothing about its health).
class BreakerStage : public Stage {
 public:
  BreakerStage(int threshold, Clock::duration cooldown) : breaker_(threshold, cooldown) {}
  std::optional<Clock::time_point> admit(Clock::time_point now) override {
    return breaker_.admit(now);
  }
  void settle(Settlement& s, Clock::time_point now) override {
    if (s.result.outcome == channels::SendResult::Outcome::retry)
      breaker_.failed(now);
    else
      breaker_.succeeded();
  }
  bool open() const { return breaker_.state() != CircuitBreaker::State::closed; }

 private:
  CircuitBreaker breaker_;
};

// A delivery with no message in its language is refused, not sent empty.
class MessageStage : public Stage {
 public:
  std::optional<channels::SendResult> check(const Delivery& d, const Alert& a,
                                            const Message* m) override;
};

// A text over the channel's SMS segments fails; it is never cut.
class SegmentLimitStage : public Stage {
 public:
  explicit SegmentLimitStage(int max_segments) : max_(max_segments) {}
  std::optional<channels::SendResult> check(const Delivery& d, const Alert& a,
                                            const Message* m) override;

 private:
  int max_;
};

// A failure that may pass is tried again after a backoff, until max_attempts or max_age.
class RetryStage : public Stage {
 public:
  RetryStage(int max_attempts, std::chrono::seconds max_age, std::chrono::milliseconds initial,
             std::chrono::milliseconds max)
      : max_attempts_(max_attempts), max_age_(max_age), backoff_(initial, max) {}
  void settle(Settlement& s, Clock::time_point now) override;

 private:
  int max_attempts_;
  std::chrono::seconds max_age_;
  Backoff backoff_;
};

// A delivery that failed for good goes to another channel.
class FallbackStage : public Stage {
 public:
  using Send = std::function<void(const std::shared_ptr<const AlertContent>&, const Delivery&)>;
  explicit FallbackStage(Send send) : send_(std::move(send)) {}
  void settled(const Settlement& s) override {
    if (s.next == Settlement::Next::failed) send_(s.content, s.delivery);
  }

 private:
  Send send_;
};

}  // namespace tocsin::dispatchers
