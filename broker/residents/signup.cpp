#include "broker/residents/signup.hpp"

#include <sodium.h>

#include <cstdio>

namespace tocsin::residents {

namespace {

std::int64_t sends_since(db::Connection& db, const std::string& blind, Timestamp since) {
  auto st = db.prepare("SELECT count(*) FROM resident_sends WHERE blind = ?1 AND sent_at >= ?2");
  st.bind(1, blind).bind(2, to_unix_ms(since));
  st.step();
  return st.integer(0);
}

bool same(const std::string& a, const std::string& b) {
  return a.size() == b.size() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

Result<bool> may_send(db::Connection& db, const std::string& blind, const std::string& field,
                      std::size_t per_day, Timestamp at) {
  using namespace std::chrono;
  if (sends_since(db, blind, at - hours(1)) >= 3 || sends_since(db, blind, at - hours(24)) >= 10)
    return Error{"rate_limited", "too many codes were sent to this contact: try again in an hour",
                 field};
  if (sends_since(db, "", at - hours(24)) >= std::int64_t(per_day))
    return Error{"rate_limited",
                 "the city has sent all the codes it sends in a day: try again tomorrow", field};
  return true;
}

Issued issue(db::Connection& db, const SealedBox& box, const std::string& resident_id,
             const std::string& kind, const std::string& blind, const std::string& id,
             Timestamp at) {
  Issued out{id, {}};
  if (kind == "phone") {
    char digits[8];
    std::snprintf(digits, sizeof digits, "%06u", unsigned(randombytes_uniform(1000000)));
    out.secret = digits;
  } else {
    unsigned char raw[24];
    randombytes_buf(raw, sizeof raw);
    char text[sodium_base64_ENCODED_LEN(sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
    sodium_bin2base64(text, sizeof text, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    out.secret = text;
  }
  auto st = db.prepare(
      "INSERT INTO resident_codes (id, resident_id, kind, secret, expires_at) VALUES (?1, ?2, ?3, "
      "?4, ?5)");
  st.bind(1, id).bind(2, resident_id).bind(3, kind).bind(4, box.blind("code:" + id, out.secret));
  st.bind(5, to_unix_ms(at + kCodeLifetime));
  st.run();
  auto sent = db.prepare("INSERT INTO resident_sends (blind, sent_at) VALUES (?1, ?2)");
  for (const std::string& b : {blind, std::string()}) {
    sent.bind(1, b).bind(2, to_unix_ms(at));
    sent.run();
  }
  return out;
}

Result<Redeemed> redeem(db::Connection& db, const SealedBox& box, const std::string& id,
                        const std::string& given, Timestamp at, int* tries_left) {
  auto st = db.prepare(
      "SELECT resident_id, kind, secret, expires_at, tries, used_at FROM resident_codes WHERE id "
      "= ?1");
  st.bind(1, id);
  if (!st.step())
    return Error{"unknown", "this code is not one we sent: ask for a new one", "code"};
  Redeemed r{st.text(0), st.text(1)};
  const std::string secret = st.text(2);
  const std::int64_t expires = st.integer(3), tries = st.integer(4);
  const bool used = !st.is_null(5);
  st.reset();
  if (used) return Error{"used", "this code was already used: ask for a new one", "code"};
  if (to_unix_ms(at) > expires)
    return Error{"expired", "this code has expired (after 10 minutes): ask for a new one", "code"};
  if (tries >= kCodeTries)
    return Error{"exhausted", "too many wrong tries: ask for a new code", "code"};
  if (!same(box.blind("code:" + id, given), secret)) {
    auto miss = db.prepare("UPDATE resident_codes SET tries = tries + 1 WHERE id = ?1");
    miss.bind(1, id);
    miss.run();
    if (tries_left) *tries_left = int(kCodeTries - tries - 1);
    return Error{"wrong", "this is not the code we sent", "code"};
  }
  auto use = db.prepare("UPDATE resident_codes SET used_at = ?2 WHERE id = ?1");
  use.bind(1, id).bind(2, to_unix_ms(at));
  use.run();
  auto confirm = db.prepare(
      "UPDATE resident_contacts SET confirmed_at = ?3 WHERE resident_id = ?1 AND kind = ?2 AND "
      "confirmed_at IS NULL");
  confirm.bind(1, r.resident_id).bind(2, r.kind).bind(3, to_unix_ms(at));
  confirm.run();
  return r;
}

std::string session_value(const SealedBox& box, const std::string& resident_id, Timestamp until) {
  const std::string body = resident_id + "." + std::to_string(to_unix_ms(until));
  return body + "." + box.blind("session", body);
}

std::optional<std::string> session_resident(const SealedBox& box, const std::string& value,
                                            Timestamp at) {
  if (value.size() > 200) return std::nullopt;
  auto mac_at = value.rfind('.');
  if (mac_at == std::string::npos) return std::nullopt;
  const std::string body = value.substr(0, mac_at);
  if (!same(box.blind("session", body), value.substr(mac_at + 1))) return std::nullopt;
  auto dot = body.find('.');
  if (dot == std::string::npos) return std::nullopt;
  std::int64_t until = 0;
  try {
    until = std::stoll(body.substr(dot + 1));
  } catch (const std::exception&) {
    return std::nullopt;
  }
  if (to_unix_ms(at) > until) return std::nullopt;
  return body.substr(0, dot);
}

}  // namespace tocsin::residents
