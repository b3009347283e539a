#include "core/ulid.hpp"

#include <array>

#include "core/time.hpp"

namespace tocsin {

namespace {
constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

std::mt19937_64 seeded() {
  std::random_device rd;
  std::seed_seq seq{rd(), rd(), rd(), rd(), rd(), rd(), rd(), rd()};
  return std::mt19937_64(seq);
}
}  // namespace

UlidGenerator::UlidGenerator() : rng_(seeded()) {}

std::string UlidGenerator::next() {
  std::uint64_t ms;
  std::uint16_t hi;
  std::uint64_t lo;
  {
    std::lock_guard lock(mutex_);
    std::int64_t t = to_unix_ms(now());
    if (t <= last_ms_) {
      // Same millisecond (or the clock stepped back): increment the random part.
      t = last_ms_;
      if (++rand_lo_ == 0) ++rand_hi_;
    } else {
      last_ms_ = t;
      rand_lo_ = rng_();
      rand_hi_ = static_cast<std::uint16_t>(rng_() & 0x7fff);  // leave room to increment
    }
    ms = static_cast<std::uint64_t>(t);
    hi = rand_hi_;
    lo = rand_lo_;
  }
  std::string out(26, '0');
  // 48-bit time in 10 characters (the first carries 3 bits).
  for (int i = 9; i >= 0; --i) {
    out[i] = kAlphabet[ms & 31];
    ms >>= 5;
  }
  // 80 random bits in 16 characters: 5 bits each, from the least significant end.
  for (int i = 25; i >= 10; --i) {
    out[i] = kAlphabet[lo & 31];
    lo = (lo >> 5) | (std::uint64_t(hi & 31) << 59);
    hi >>= 5;
  }
  return out;
}

bool is_ulid(std::string_view text) {
  if (text.size() != 26 || text[0] > '7') return false;
  for (char c : text) {
    bool found = false;
    for (const char* a = kAlphabet; *a; ++a) found |= (*a == c);
    if (!found) return false;
  }
  return true;
}

}  // namespace tocsin
