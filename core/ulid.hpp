#pragma once
// ULIDs: 48-bit millisecond time + 80 random bits, Crockford base32, 26 characters.
// Sortable by creation time and unique across nodes without coordination.

#include <cstdint>
#include <mutex>
#include <random>
#include <string>

namespace tocsin {

class UlidGenerator {
 public:
  UlidGenerator();

  // Thread-safe. Within one millisecond, ids from one generator increase monotonically.
  std::string next();

 private:
  std::mutex mutex_;
  std::mt19937_64 rng_;
  std::int64_t last_ms_ = -1;
  std::uint16_t rand_hi_ = 0;  // top 16 of the 80 random bits
  std::uint64_t rand_lo_ = 0;  // low 64 bits
};

bool is_ulid(std::string_view text);

}  // namespace tocsin
