#include "broker/oncall/one_tap.hpp"

#include <sodium.h>

#include <charconv>

namespace tocsin {

namespace {
constexpr std::size_t kMacBytes = 12;  // 96 bits: 16 characters of base64url
}  // namespace

OneTap::OneTap(std::string key, std::string base_url, std::chrono::seconds ttl)
    : key_(std::move(key)), base_url_(std::move(base_url)), ttl_(ttl) {
  while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
}

std::string OneTap::mac(std::string_view signed_part) const {
  unsigned char full[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(key_.data()),
                              key_.size());
  static const std::string_view purpose = "tocsin one-tap ack\n";
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(purpose.data()),
                                purpose.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(signed_part.data()),
                                signed_part.size());
  crypto_auth_hmacsha256_final(&state, full);
  char text[sodium_base64_ENCODED_LEN(kMacBytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
  sodium_bin2base64(text, sizeof text, full, kMacBytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  return text;
}

std::string OneTap::link(const std::string& delivery_id, Timestamp expires) const {
  auto minutes = std::chrono::duration_cast<std::chrono::minutes>(expires.time_since_epoch());
  std::string signed_part = delivery_id + "." + std::to_string(minutes.count());
  return base_url_ + "/a/" + signed_part + "." + mac(signed_part);
}

Result<OneTap::Claim> OneTap::verify(std::string_view token, Timestamp now) const {
  const Error unknown{"not_found", "token: not a link of this server", "token"};
  auto last = token.rfind('.');
  if (token.size() > 128 || last == std::string_view::npos) return unknown;
  std::string_view signed_part = token.substr(0, last);
  const std::string expected = mac(signed_part);
  std::string_view given = token.substr(last + 1);
  if (given.size() != expected.size() ||
      sodium_memcmp(given.data(), expected.data(), expected.size()) != 0)
    return unknown;
  auto dot = signed_part.find('.');
  if (dot == std::string_view::npos) return unknown;
  long long minutes = 0;
  auto digits = signed_part.substr(dot + 1);
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), minutes);
  if (ec != std::errc() || end != digits.data() + digits.size()) return unknown;
  Claim c{std::string(signed_part.substr(0, dot)),
          Timestamp(std::chrono::duration_cast<std::chrono::milliseconds>(
              std::chrono::minutes(minutes)))};
  if (c.expires <= now) return Error{"expired", "token: this link has expired", "token"};
  return c;
}

}  // namespace tocsin
