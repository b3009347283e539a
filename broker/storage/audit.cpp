#include "broker/storage/audit.hpp"
#include "core/json_text.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <unistd.h>

#include <fstream>
#include <map>
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

std::string& key() {
  static std::string k;
  return k;
}

std::string hex(const unsigned char* bytes, std::size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    out += digits[bytes[i] >> 4];
    out += digits[bytes[i] & 15];
  }
  return out;
}

std::string hmac_hex(const std::string& k, std::string_view bytes) {
  crypto_auth_hmacsha256_state state;
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(k.data()), k.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(bytes.data()),
                                bytes.size());
  crypto_auth_hmacsha256_final(&state, mac);
  return hex(mac, sizeof mac);
}

// Each field length-prefixed, so that no two different rows hash the same bytes. Keyed: the
// HMAC of those bytes under `k`; else their SHA-256 (a chain from before keys).
std::string row_hash(const std::string& prev, std::int64_t seq, std::int64_t at, const Entry& e,
                     const std::string& k) {
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
  return k.empty() ? sha256_hex(bytes) : hmac_hex(k, bytes);
}

std::string checkpoint_mac(std::int64_t seq, const std::string& hash, const std::string& at) {
  return hmac_hex(key(), "checkpoint:" + std::to_string(seq) + ":" + hash + ":" + at);
}

constexpr const char* kLast = "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1";
constexpr const char* kInsert =
    "INSERT INTO audit (seq, at, actor, action, subject, detail, prev_hash, hash, keyed) VALUES "
    "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";

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
  insert.bind(6, e.detail).bind(7, prev).bind(8, row_hash(prev, seq, at, e, key()));
  insert.bind(9, std::int64_t(key().empty() ? 0 : 1));
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

Verdict verify(db::Connection& db, const std::filesystem::path& checkpoints) {
  Verdict v;
  auto st = db.prepare(
      "SELECT seq, at, actor, action, subject, detail, prev_hash, hash, keyed FROM audit ORDER BY "
      "seq");
  std::string prev;
  std::int64_t expected = 1;
  bool keyed_seen = false;
  std::map<std::int64_t, std::string> hashes;  // seq → hash, for the checkpoints
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
    else if (st.integer(8) && key().empty())
      fail("row " + std::to_string(seq) + " is keyed: verify with the chain's key");
    else if (!st.integer(8) && keyed_seen)
      fail("row " + std::to_string(seq) +
           " is not keyed, after keyed rows: written without the key");
    else if (row_hash(prev, seq, st.integer(1), e, st.integer(8) ? key() : std::string()) !=
             st.text(7))
      fail("row " + std::to_string(seq) + " was changed after it was written");
    if (v.first_bad) break;
    keyed_seen = keyed_seen || st.integer(8);
    prev = st.text(7);
    hashes[seq] = prev;
    ++expected;
  }
  st.reset();
  if (v.first_bad || checkpoints.empty()) return v;
  std::ifstream in(checkpoints);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    ++v.checkpoints;
    auto fail = [&](std::int64_t seq, std::string problem) {
      v.first_bad = seq;
      v.problem = std::move(problem);
    };
    boost::system::error_code ec;
    auto c = json::parse(line, ec);
    const json::object* o = ec ? nullptr : c.if_object();
    if (!o || !o->contains("seq") || !o->contains("hash") || !o->contains("at") ||
        !o->contains("mac")) {
      fail(-1,
           checkpoints.string() + ": checkpoint " + std::to_string(v.checkpoints) + " is not one");
      break;
    }
    std::int64_t seq = o->at("seq").to_number<std::int64_t>();
    std::string hash(o->at("hash").as_string()), at(o->at("at").as_string());
    if (key().empty() || checkpoint_mac(seq, hash, at) != o->at("mac").as_string()) {
      fail(seq, "the checkpoint of " + at + " (row " + std::to_string(seq) +
                    ") does not carry the key's MAC: forged, or another key");
      break;
    }
    auto it = hashes.find(seq);
    if (it == hashes.end()) {
      std::int64_t last = hashes.empty() ? 0 : hashes.rbegin()->first;
      fail(last + 1, "rows " + std::to_string(last + 1) + " to " + std::to_string(seq) +
                         " are missing: the checkpoint of " + at +
                         " recorded the chain up to row " + std::to_string(seq) +
                         ", the database now ends at row " + std::to_string(last));
      break;
    }
    if (it->second != hash) {
      fail(seq, "row " + std::to_string(seq) + " is not the one the checkpoint of " + at +
                    " recorded: the chain was rewritten from there");
      break;
    }
  }
  return v;
}

Result<std::string> load_key(const std::filesystem::path& file, bool create) {
  if (sodium_init() < 0) return Error{"io", "libsodium could not start", "audit_key"};
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) {
    if (!create) return Error{"not_found", file.string() + ": no audit key", "audit_key"};
    unsigned char bytes[32];
    randombytes_buf(bytes, sizeof bytes);
    std::string text = hex(bytes, sizeof bytes) + "\n";
    int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) return Error{"io", file.string() + ": cannot create the audit key", "audit_key"};
    bool ok = ::write(fd, text.data(), text.size()) == ssize_t(text.size()) && ::fsync(fd) == 0;
    ::close(fd);
    if (!ok) return Error{"io", file.string() + ": cannot write the audit key", "audit_key"};
  }
  std::ifstream in(file);
  std::string text;
  std::getline(in, text);
  if (text.size() != 64 || text.find_first_not_of("0123456789abcdef") != std::string::npos)
    return Error{"invalid", file.string() + ": not an audit key (64 hex characters)", "audit_key"};
  return text;
}

void use_key(std::string k) {
  key() = std::move(k);
}

Result<bool> checkpoint(db::Connection& db, const std::filesystem::path& file) {
  if (key().empty()) return Error{"invalid", "no audit key: checkpoints need one", "audit_key"};
  auto head = db.prepare(kLast);
  if (!head.step()) return false;
  std::int64_t seq = head.integer(0);
  std::string hash = head.text(1);
  head.reset();
  {
    std::ifstream in(file);
    std::string line, last;
    while (std::getline(in, line))
      if (!line.empty()) last = line;
    boost::system::error_code ec;
    auto c = json::parse(last, ec);
    if (!ec && c.is_object() && c.as_object().if_contains("seq") &&
        c.as_object().at("seq").to_number<std::int64_t>() == seq)
      return false;  // the head has not moved
  }
  std::string at = format_rfc3339(now());
  std::string line =
      json_text(json::object{
          {"seq", seq}, {"hash", hash}, {"at", at}, {"mac", checkpoint_mac(seq, hash, at)}}) +
      "\n";
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  if (fd < 0) return Error{"io", file.string() + ": cannot open the checkpoints file", ""};
  bool ok = ::write(fd, line.data(), line.size()) == ssize_t(line.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return Error{"io", file.string() + ": cannot write a checkpoint", ""};
  return true;
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
