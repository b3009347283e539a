#include "broker/api/auth.hpp"

#include <sodium.h>

#include <algorithm>
#include <future>

#include <spdlog/spdlog.h>
#include <boost/json.hpp>

#include "broker/storage/audit.hpp"
#include "core/json_text.hpp"
#include "core/ulid.hpp"
#include "playbooks/playbook.hpp"

namespace tocsin {

namespace json = boost::json;

namespace {

constexpr const char* kCookie = "tocsin_session";
constexpr std::size_t kMaxPassword = 1024;

bool sodium_ready() {
  static const bool ok = sodium_init() >= 0;
  return ok;
}

std::string header(const std::map<std::string, std::string>& h, const char* name) {
  auto it = h.find(name);
  return it == h.end() ? std::string() : it->second;
}

std::string cookie_value(const std::string& cookies, const std::string& name) {
  std::size_t at = 0;
  while (at < cookies.size()) {
    auto end = cookies.find(';', at);
    std::string part = cookies.substr(at, end == std::string::npos ? end : end - at);
    while (!part.empty() && part.front() == ' ') part.erase(0, 1);
    if (part.compare(0, name.size() + 1, name + "=") == 0) return part.substr(name.size() + 1);
    if (end == std::string::npos) break;
    at = end + 1;
  }
  return {};
}

std::set<std::string> scopes_from(const std::string& stored) {
  std::set<std::string> out;
  json::value v = json::parse(stored);
  for (const auto& s : v.as_array()) out.emplace(s.as_string());
  return out;
}

}  // namespace

const std::vector<std::string>& all_scopes() {
  static const std::vector<std::string> s{"read", "ingest", "operate", "approve", "admin"};
  return s;
}

std::set<std::string> scopes_of_role(const std::string& role) {
  if (role == "viewer") return {"read"};
  if (role == "operator") return {"read", "ingest", "operate"};
  if (role == "approver") return {"read", "ingest", "operate", "approve"};
  if (role == "admin") return {"read", "ingest", "operate", "approve", "admin"};
  return {};
}

bool is_role(const std::string& role) {
  return !scopes_of_role(role).empty();
}

Auth::Auth(std::filesystem::path database, AuthOptions options, AuthWriter writer)
    : options_(options),
      write_(std::move(writer)),
      reader_(database.string(), sqlite::Connection::Mode::read_only) {
  if (!sodium_ready()) throw std::runtime_error("libsodium could not be initialised");
  std::string secret = auth_admin::random_secret();
  char hash[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(hash, secret.data(), secret.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                            crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13) != 0)
    throw std::runtime_error("libsodium: out of memory for argon2id");
  dummy_hash_ = hash;
}

std::string Auth::session_cookie(const std::map<std::string, std::string>& headers) {
  return cookie_value(header(headers, "cookie"), kCookie);
}

std::optional<Principal> Auth::identify(const std::map<std::string, std::string>& headers) {
  std::string authorization = header(headers, "authorization");
  if (authorization.rfind("Bearer ", 0) == 0) return token(authorization.substr(7));
  std::string value = cookie_value(header(headers, "cookie"), kCookie);
  if (!value.empty()) return session(value);
  return std::nullopt;
}

std::optional<Principal> Auth::session(const std::string& value) {
  if (value.size() != 64) return std::nullopt;
  std::string key = sha256_hex(value);
  Timestamp t = now();
  std::lock_guard lock(mutex_);
  if (ended_.count(key)) return std::nullopt;
  if (auto it = sessions_.find(key); it != sessions_.end()) {
    // Re-read after a few seconds: a user disabled from the CLI beside the running server is
    // signed out promptly.
    if (session_expiry_[key] > t && t - session_read_[key] < std::chrono::seconds(5))
      return it->second;
    sessions_.erase(it);
    session_read_.erase(key);
    if (session_expiry_[key] <= t) return std::nullopt;
  }
  // Not cached (a session from before a restart), or cached a while ago.
  auto st = reader_.prepare(
      "SELECT s.user_id, s.csrf, s.expires_at, u.role, u.language FROM sessions s JOIN users u ON "
      "u.id = s.user_id WHERE s.token_hash = ?1 AND s.ended_at IS NULL AND u.disabled_at IS "
      "NULL");
  st.bind(1, key);
  if (!st.step()) return std::nullopt;
  Timestamp expires = from_unix_ms(st.integer(2));
  if (expires <= t) return std::nullopt;
  Principal p{st.text(0), "user", st.text(3), st.text(4), scopes_of_role(st.text(3)), st.text(1)};
  if (sessions_.size() > 100000) {
    sessions_.clear();
    session_read_.clear();
  }
  sessions_[key] = p;
  session_expiry_[key] = expires;
  session_read_[key] = t;
  return p;
}

bool Auth::origin_allowed(const std::string& origin, const std::string& host) const {
  if (origin.empty()) return true;
  if (!options_.public_origin.empty()) return origin == options_.public_origin;
  return origin == "http://" + host || origin == "https://" + host;
}

bool Principal::may_report_as(const std::string& source) const {
  if (kind != "token" || sources.empty()) return true;
  return std::any_of(sources.begin(), sources.end(),
                     [&](const std::string& g) { return playbooks::glob_match(g, source); });
}

std::optional<Principal> Auth::token(const std::string& value) {
  if (value.size() < 32 || value.size() > 256) return std::nullopt;
  std::string key = sha256_hex(value);
  Timestamp t = now();
  std::lock_guard lock(mutex_);
  if (auto it = tokens_.find(key);
      it != tokens_.end() && t - it->second.second < std::chrono::seconds(5))
    return it->second.first;
  auto st = reader_.prepare(
      "SELECT name, scopes, person, sources FROM api_tokens WHERE token_hash = ?1 AND revoked_at "
      "IS NULL");
  st.bind(1, key);
  if (!st.step()) {
    tokens_.erase(key);
    return std::nullopt;
  }
  Principal p{"token:" + st.text(0), "token", "", "fr", scopes_from(st.text(1)), ""};
  if (!st.is_null(2)) p.person = st.text(2);
  if (!st.is_null(3)) {
    const json::value globs = json::parse(st.text(3));
    for (const auto& g : globs.as_array()) p.sources.emplace_back(g.as_string());
  }
  if (tokens_.size() > 10000) tokens_.clear();
  tokens_[key] = {p, t};
  return p;
}

namespace {

constexpr std::size_t kMaxFailureEntries = 20000;  // each map; keys at most ~130 bytes
constexpr std::size_t kMaxName = 64;
constexpr std::size_t kMaxAddress = 64;

std::chrono::seconds ceil_seconds(Timestamp::duration d) {
  return std::chrono::ceil<std::chrono::seconds>(d);
}

}  // namespace

void Auth::forget_old(Timestamp t) {
  if (t < next_sweep_ && by_pair_.size() < kMaxFailureEntries &&
      by_address_.size() < kMaxFailureEntries)
    return;
  next_sweep_ = t + std::chrono::seconds(10);
  auto aged = [&](const auto& kv) { return kv.second.last + options_.login_window <= t; };
  std::erase_if(by_pair_, aged);
  std::erase_if(by_address_, aged);
  // Still full (a flood from everywhere at once): start over rather than grow.
  if (by_pair_.size() >= kMaxFailureEntries) by_pair_.clear();
  if (by_address_.size() >= kMaxFailureEntries) by_address_.clear();
}

bool Auth::limited(const std::string& pair, const std::string& address, Timestamp t,
                   std::chrono::seconds& retry_after) {
  if (auto it = by_address_.find(address); it != by_address_.end()) {
    const Failures& f = it->second;
    if (f.first + options_.login_window > t && f.count >= 10 * options_.login_attempts) {
      retry_after = ceil_seconds(f.first + options_.login_window - t);
      return true;
    }
  }
  if (pair.empty()) return false;
  auto it = by_pair_.find(pair);
  if (it == by_pair_.end() || it->second.count < options_.login_attempts) return false;
  const Failures& f = it->second;
  auto delay =
      std::chrono::seconds(std::int64_t(1) << std::min(f.count - options_.login_attempts, 16));
  delay = std::min<std::chrono::seconds>(delay, options_.login_window);
  if (f.last + delay <= t) return false;
  retry_after = std::max(std::chrono::seconds(1), ceil_seconds(f.last + delay - t));
  return true;
}

void Auth::failed(const std::string* pair, const std::string& address, Timestamp t) {
  forget_old(t);
  auto count = [&](Failures& f) {
    if (f.count == 0 || f.last + options_.login_window <= t) f = Failures{0, t, t};
    ++f.count;
    f.last = t;
  };
  if (pair) count(by_pair_[*pair]);
  count(by_address_[address]);
}

Result<LoginResult> Auth::login(const std::string& user, const std::string& password,
                                const std::string& address_in, std::chrono::seconds& retry_after) {
  Timestamp t = now();
  const std::string address = address_in.substr(0, kMaxAddress);
  // Sizes first: a name too long to be anyone's is a failure of its address, never a key.
  bool plausible = !user.empty() && user.size() <= kMaxName && password.size() <= kMaxPassword;
  const std::string pair = plausible ? user + " " + address : std::string();
  {
    std::lock_guard lock(mutex_);
    if (limited(pair, address, t, retry_after))
      return Error{"rate_limited", "too many failed logins: try again later", "user"};
  }
  const Error wrong{"unauthenticated", "wrong user name or password", "user"};
  if (!plausible) {
    std::lock_guard lock(mutex_);
    failed(nullptr, address, t);
    return wrong;
  }
  std::string hash, role, language;
  {
    std::lock_guard lock(mutex_);
    auto st = reader_.prepare(
        "SELECT password_hash, role, language FROM users WHERE id = ?1 AND disabled_at IS NULL");
    st.bind(1, user);
    if (st.step()) {
      hash = st.text(0);
      role = st.text(1);
      language = st.text(2);
    }
  }
  // An unknown name costs an argon2id check too: known and unknown names answer alike.
  bool known = !hash.empty();
  bool ok = crypto_pwhash_str_verify(known ? hash.c_str() : dummy_hash_.c_str(), password.data(),
                                     password.size()) == 0 &&
            known;
  if (!ok) {
    std::lock_guard lock(mutex_);
    failed(&pair, address, t);
    spdlog::warn("auth: failed login for '{}' from {}", user, address);
    return wrong;
  }

  LoginResult r;
  r.session = auth_admin::random_secret();
  r.expires_at = t + options_.session_ttl;
  r.principal =
      Principal{user, "user", role, language, scopes_of_role(role), auth_admin::random_secret()};
  std::string key = sha256_hex(r.session);
  std::promise<bool> stored;
  write_(
      [key, r](db::Connection& db) {
        auto st = db.prepare(
            "INSERT INTO sessions (token_hash, user_id, csrf, created_at, expires_at) VALUES (?1, "
            "?2, ?3, ?4, ?5)");
        st.bind(1, key).bind(2, r.principal.id).bind(3, r.principal.csrf);
        st.bind(4, to_unix_ms(now())).bind(5, to_unix_ms(r.expires_at));
        st.run();
        audit::append(db, {now(), r.principal.id, "session.login", r.principal.id, "{}"});
      },
      [&stored](bool committed) { stored.set_value(committed); });
  if (!stored.get_future().get())
    return Error{"storage_unavailable", "the session could not be stored; retry", ""};
  std::lock_guard lock(mutex_);
  sessions_[key] = r.principal;
  session_expiry_[key] = r.expires_at;
  by_pair_.erase(pair);  // a success forgets this name's failures from here
  return r;
}

void Auth::logout(const Principal& p, const std::string& session) {
  std::string key = sha256_hex(session);
  {
    std::lock_guard lock(mutex_);
    sessions_.erase(key);
    session_expiry_.erase(key);
    ended_.insert(key);
  }
  write_(
      [key, id = p.id](db::Connection& db) {
        auto st = db.prepare("UPDATE sessions SET ended_at = ?2 WHERE token_hash = ?1");
        st.bind(1, key).bind(2, to_unix_ms(now()));
        st.run();
        audit::append(db, {now(), id, "session.logout", id, "{}"});
      },
      [](bool) {});
}

Result<std::pair<std::string, std::string>> Auth::create_token(const std::string& name,
                                                               std::set<std::string> scopes,
                                                               const std::string& by,
                                                               const std::string& person,
                                                               std::vector<std::string> sources) {
  Result<std::pair<std::string, std::string>> out = Error{"storage_unavailable", "", ""};
  std::promise<bool> done;
  write_(
      [&](db::Connection& db) {
        out = auth_admin::add_token(db, name, scopes, by, person, sources);
      },
      [&done](bool ok) { done.set_value(ok); });
  if (!done.get_future().get())
    return Error{"storage_unavailable", "the token could not be stored; retry", ""};
  return out;
}

Result<std::string> Auth::revoke_token(const std::string& id, const std::string& by) {
  Result<std::string> out = Error{"storage_unavailable", "", ""};
  std::promise<bool> done;
  write_([&](db::Connection& db) { out = auth_admin::revoke_token(db, id, by); },
         [&done](bool ok) { done.set_value(ok); });
  if (!done.get_future().get())
    return Error{"storage_unavailable", "the token could not be revoked; retry", ""};
  if (out) {
    std::lock_guard lock(mutex_);
    tokens_.clear();  // a revoked token is refused from now on
  }
  return out;
}

json::array Auth::tokens() {
  std::lock_guard lock(mutex_);
  return auth_admin::list_tokens(reader_);
}

std::string Auth::cookie(const LoginResult& r) const {
  return std::string(kCookie) + "=" + r.session + "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" +
         std::to_string(options_.session_ttl.count()) + (options_.secure_cookie ? "; Secure" : "");
}

std::string Auth::expired_cookie() const {
  return std::string(kCookie) + "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0" +
         (options_.secure_cookie ? "; Secure" : "");
}

namespace auth_admin {

std::string random_secret() {
  sodium_ready();
  unsigned char bytes[32];
  randombytes_buf(bytes, sizeof bytes);
  char hex[65];
  sodium_bin2hex(hex, sizeof hex, bytes, sizeof bytes);
  return hex;
}

namespace {

// argon2id, libsodium's interactive limits; the password's length checked first.
Result<std::string> hash_password(const std::string& password) {
  if (password.size() < 12) return Error{"invalid", "password: at least 12 characters", "password"};
  if (password.size() > kMaxPassword) return Error{"invalid", "password: too long", "password"};
  char hash[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(hash, password.data(), password.size(),
                            crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE,
                            crypto_pwhash_ALG_ARGON2ID13) != 0)
    return Error{"unavailable", "out of memory hashing the password", ""};
  return std::string(hash);
}

// Every open session of the user ends (a running server drops them within seconds).
void end_sessions(db::Connection& db, const std::string& id) {
  auto end =
      db.prepare("UPDATE sessions SET ended_at = ?2 WHERE user_id = ?1 AND ended_at IS NULL");
  end.bind(1, id).bind(2, to_unix_ms(now()));
  end.run();
}

}  // namespace

Result<std::string> add_user(db::Connection& db, const std::string& id, const std::string& role,
                             const std::string& password, const std::string& language,
                             const std::string& by) {
  if (!sodium_ready()) return Error{"unavailable", "libsodium could not be initialised", ""};
  bool id_ok = !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
  });
  if (!id_ok) return Error{"invalid", "name: 1-64 of a-z, 0-9, '-', '_', '.'", "name"};
  if (!is_role(role))
    return Error{"invalid", "role: one of viewer, operator, approver, admin", "role"};
  if (language != "fr" && language != "en")
    return Error{"invalid", "language: fr or en", "language"};
  auto hash = hash_password(password);
  if (!hash) return hash.error();
  auto exists = db.prepare("SELECT 1 FROM users WHERE id = ?1");
  exists.bind(1, id);
  if (exists.step()) return Error{"conflict", "name: user '" + id + "' exists", "name"};
  exists.reset();
  auto st = db.prepare(
      "INSERT INTO users (id, role, password_hash, language, created_at) VALUES (?1, ?2, ?3, ?4, "
      "?5)");
  st.bind(1, id).bind(2, role).bind(3, hash.value()).bind(4, language);
  st.bind(5, to_unix_ms(now()));
  st.run();
  audit::append(db, {now(), by, "user.add", id,
                     json_text(json::object{{"role", role}, {"language", language}})});
  return id;
}

