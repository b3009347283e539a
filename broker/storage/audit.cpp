#include "broker/storage/audit.hpp"

#include <openssl/evp.h>

#include <memory>
#include <stdexcept>

#include <boost/json.hpp>

namespace tocsin {

std::string sha256_hex(std::string_view bytes) {
  // The algorithm fetched once and a context per thread: OpenSSL 3's one-shot SHA256() fetches
  // the algorithm at every call (a lock and allocations), which the journal's writer, hashing
  // twice per report, felt. This way it is the CPU's SHA instructions and little else.
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  thread_local std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(),
                                                                           &EVP_MD_CTX_free);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (!md || !ctx || EVP_DigestInit_ex2(ctx.get(), md, nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), bytes.data(), bytes.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), digest, &length) != 1 || length != 32)
    throw std::runtime_error("SHA-256 is not available from OpenSSL");
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < length; ++i) {
    unsigned char c = digest[i];
    out += hex[c >> 4];
    out += hex[c & 15];
  }
  return out;
}

}  // namespace tocsin

namespace tocsin::audit {

namespace json = boost::json;

namespace {

// Each field length-prefixed, so that no two different rows hash the same bytes.
std::string row_hash(const std::string& prev, std::int64_t seq, std::int64_t at, const Entry& e) {
  std::string bytes;
  auto add = [&](const std::string& field) {
    bytes += std::to_string(field.size());
    bytes += ':';
    bytes += field;
  };
  add(prev);
  add(std::to_string(seq));
  add(std::to_string(at));
  add(e.actor);
  add(e.action);
  add(e.subject);
  add(e.detail);
  return sha256_hex(bytes);
}

constexpr const char* kLast = "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1";
constexpr const char* kInsert =
    "INSERT INTO audit (seq, at, actor, action, subject, detail, prev_hash, hash) VALUES (?1, ?2, "
    "?3, ?4, ?5, ?6, ?7, ?8)";

void append_with(db::Statement& last, db::Statement& insert, const Entry& e) {
  std::int64_t seq = 1;
  std::string prev;
  if (last.step()) {
    seq = last.integer(0) + 1;
    prev = last.text(1);
  }
  last.reset();
  std::int64_t at = to_unix_ms(e.at);
  insert.bind(1, seq).bind(2, at).bind(3, e.actor).bind(4, e.action).bind(5, e.subject);
  insert.bind(6, e.detail).bind(7, prev).bind(8, row_hash(prev, seq, at, e));
  insert.run();
}
}  // namespace

void name_for(boost::json::object& detail, const std::string& by, const std::string& via) {
  if (!via.empty()) detail["for"] = by;
}

void append(db::Connection& db, const Entry& e) {
  auto last = db.prepare(kLast);
  auto insert = db.prepare(kInsert);
  append_with(last, insert, e);
}

Appender::Appender(db::Connection& db) : last_(db.prepare(kLast)), insert_(db.prepare(kInsert)) {}

void Appender::append(const Entry& e) {
  append_with(last_, insert_, e);
}

Verdict verify(db::Connection& db) {
  Verdict v;
  auto st = db.prepare(
      "SELECT seq, at, actor, action, subject, detail, prev_hash, hash FROM audit ORDER BY seq");
  std::string prev;
  std::int64_t expected = 1;
  while (st.step()) {
    ++v.rows;
    std::int64_t seq = st.integer(0);
    Entry e{{}, st.text(2), st.text(3), st.text(4), st.text(5)};
    auto fail = [&](std::string problem) {
      v.first_bad = seq;
      v.problem = std::move(problem);
    };
    if (seq != expected)
      fail("row " + std::to_string(expected) + " is missing (the next row is " +
           std::to_string(seq) + ")");
    else if (st.text(6) != prev)
      fail("row " + std::to_string(seq) + " does not carry the hash of row " +
           std::to_string(seq - 1));
    else if (row_hash(prev, seq, st.integer(1), e) != st.text(7))
      fail("row " + std::to_string(seq) + " was changed after it was written");
    if (v.first_bad) break;
    prev = st.text(7);
    ++expected;
  }
  st.reset();
  return v;
}

json::array page(db::Connection& db, std::int64_t after, std::int64_t limit, std::int64_t before) {
  auto st = db.prepare(
      before > 0 ? "SELECT seq, at, actor, action, subject, detail, hash FROM audit WHERE seq < ?1 "
                   "ORDER BY seq DESC LIMIT ?2"
                 : "SELECT seq, at, actor, action, subject, detail, hash FROM audit WHERE seq > ?1 "
                   "ORDER BY seq LIMIT ?2");
  st.bind(1, before > 0 ? before : after).bind(2, limit);
  json::array out;
  while (st.step()) {
    json::value detail;
    try {
      detail = json::parse(st.text(5));
    } catch (const std::exception&) {
      detail = json::string(st.text(5));
    }
    out.push_back(json::object{{"seq", st.integer(0)},
                               {"at", format_rfc3339(from_unix_ms(st.integer(1)))},
                               {"actor", st.text(2)},
                               {"action", st.text(3)},
                               {"subject", st.text(4)},
                               {"detail", std::move(detail)},
                               {"hash", st.text(6)}});
  }
  st.reset();
  return out;
}

}  // namespace tocsin::audit
