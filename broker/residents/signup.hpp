#pragma once
// What confirms a resident's contact (double opt-in) and opens their subscription again without a
// password: a 6-digit code by SMS, or a link by e-mail, each expiring after 10 minutes, 5 tries
// for a code, used once; kept only as keyed hashes. Sends are limited per contact (3 an hour, 10
// a day) and in all per day, since texting codes to numbers someone else typed costs the city
// (SMS pumping). Writes run in the caller's transaction (the journal's).

#include <chrono>
#include <optional>
#include <string>

#include "broker/residents/sealed_box.hpp"
#include "broker/storage/database.hpp"
#include "core/result.hpp"
#include "core/time.hpp"

namespace tocsin::residents {

inline constexpr std::chrono::minutes kCodeLifetime{10};
inline constexpr int kCodeTries = 5;

struct Issued {
  std::string id;      // the code's: in the confirmation page's address
  std::string secret;  // the 6 digits, or the link's token: sent, never stored
};

// Whether one more code may go to the contact whose blind index is `blind`: an error (code
// rate_limited, naming `field`) past 3 an hour or 10 a day for it, or `per_day` in all.
Result<bool> may_send(db::Connection& db, const std::string& blind, const std::string& field,
                      std::size_t per_day, Timestamp at);

// A new code (kind phone) or link token (kind email) for the resident's contact, counted as a
// send of `blind`.
Issued issue(db::Connection& db, const SealedBox& box, const std::string& resident_id,
             const std::string& kind, const std::string& blind, const std::string& id,
             Timestamp at);

// The code (or token) given for code `id`: the resident it confirms (their contact of the code's
// kind confirmed now), or why not: unknown, wrong (a try used; `tries_left` says how many
// remain), expired, used or exhausted (5 wrong tries). Each names the field `code`.
struct Redeemed {
  std::string resident_id;
  std::string kind;
};
Result<Redeemed> redeem(db::Connection& db, const SealedBox& box, const std::string& id,
                        const std::string& given, Timestamp at, int* tries_left = nullptr);

// A signed-in resident's cookie value (their id, an expiry, a MAC with the residents' key), and
// the id it names if it is valid now.
std::string session_value(const SealedBox& box, const std::string& resident_id, Timestamp until);
std::optional<std::string> session_resident(const SealedBox& box, const std::string& value,
                                            Timestamp at);

}  // namespace tocsin::residents
