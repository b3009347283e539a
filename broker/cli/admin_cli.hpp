#pragma once
// Administration from the command line on the server's own SQLite database, for what cannot go
// through the API: the accounts and tokens the API needs (bootstrap, run as the server's user on
// its host; the running server sees them at its next read), and the offline tools (the audit
// trail's chain checked on a copy, the public-alert lint). Everyday verbs go through the API
// (remote_cli.hpp).

#include <iosfwd>
#include <memory>
#include <string>

#include "broker/settings/config.hpp"
#include "broker/storage/sqlite.hpp"

namespace tocsin {

// The server's database, created and migrated if the server never ran; what it appends to the
// audit trail is keyed as the server's rows are.
std::unique_ptr<sqlite::Connection> open_database(const Config& config);

// A write transaction beside the running server's (SQLite serializes them; busy_timeout waits).
template <class F>
auto in_transaction(db::Connection& db, F&& f) {
  db.exec("BEGIN IMMEDIATE");
  try {
    auto result = f();
    db.exec("COMMIT");
    return result;
  } catch (...) {
    db.exec("ROLLBACK");
    throw;
  }
}

// Console accounts and machine tokens (printed once).
int user_add(const Config& config, const std::string& name, const std::string& role,
             const std::string& language, const std::string& password, std::ostream& out,
             std::ostream& err);
int user_disable(const Config& config, const std::string& name, std::ostream& out,
                 std::ostream& err);
int user_set_role(const Config& config, const std::string& name, const std::string& role,
                  std::ostream& out, std::ostream& err);
int user_reset_password(const Config& config, const std::string& name, const std::string& password,
                        std::ostream& out, std::ostream& err);
int user_list(const Config& config, std::ostream& out);  // id, role, language, state, sessions
// `person`: the staff member (config/people.yaml) the token acts for, or empty (it acts as
// itself, for nobody).
// `sources`: for a token with ingest, the globs it may report as, comma-separated ("*": any).
int token_add(const Config& config, const std::string& name, const std::string& scopes,
              const std::string& person, const std::string& sources, std::ostream& out,
              std::ostream& err);
int token_list(const Config& config, std::ostream& out);
int token_revoke(const Config& config, const std::string& id, std::ostream& out, std::ostream& err);

// The public-alert lint on a composed alert (JSON, docs/playbooks.md): 0 clean, 1 problems.
int alert_lint(const std::string& file, std::ostream& out, std::ostream& err);
// 0: the chain holds; 1: the first row that breaks it is named.
int audit_verify(const Config& config, std::ostream& out, std::ostream& err);

}  // namespace tocsin