Result<std::pair<std::string, std::string>> add_token(db::Connection& db, const std::string& name,
                                                      const std::set<std::string>& scopes,
                                                      const std::string& by,
                                                      const std::string& person,
                                                      const std::vector<std::string>& sources) {
  if (name.empty() || name.size() > 64) return Error{"invalid", "name: 1-64 characters", "name"};
  if (person.size() > 128) return Error{"invalid", "for: at most 128 characters", "for"};
  if (scopes.count("ingest") && sources.empty())
    return Error{"invalid",
                 "sources: a token that ingests names the sources it may report as (globs, "
                 "gauge-rdp-*; * for any)",
                 "sources"};
  if (!scopes.count("ingest") && !sources.empty())
    return Error{"invalid", "sources: only a token with the ingest scope reports", "sources"};
  json::array globs;
  for (const auto& g : sources) {
    if (g.empty() || g.size() > 128 || sources.size() > 64)
      return Error{"invalid", "sources: 1-64 globs of 1-128 characters", "sources"};
    globs.emplace_back(g);
  }
  if (scopes.empty()) return Error{"invalid", "scopes: at least one", "scopes"};
  json::array list;
  for (const auto& s : scopes) {
    if (std::find(all_scopes().begin(), all_scopes().end(), s) == all_scopes().end())
      return Error{"invalid",
                   "scopes: '" + s + "' is not one of read, ingest, operate, approve, admin",
                   "scopes"};
    list.emplace_back(s);
  }
  std::string id = UlidGenerator().next(), value = random_secret();
  auto st = db.prepare(
      "INSERT INTO api_tokens (id, name, token_hash, scopes, created_by, created_at, person, "
      "sources) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
  st.bind(1, id).bind(2, name).bind(3, sha256_hex(value)).bind(4, json_text(list));
  st.bind(5, by).bind(6, to_unix_ms(now()));
  if (person.empty())
    st.bind_null(7);
  else
    st.bind(7, person);
  if (globs.empty())
    st.bind_null(8);
  else
    st.bind(8, json_text(globs));
  st.run();
  json::object detail{{"name", name}, {"scopes", list}};
  if (!person.empty()) detail["for"] = person;
  if (!globs.empty()) detail["sources"] = globs;
  audit::append(db, {now(), by, "token.create", id, json_text(detail)});
  return std::pair{id, value};
}

Result<std::string> disable_user(db::Connection& db, const std::string& id, const std::string& by) {
  auto st = db.prepare("UPDATE users SET disabled_at = ?2 WHERE id = ?1 AND disabled_at IS NULL");
  st.bind(1, id).bind(2, to_unix_ms(now()));
  st.run();
  if (db.changes() == 0) return Error{"not_found", "name: no enabled user " + id, "name"};
  end_sessions(db, id);
  audit::append(db, {now(), by, "user.disable", id, "{}"});
  return id;
}

Result<std::string> set_role(db::Connection& db, const std::string& id, const std::string& role,
                             const std::string& by) {
  if (!is_role(role))
    return Error{"invalid", "role: one of viewer, operator, approver, admin", "role"};
  auto was = db.prepare("SELECT role FROM users WHERE id = ?1");
  was.bind(1, id);
  if (!was.step()) return Error{"not_found", "name: no user " + id, "name"};
  const std::string before = was.text(0);
  was.reset();
  auto st = db.prepare("UPDATE users SET role = ?2 WHERE id = ?1");
  st.bind(1, id).bind(2, role);
  st.run();
  end_sessions(db, id);  // signed in again, with the new role's scopes
  audit::append(db, {now(), by, "user.set_role", id,
                     json_text(json::object{{"from", before}, {"to", role}})});
  return id;
}

Result<std::string> reset_password(db::Connection& db, const std::string& id,
                                   const std::string& password, const std::string& by) {
  auto hash = hash_password(password);
  if (!hash) return hash.error();
  auto st = db.prepare("UPDATE users SET password_hash = ?2 WHERE id = ?1");
  st.bind(1, id).bind(2, hash.value());
  st.run();
  if (db.changes() == 0) return Error{"not_found", "name: no user " + id, "name"};
  end_sessions(db, id);
  audit::append(db, {now(), by, "user.reset_password", id, "{}"});
  return id;
}

json::array list_users(db::Connection& db) {
  auto st = db.prepare(
      "SELECT u.id, u.role, u.language, u.created_at, u.disabled_at, (SELECT count(*) FROM "
      "sessions s WHERE s.user_id = u.id AND s.ended_at IS NULL AND s.expires_at > ?1) FROM users "
      "u ORDER BY u.id");
  st.bind(1, to_unix_ms(now()));
  json::array out;
  while (st.step())
    out.push_back(json::object{
        {"id", st.text(0)},
        {"role", st.text(1)},
        {"language", st.text(2)},
        {"created_at", format_rfc3339(from_unix_ms(st.integer(3)))},
        {"disabled_at", st.is_null(4) ? json::value(nullptr)
                                      : json::value(format_rfc3339(from_unix_ms(st.integer(4))))},
        {"sessions", st.integer(5)}});
  return out;
}

Result<std::string> revoke_token(db::Connection& db, const std::string& id, const std::string& by) {
  auto st = db.prepare(
      "UPDATE api_tokens SET revoked_at = ?2, revoked_by = ?3 WHERE id = ?1 AND revoked_at IS "
      "NULL");
  st.bind(1, id).bind(2, to_unix_ms(now())).bind(3, by);
  st.run();
  if (db.changes() == 0) return Error{"not_found", "id: no live token " + id, "id"};
  audit::append(db, {now(), by, "token.revoke", id, "{}"});
  return id;
}

json::array list_tokens(db::Connection& db) {
  auto st = db.prepare(
      "SELECT id, name, scopes, created_by, created_at, revoked_at, person, sources FROM "
      "api_tokens ORDER BY created_at");
  json::array out;
  while (st.step())
    out.push_back(json::object{
        {"id", st.text(0)},
        {"name", st.text(1)},
        {"scopes", json::parse(st.text(2))},
        {"created_by", st.text(3)},
        {"created_at", format_rfc3339(from_unix_ms(st.integer(4)))},
        {"revoked_at", st.is_null(5) ? json::value(nullptr)
                                     : json::value(format_rfc3339(from_unix_ms(st.integer(5))))},
        {"for", st.is_null(6) ? json::value(nullptr) : json::value(st.text(6))},
        {"sources", st.is_null(7) ? json::value(nullptr) : json::parse(st.text(7))}});
  return out;
}

}  // namespace auth_admin

}  // namespace tocsin
