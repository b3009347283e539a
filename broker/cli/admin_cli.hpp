#pragma once
// Administration from the command line, on the server's own SQLite database (the running server
// sees the change at its next transaction): maintenance windows and the audit trail.

#include <iosfwd>
#include <string>

#include "broker/settings/config.hpp"

namespace tocsin {

struct SilenceRequest {
  std::string source, type, zone, starts_at, ends_at, duration, reason, author;
};

// Each returns the exit code: 0 done, 1 refused (the reason on err).
int silence_add(const Config& config, const SilenceRequest& request, std::ostream& out,
                std::ostream& err);
int silence_list(const Config& config, bool all, std::ostream& out, std::ostream& err);
int silence_expire(const Config& config, const std::string& id, const std::string& by,
                   std::ostream& out, std::ostream& err);
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
