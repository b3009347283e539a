#include "broker/cli/admin_cli.hpp"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>

#include <boost/json.hpp>

#include "broker/api/auth.hpp"
#include "broker/runs/playbook_library.hpp"
#include "broker/storage/audit.hpp"
#include "broker/storage/sqlite.hpp"
#include "core/json_text.hpp"
#include "core/people.hpp"
#include "dispatchers/public_lint.hpp"

namespace tocsin {

namespace json = boost::json;

namespace {

std::filesystem::path database_of(const Config& config) {
  return config.data_dir / "tocsin.db";
}

}  // namespace

std::unique_ptr<sqlite::Connection> open_database(const Config& config) {
  std::filesystem::create_directories(config.data_dir);
  auto db = std::make_unique<sqlite::Connection>(database_of(config).string(),
                                                 sqlite::Connection::Mode::read_write);
  db->exec("PRAGMA journal_mode = WAL");
  sqlite::migrate(*db);
  // What it appends to the audit trail is keyed as the server's rows are.
  auto key = audit::load_key(config.audit.key, true);
  if (!key) throw std::runtime_error(key.error().message);
  audit::use_key(key.value());
  return db;
}

namespace {

// One change through auth_admin, in its own transaction: true once committed; false, and why
// in `err`, when refused.
template <class F>
bool applied(const Config& config, std::ostream& err, F&& change) {
  auto db = open_database(config);
  auto r = in_transaction(*db, [&] { return change(*db); });
  if (!r) err << "refused: " << r.error().message << "\n";
  return r.ok();
}

}  // namespace

namespace {

// The staff directory (playbooks.people), or nullopt with why in `err` (after `field`).
std::optional<Directory> staff(const Config& config, const char* field, std::ostream& err) {
  auto directory = load_directory(config.playbooks.people.string());
  if (auto* problems = std::get_if<DirectoryErrors>(&directory)) {
    err << "refused: " << field << "the staff directory does not load: " << problems->errors.front()
        << "\n";
    return std::nullopt;
  }
  return std::get<Directory>(std::move(directory));
}

// Who the staff directory says `name` is, for an account that acts as a person: false (and the
// reason in `err`) when one with `role` could not do what its role is for.
bool fits_directory(const Config& config, const std::string& name, const std::string& role,
                    std::ostream& out, std::ostream& err) {
  if (!config.playbooks.enabled) return true;  // no directory: nobody is paged or approves
  auto directory = staff(config, "", err);
  if (!directory) return false;
  const Person* person = directory->find(name);
  const std::string where = config.playbooks.people.string();
  if (!person && role == "admin")
    out << "note: '" << name << "' is not in " << where
        << ": they may administer, but not approve (an approval is a person's)\n";
  if (!person && role == "approver") {
    err << "refused: '" << name << "' is not in the staff directory (" << where
        << "): an approval is a person's, so a console account that approves is named as a "
           "person there. Add "
        << name << " to " << where << ", or give --role operator\n";
    return false;
  }
  if (!person && role == "operator")
    out << "note: '" << name << "' is not in " << where
        << ": they may acknowledge from the console, but no playbook pages them\n";
  if (person) {
    std::string roles;
    for (const auto& r : person->roles) roles += (roles.empty() ? "" : ", ") + r;
    out << name << " is " << person->name << " in " << where << " (" << roles << ")\n";
  }
  return true;
}

}  // namespace

int user_add(const Config& config, const std::string& name, const std::string& role,
             const std::string& language, const std::string& password, std::ostream& out,
             std::ostream& err) {
  if (!fits_directory(config, name, role, out, err) ||
      !applied(config, err, [&](db::Connection& db) {
        return auth_admin::add_user(db, name, role, password, language, "cli");
      }))
    return 1;
  out << "user " << name << " (" << role << ") added\n";
  return 0;
}

int user_disable(const Config& config, const std::string& name, std::ostream& out,
                 std::ostream& err) {
  if (!applied(config, err,
               [&](db::Connection& db) { return auth_admin::disable_user(db, name, "cli"); }))
    return 1;
  out << "user " << name << " disabled; their sessions are ended\n";
  return 0;
}

int user_set_role(const Config& config, const std::string& name, const std::string& role,
                  std::ostream& out, std::ostream& err) {
  if (!fits_directory(config, name, role, out, err) ||
      !applied(config, err,
               [&](db::Connection& db) { return auth_admin::set_role(db, name, role, "cli"); }))
    return 1;
  out << "user " << name << " is now " << role << "; their sessions are ended\n";
  return 0;
}

int user_reset_password(const Config& config, const std::string& name, const std::string& password,
                        std::ostream& out, std::ostream& err) {
  if (!applied(config, err, [&](db::Connection& db) {
        return auth_admin::reset_password(db, name, password, "cli");
      }))
    return 1;
  out << "user " << name << ": new password set; their sessions are ended\n";
  return 0;
}

int user_list(const Config& config, std::ostream& out) {
  auto db = open_database(config);
  for (const auto& u : auth_admin::list_users(*db)) {
    const auto& o = u.as_object();
    out << std::string(o.at("id").as_string()) << "\t" << std::string(o.at("role").as_string())
        << "\t" << std::string(o.at("language").as_string()) << "\t"
        << (o.at("disabled_at").is_null() ? "enabled" : "disabled") << "\t"
        << o.at("sessions").as_int64() << " sessions\n";
  }
  return 0;
}

namespace {
std::vector<std::string> comma_list(const std::string& text) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at <= text.size()) {
    auto comma = text.find(',', at);
    std::string s = text.substr(at, comma == std::string::npos ? comma : comma - at);
    if (!s.empty()) out.push_back(s);
    if (comma == std::string::npos) break;
    at = comma + 1;
  }
  return out;
}
}  // namespace

