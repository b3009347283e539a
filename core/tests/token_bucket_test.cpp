#include <catch2/catch.hpp>

#include "core/token_bucket.hpp"

using namespace tocsin;
using namespace std::chrono_literals;

TEST_CASE("token bucket: a burst, then one token per 1/rate") {
  TokenBucket b(10, 2);
  auto t = TokenBucket::Clock::now();
  CHECK(!b.take(t));
  CHECK(!b.take(t));
  auto wait = b.take(t);
  REQUIRE(wait);
  CHECK(*wait > 90ms);
  CHECK(*wait <= 100ms);
  CHECK(!b.take(t + 100ms));
  CHECK(b.take(t + 100ms));
}

TEST_CASE("token bucket: ready looks without taking, spend takes, full says it refilled") {
  TokenBucket b(1, 2);  // storm control's shape: 60 a minute, a burst of 2 here
  auto t = TokenBucket::Clock::now();
  CHECK(b.full(t));
  CHECK(b.ready(t));
  CHECK(b.ready(t));  // looking takes nothing
  b.spend(t);
  b.spend(t);
  CHECK(!b.ready(t));
  CHECK(!b.full(t + 1s));
  CHECK(b.ready(t + 1s));
  CHECK(b.full(t + 2s));
}
