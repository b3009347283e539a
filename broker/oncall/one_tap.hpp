#pragma once
// One-tap acknowledgement links in staff pages: https://HOST/a/TOKEN, where the token names one
// delivery (so its person and its incident), expires, and is signed (HMAC-SHA256 under a key of
// the data directory) so that it cannot be made or altered. Opening it (GET) only shows what a tap
// will do: link scanners that fetch every URL of a message acknowledge nothing. The tap (POST)
// acknowledges as that person. Stateless: nothing is stored until the tap.

#include <chrono>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "core/time.hpp"

namespace tocsin {

class OneTap {
 public:
  // `key`: 64 hex characters; `base_url`: how staff reach the server (http.public_url).
  OneTap(std::string key, std::string base_url, std::chrono::seconds ttl = std::chrono::hours(24));

  std::string link(const std::string& delivery_id, Timestamp expires) const;
  struct Claim {
    std::string delivery_id;
    Timestamp expires{};
  };
  // not_found: not a token of this server (malformed, altered); expired: out of date.
  Result<Claim> verify(std::string_view token, Timestamp now) const;

  // A link for this delivery valid for the links' time from now.
  std::string link(const std::string& delivery_id) const { return link(delivery_id, now() + ttl_); }

 private:
  std::string mac(std::string_view signed_part) const;
  std::string key_;
  std::string base_url_;
  std::chrono::seconds ttl_;
};

}  // namespace tocsin