int token_add(const Config& config, const std::string& name, const std::string& scopes,
              const std::string& person, const std::string& sources, std::ostream& out,
              std::ostream& err) {
  if (!person.empty()) {
    auto directory = staff(config, "--for: ", err);
    if (!directory) return 1;
    if (!directory->find(person)) {
      err << "refused: --for: '" << person << "' is not in the staff directory ("
          << config.playbooks.people.string() << ")\n";
      return 1;
    }
  }
  std::set<std::string> wanted;
  for (auto& s : comma_list(scopes)) wanted.insert(std::move(s));
  auto db = open_database(config);
  auto r = in_transaction(*db, [&] {
    return auth_admin::add_token(*db, name, wanted, "cli", person, comma_list(sources));
  });
  if (!r) {
    err << "refused: " << r.error().message << "\n";
    return 1;
  }
  // The value is shown this once: only its hash is kept.
  out << r->second << "\n";
  err << "token " << r->first << " (" << name << ")"
      << (person.empty() ? " created, acting for nobody" : " created, acting for " + person)
      << "; keep the value above secret\n";
  return 0;
}

int token_list(const Config& config, std::ostream& out) {
  auto db = open_database(config);
  for (const auto& t : auth_admin::list_tokens(*db)) {
    const auto& o = t.as_object();
    // (std::string: a json::string streams quoted)
    out << std::string(o.at("id").as_string()) << "  " << std::string(o.at("name").as_string())
        << "  " << json_text(o.at("scopes"))
        << (o.at("for").is_null() ? "" : "  for " + std::string(o.at("for").as_string()))
        << (o.at("sources").is_null() ? "" : "  sources " + json_text(o.at("sources")))
        << (o.at("revoked_at").is_null() ? "" : "  revoked") << "\n";
  }
  return 0;
}

int token_revoke(const Config& config, const std::string& id, std::ostream& out,
                 std::ostream& err) {
  if (!applied(config, err,
               [&](db::Connection& db) { return auth_admin::revoke_token(db, id, "cli"); }))
    return 1;
  out << "token " << id << " revoked\n";
  return 0;
}

int alert_lint(const std::string& file, std::ostream& out, std::ostream& err) {
  constexpr std::uintmax_t kMax = 256 * 1024;
  std::error_code ec;
  auto size = std::filesystem::file_size(file, ec);
  if (ec) {
    err << file << ": " << ec.message() << "\n";
    return 1;
  }
  if (size > kMax) {
    err << file << ": larger than " << kMax << " bytes\n";
    return 1;
  }
  std::ifstream in(file, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  boost::system::error_code jec;
  auto v = json::parse(text, jec);
  if (jec) {
    err << file << ": not valid JSON (" << jec.message() << ")\n";
    return 1;
  }
  auto draft = dispatchers::public_draft_from_json(v);
  if (!draft) {
    err << file << ": " << draft.error().message << "\n";
    return 1;
  }
  auto problems = dispatchers::lint_public_alert(*draft);
  for (const auto& p : problems) out << file << ": " << p << "\n";
  if (!problems.empty()) {
    out << problems.size() << " problem" << (problems.size() > 1 ? "s" : "")
        << ": this alert would be blocked\n";
    return 1;
  }
  out << file << ": ok\n";
  return 0;
}

int audit_verify(const Config& config, std::ostream& out, std::ostream& err) {
  if (!std::filesystem::exists(database_of(config))) {
    err << database_of(config).string() << ": no database (the server never ran here)\n";
    return 1;
  }
  sqlite::Connection db(database_of(config).string(), sqlite::Connection::Mode::read_only);
  if (auto key = audit::load_key(config.audit.key, false)) audit::use_key(key.value());
  std::error_code ec;
  const bool checkpoints = std::filesystem::exists(config.audit.checkpoints, ec);
  auto v = audit::verify(db, checkpoints ? config.audit.checkpoints : std::filesystem::path());
  if (v.first_bad) {
    err << "audit chain broken: " << v.problem << "\n";
    return 1;
  }
  out << "audit chain ok: " << v.rows << " rows";
  if (checkpoints) out << ", " << v.checkpoints << " checkpoints agree";
  out << "\n";
  return 0;
}

}  // namespace tocsin
