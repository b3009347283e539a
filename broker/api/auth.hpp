#pragma once
// Who is asking: coordinators log in (argon2id password hashes, a session cookie with a CSRF
// token), machines send a scoped API token (Authorization: Bearer). Sessions and tokens are in
// SQLite (only their SHA-256), cached here; the CLI adds users and tokens beside a running server.

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <boost/json/fwd.hpp>

#include "broker/storage/sqlite.hpp"
#include "core/result.hpp"
#include "core/time.hpp"

namespace tocsin {

// What a principal may do. A user's role gives a set; a token lists its own.
//   read: GET the API and the console feed   ingest: report incidents, heartbeats
//   operate: acknowledge, resolve, cancel, silences   approve: vote on approvals
//   admin: reload playbooks, the audit trail, tokens
const std::vector<std::string>& all_scopes();
std::set<std::string> scopes_of_role(const std::string& role);  // empty: not a role
bool is_role(const std::string& role);

struct Principal {
  std::string id;    // the user's id, or "token:NAME"
  std::string kind;  // user | token
  std::string role;  // users
  std::string language = "fr";
  std::set<std::string> scopes;
  std::string csrf;  // sessions: every state-changing request carries it (X-CSRF-Token)
  // Tokens: the person it was bound to at creation (tocsin token add NAME --for PERSON), whose
  // actions its actions are; empty: it acts as itself ("token:NAME"), for nobody.
  std::string person = {};
  // Tokens with ingest: the sources (globs) it may report as, like a CURVE sensor's; empty: any
  // (a token made before source lists).
  std::vector<std::string> sources = {};
  // Whether it may report as `source`.
  bool may_report_as(const std::string& source) const;
  bool can(const std::string& scope) const { return scopes.count(scope) > 0; }
};

struct AuthOptions {
  std::chrono::seconds session_ttl{12 * 3600};
  // Failed logins: after `login_attempts` for one name from one address, each next try waits
  // twice as long as the last (1 s, 2 s, 4 s…, at most `login_window`); an address may fail ten
  // times that within `login_window` (any names), then waits for the window. A person is never
  // locked out from another address.
  int login_attempts = 5;
  std::chrono::seconds login_window{300};
  bool secure_cookie = false;  // behind TLS: the cookie says Secure
  // The console's address as browsers see it ("https://alertes.ville.example", http.public_origin):
  // a browser's state-changing request or console upgrade must come from it. Empty: from this
  // server's own Host (right only where no proxy rewrites it).
  std::string public_origin;
};

struct LoginResult {
  Principal principal;
  std::string session;  // the cookie's value
  Timestamp expires_at{};
};

// Every state change of users, tokens and sessions goes through this callback (the journal's
// writer, so SQLite keeps one writer); it runs `apply` in a transaction and `done(committed)`.
using AuthWriter =
    std::function<void(std::function<void(db::Connection&)> apply, std::function<void(bool)> done)>;

class Auth {
 public:
  Auth(std::filesystem::path database, AuthOptions options, AuthWriter writer);

  const AuthOptions& options() const { return options_; }
  // Whether a browser's request with this Origin (and Host) comes from the console: no Origin (not
  // a browser), the public origin, or else this server's own host.
  bool origin_allowed(const std::string& origin, const std::string& host) const;

  // From Authorization: Bearer, or the tocsin_session cookie. nullopt: nobody (or revoked,
  // expired, unknown).
  std::optional<Principal> identify(const std::map<std::string, std::string>& headers);
  // The session cookie's value in these headers (parsed as cookies: "x_tocsin_session=…" is not
  // it); empty if there is none.
  static std::string session_cookie(const std::map<std::string, std::string>& headers);

  // Blocking (argon2id is slow on purpose): call it off the network threads. Refused after
  // too many failures for the name or the address: Error code "rate_limited".
  Result<LoginResult> login(const std::string& user, const std::string& password,
                            const std::string& address, std::chrono::seconds& retry_after);
  void logout(const Principal& p, const std::string& session);

  // Tokens (the API's admin routes; the CLI writes SQLite itself, see below).
  Result<std::pair<std::string, std::string>> create_token(const std::string& name,
                                                           std::set<std::string> scopes,
                                                           const std::string& by,
                                                           const std::string& person = "",
                                                           std::vector<std::string> sources = {});
  Result<std::string> revoke_token(const std::string& id, const std::string& by);
  boost::json::array tokens();

  std::string cookie(const LoginResult& r) const;  // Set-Cookie value
  std::string expired_cookie() const;

 private:
  std::optional<Principal> session(const std::string& value);
  std::optional<Principal> token(const std::string& value);
  struct Failures {
    int count = 0;
    Timestamp first{}, last{};
  };
  // Whether this try must wait (and how long); looks up, never inserts.
  bool limited(const std::string& pair, const std::string& address, Timestamp now,
               std::chrono::seconds& retry_after);
  void failed(const std::string* pair, const std::string& address, Timestamp now);
  void forget_old(Timestamp now);

  AuthOptions options_;
  AuthWriter write_;
  std::mutex mutex_;
  sqlite::Connection reader_;
  std::map<std::string, Principal> sessions_;  // by token hash
  std::map<std::string, Timestamp> session_expiry_;
  std::map<std::string, Timestamp> session_read_;  // when each cached session was read
  std::set<std::string> ended_;  // logged out here: never cached again, whatever SQLite says yet
  // By token hash, with when it was read: re-read after a few seconds, so that a token revoked
  // from the CLI (beside the running server) stops working promptly.
  std::map<std::string, std::pair<Principal, Timestamp>> tokens_;
  // Failed logins, by name and address ("NAME ADDRESS") and by address; bounded in size (names
  // over 64 bytes are refused before either is touched), old entries forgotten.
  std::map<std::string, Failures> by_pair_, by_address_;
  Timestamp next_sweep_{};
  // An unknown name is checked against this (argon2id of a random secret), so that it takes as
  // long as a known one: the answer's time does not say who has an account.
  std::string dummy_hash_;
};

namespace auth_admin {
// For the CLI and tests: direct writes in the caller's transaction, each audited.
Result<std::string> add_user(db::Connection& db, const std::string& id, const std::string& role,
                             const std::string& password, const std::string& language,
                             const std::string& by);
// The token's id and its value (shown once). `person`: the staff member it acts for (checked
// against the directory by the caller), or empty. `sources`: the globs a token with ingest may
// report as (required with ingest; "*" for any).
Result<std::pair<std::string, std::string>> add_token(db::Connection& db, const std::string& name,
                                                      const std::set<std::string>& scopes,
                                                      const std::string& by,
                                                      const std::string& person = "",
                                                      const std::vector<std::string>& sources = {});
Result<std::string> revoke_token(db::Connection& db, const std::string& id, const std::string& by);
// No more sign-ins; the user's sessions end (a running server drops them within seconds).
Result<std::string> disable_user(db::Connection& db, const std::string& id, const std::string& by);
// A new role (viewer, operator, approver, admin); the user's sessions end, so the next sign-in
// has the new role's scopes.
Result<std::string> set_role(db::Connection& db, const std::string& id, const std::string& role,
                             const std::string& by);
// A new password (at least 12 characters); the user's sessions end.
Result<std::string> reset_password(db::Connection& db, const std::string& id,
                                   const std::string& password, const std::string& by);
// Every account: id, role, language, created_at, disabled_at, open sessions; no hash.
boost::json::array list_users(db::Connection& db);
boost::json::array list_tokens(db::Connection& db);
std::string random_secret();  // 32 random bytes, hex
}  // namespace auth_admin

}  // namespace tocsin
