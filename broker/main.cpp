// tocsin: the emergency alerting server and its command-line tools.

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include <spdlog/spdlog.h>
#include <termios.h>
#include <unistd.h>
#include <CLI/CLI.hpp>
#include <boost/json.hpp>

#include "broker/build_info.hpp"
#include "broker/cli/admin_cli.hpp"
#include "broker/cli/playbook_cli.hpp"
#include "broker/cli/preflight.hpp"
#include "broker/cli/remote_cli.hpp"
#include "broker/cli/resident_cli.hpp"
#include "broker/cli/send.hpp"
#include "broker/cli/template_cli.hpp"
#include "broker/ingest/sensor_keys.hpp"
#include "broker/logging.hpp"
#include "broker/serve.hpp"
#include "broker/settings/config.hpp"
#include "channels/siren/siren_simulator.hpp"
#include "core/json_text.hpp"
#include "core/yaml_reader.hpp"

namespace json = boost::json;

namespace {

// The CLI's tools (everything but serve and check-config) need no secret: a coordinator adding a
// user does not need the SMS provider's token in their environment.
std::optional<tocsin::Config> load_or_report(const std::string& file, bool with_secrets = false) {
  auto loaded = tocsin::load_config(file, with_secrets);
  if (auto* errors = std::get_if<tocsin::ConfigErrors>(&loaded)) {
    for (const auto& e : errors->errors) std::cerr << e << "\n";
    return std::nullopt;
  }
  return std::get<tocsin::Config>(std::move(loaded));
}

// A new password: from the variable named, else from the terminal without echo (asked twice),
// else a line of standard input (a script's pipe). nullopt, said why, when there is none.
std::optional<std::string> read_password(const std::string& variable) {
  if (!variable.empty()) {
    const char* v = std::getenv(variable.c_str());
    if (!v) {
      std::cerr << "--password-env: " << variable << " is not set\n";
      return std::nullopt;
    }
    return std::string(v);
  }
  if (!isatty(STDIN_FILENO)) {
    std::string line;
    std::getline(std::cin, line);
    return line;
  }
  // Echo off first, then the prompt: what is typed once the prompt shows is never echoed (and
  // what was typed before it is discarded, as getpass does).
  auto ask = [](const char* prompt) {
    termios was{};
    tcgetattr(STDIN_FILENO, &was);
    termios quiet = was;
    quiet.c_lflag &= ~tcflag_t(ECHO);
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    std::cerr << prompt << std::flush;
    std::string line;
    std::getline(std::cin, line);
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &was);
    std::cerr << "\n";
    return line;
  };
  std::string first = ask("Password (12 characters at least): ");
  if (ask("Again: ") != first) {
    std::cerr << "the two passwords differ; nothing changed\n";
    return std::nullopt;
  }
  return first;
}

// --attr k=v: a number if v reads as one, true/false as booleans, otherwise a string.
json::value attribute_value(const std::string& v) {
  if (v == "true") return true;
  if (v == "false") return false;
  char* end = nullptr;
  double d = std::strtod(v.c_str(), &end);
  if (!v.empty() && end == v.c_str() + v.size()) return d;
  return json::string(v);
}

std::string read_all(const std::string& path) {
  if (path == "-") return std::string(std::istreambuf_iterator<char>(std::cin), {});
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot be read");
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

// The simulator running in this process, for the signal handler to stop.
tocsin::channels::siren::SirenSimulator* running_sim = nullptr;

int siren_sim(const std::string& listen, const std::string& profile) {
  auto hp = tocsin::parse_host_port(listen);
  if (!hp) {
    std::cerr << "--listen: '" << listen << "' is not host:port\n";
    return 64;
  }
  tocsin::channels::siren::SirenSimulator sim(hp->host, hp->port, profile);
  running_sim = &sim;
  auto on_signal = [](int) { running_sim->stop(); };
  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);
  std::cout << "siren-sim: " << profile << " profile on " << listen << std::endl;
  std::string error;
  if (!sim.run(error)) {
    std::cerr << "siren-sim: " << error << "\n";
    return 1;
  }
  return 0;
}

int main(int argc, char** argv) {
  CLI::App app{"tocsin: emergency alerting and response coordination"};
  app.set_version_flag("--version",
                       std::string("tocsin ") + tocsin::kVersion + " (" + tocsin::kRevision + ")");
  app.require_subcommand(1);

  std::string config_file = "config/tocsin.yaml";
  auto* serve = app.add_subcommand("serve", "Run the server");
  serve->add_option("--config,-c", config_file, "configuration file")->capture_default_str();

  std::string check_file;
  auto* check = app.add_subcommand("check-config", "Validate a configuration file (exit 0 or 1)");
  check->add_option("file", check_file, "configuration file")->required();

  struct {
    std::string endpoint = "tcp://127.0.0.1:5555";
    std::string json_file, source = "cli", type, severity, urgency, certainty, headline,
                           description, zone, occurred_at, dedup_key;
    std::optional<double> lat, lon;
    std::vector<std::string> attrs;
    int timeout_ms = 5000;
    std::string server_key, secret_key_env;
  } s;
  auto* send = app.add_subcommand("send", "Send one incident over ZeroMQ and print the reply");
  send->add_option("--endpoint", s.endpoint, "broker ZeroMQ endpoint")->capture_default_str();
  send->add_option("--json", s.json_file, "send this JSON report as is (- for stdin)");
  send->add_option("--source", s.source, "reporting system")->capture_default_str();
  send->add_option("--type", s.type, "incident type, e.g. flood.water_level");
  send->add_option("--severity", s.severity, "extreme, severe, moderate, minor, unknown");
  send->add_option("--urgency", s.urgency);
  send->add_option("--certainty", s.certainty);
  send->add_option("--headline", s.headline);
  send->add_option("--description", s.description);
  send->add_option("--zone", s.zone);
  send->add_option("--lat", s.lat);
  send->add_option("--lon", s.lon);
  send->add_option("--occurred-at", s.occurred_at, "RFC 3339");
  send->add_option("--dedup-key", s.dedup_key);
  send->add_option("--attr", s.attrs, "attribute k=v (repeatable; numbers and true/false typed)");
  send->add_option("--server-key", s.server_key,
                   "the broker's CURVE public key (ingest.zmq.curve), Z85");
  send->add_option("--secret-key-env", s.secret_key_env,
                   "the environment variable holding this sensor's CURVE secret key");
  auto* keygen = app.add_subcommand(
      "keygen", "Print a new CURVE key pair (Z85) for the ZeroMQ bus: the broker's or a sensor's");
  send->add_option("--timeout-ms", s.timeout_ms, "how long to wait for the reply")
      ->capture_default_str();

  auto* playbook = app.add_subcommand("playbook", "Validate or dry-run playbooks");
  playbook->require_subcommand(1);
  std::string pb_config = "config/tocsin.yaml", pb_dir, pb_incident, ack_after, approve_after,
              pb_at;
  auto* pb_check = playbook->add_subcommand("check", "Validate a playbook directory (exit 0 or 1)");
  pb_check->add_option("dir", pb_dir, "playbook directory (default: playbooks.dir)");
  pb_check->add_option("--config,-c", pb_config, "for zones, people and templates")
      ->capture_default_str();
  auto* pb_test = playbook->add_subcommand(
      "test", "Which playbooks match an incident, and what they would do (nothing is sent)");
  pb_test->add_option("dir", pb_dir, "playbook directory (default: playbooks.dir)");
  pb_test->add_option("--incident", pb_incident, "incident report (JSON)")->required();
  pb_test->add_option("--ack-after", ack_after, "someone acknowledges after this long (e.g. 3m)");
  pb_test->add_option("--approve-after", approve_after, "an approver approves after this long");
  pb_test->add_option("--at", pb_at,
                      "start then, on the city's clock (2026-11-01T01:30) or RFC 3339; pages to "
                      "on-call schedules name who is on call");
  pb_test->add_option("--config,-c", pb_config, "for zones, people and templates")
      ->capture_default_str();

  auto* tpl = app.add_subcommand("template", "Message templates");
  tpl->require_subcommand(1);
  std::string tpl_config = "config/tocsin.yaml", tpl_name, tpl_lang = "fr", tpl_channel = "sms",
              tpl_incident;
  auto* tpl_render = tpl->add_subcommand("render", "Print what a recipient would get");
  tpl_render->add_option("name", tpl_name, "template name, e.g. flood-public")->required();
  tpl_render->add_option("--lang", tpl_lang, "fr or en")->capture_default_str();
  tpl_render->add_option("--channel", tpl_channel)->capture_default_str();
  tpl_render->add_option("--incident", tpl_incident, "incident report (JSON)")->required();
  tpl_render->add_option("--config,-c", tpl_config, "for zones and templates")
      ->capture_default_str();

  auto* sim = app.add_subcommand("siren-sim", "Simulate a siren controller (Modbus TCP)");
  std::string sim_listen = "127.0.0.1:1502", sim_profile = "default";
  sim->add_option("--listen", sim_listen, "host:port")->capture_default_str();
  sim->add_option("--profile", sim_profile, "default or federal-signal")
      ->check(CLI::IsMember({"default", "federal-signal"}))
      ->capture_default_str();

  // The everyday verbs, over the running server's API with a token (remote_cli.hpp).
  struct {
    std::string server, token_file, ca_file, output = "text";
  } remote;
  auto remote_options = [&remote](CLI::App* verb) {
    verb->add_option("--server", remote.server,
                     "the server's URL (default: TOCSIN_SERVER, else http://127.0.0.1:8080)");
    verb->add_option("--token-file", remote.token_file,
                     "read the API token from this file (default: the TOCSIN_TOKEN variable)");
    verb->add_option("--ca-file", remote.ca_file, "https: trust this CA (PEM)");
    verb->add_option("--output,-o", remote.output, "text or json")
        ->check(CLI::IsMember({"text", "json"}))
        ->capture_default_str();
    verb->require_subcommand(1);
  };
  std::string item_id, note, confirm, incident_state = "active";
  int incident_limit = 100;
  bool list_all = false;

  auto* inc = app.add_subcommand("incident", "Incidents on the running server (API, with a token)");
  remote_options(inc);
  auto* inc_list = inc->add_subcommand("list", "The board: incidents and their state");
  inc_list->add_option("--state", incident_state, "active, resolved, cancelled or all")
      ->check(CLI::IsMember({"active", "resolved", "cancelled", "all"}))
      ->capture_default_str();
  inc_list->add_option("--limit", incident_limit, "at most this many (1 to 1000)")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  auto* inc_show = inc->add_subcommand("show", "One incident and its events");
  inc_show->add_option("id", item_id)->required();
  std::vector<std::pair<CLI::App*, const char*>> inc_actions;
  for (const char* action : {"ack", "resolve", "cancel"}) {
    auto* leaf = inc->add_subcommand(
        action, std::string(action) == "ack"       ? "Acknowledge: you have it (escalation stops)"
                : std::string(action) == "resolve" ? "Resolve: it is over"
                                                   : "Cancel: it was a false report");
    leaf->add_option("id", item_id)->required();
    leaf->add_option("--note", note, "what you saw or did (kept in the incident's events)");
    inc_actions.emplace_back(leaf, action);
  }

  auto* apv = app.add_subcommand("approval", "Approvals waiting on the running server (API)");
  remote_options(apv);
  auto* apv_list = apv->add_subcommand("list", "Approvals pending (or --all)");
  apv_list->add_flag("--all", list_all, "decided ones too");
  auto* apv_approve = apv->add_subcommand("approve", "Vote to release what an approval holds");
  auto* apv_reject = apv->add_subcommand("reject", "Vote against: nothing is released");
  for (auto* leaf : {apv_approve, apv_reject}) {
    leaf->add_option("id", item_id)->required();
    leaf->add_option("--note", note, "why (a break-glass release needs one)");
  }
  apv_approve->add_option("--confirm", confirm,
                          "LIVE (or RÉEL): releasing a live public alert takes the word");

  tocsin::SilenceRequest silence;
  auto* sil = app.add_subcommand(
      "silence",
      "Maintenance windows on the running server (API): matching incidents start no run");
  remote_options(sil);
  auto* sil_add = sil->add_subcommand(
      "add", "Open a window (it must end, within max_window); you are its author");
  sil_add->add_option("--source", silence.source, "source glob, e.g. gauge-*");
  sil_add->add_option("--type", silence.type, "type glob, e.g. flood.*");
  sil_add->add_option("--zone", silence.zone, "zone id");
  sil_add->add_option("--starts-at", silence.starts_at, "RFC 3339 (default: now)");
  sil_add->add_option("--ends-at", silence.ends_at, "RFC 3339");
  sil_add->add_option("--for", silence.duration, "instead of --ends-at, e.g. 2h");
  sil_add->add_option("--reason", silence.reason)->required();
  auto* sil_list = sil->add_subcommand("list", "Open and scheduled windows");
  sil_list->add_flag("--all", list_all, "ended and expired ones too");
  auto* sil_expire = sil->add_subcommand("expire", "End a window now");
  sil_expire->add_option("id", item_id)->required();
  std::string schedule_id, oncall_at;
  int oncall_days = 7;
  tocsin::OverrideRequest cover;
  auto* onc = app.add_subcommand("oncall", "Who is on call, and overrides (API, with a token)");
  remote_options(onc);
  auto* onc_who = onc->add_subcommand("who", "Who is on call for a schedule, now or --at");
  onc_who->add_option("schedule", schedule_id)->required();
  onc_who->add_option("--at", oncall_at,
                      "the city's clock (2026-11-01T01:30) or RFC 3339 (default: now)");
  auto* onc_next = onc->add_subcommand("next", "Who is on call over the coming days");
  onc_next->add_option("schedule", schedule_id)->required();
  onc_next->add_option("--from", oncall_at, "the city's clock or RFC 3339 (default: now)");
  onc_next->add_option("--days", oncall_days, "1 to 62")
      ->check(CLI::Range(1, 62))
      ->capture_default_str();
  auto* onc_override = onc->add_subcommand(
      "override", "Someone covers, instead of another (--instead-of) or with them");
  onc_override->add_option("schedule", schedule_id)->required();
  onc_override->add_option("--person", cover.person, "who covers (people.yaml)")->required();
  onc_override->add_option("--instead-of", cover.instead_of, "whom they replace");
  onc_override->add_option("--from", cover.from, "the city's clock or RFC 3339 (default: now)");
  onc_override->add_option("--to", cover.to, "the city's clock or RFC 3339")->required();
  onc_override->add_option("--reason", cover.reason);
  auto* onc_cancel = onc->add_subcommand("cancel", "Cancel an override");
  onc_cancel->add_option("schedule", schedule_id)->required();
  onc_cancel->add_option("id", item_id)->required();
  for (auto* leaf : {inc_list, inc_show, apv_list, apv_approve, apv_reject, sil_add, sil_list,
                     sil_expire, onc_who, onc_next, onc_override, onc_cancel})
    leaf->fallthrough();
  for (auto& [leaf, action] : inc_actions) leaf->fallthrough();

  std::string admin_config = "config/tocsin.yaml";
  auto* aud = app.add_subcommand("audit", "The audit trail");
  aud->require_subcommand(1);
  aud->add_option("--config,-c", admin_config)->capture_default_str();
  auto* aud_verify = aud->add_subcommand("verify", "Check the hash chain (exit 0 or 1)");
  aud_verify->fallthrough();

  std::string user_name, user_role, user_language = "fr", password_env, token_name, token_scopes,
                                    token_person, token_sources, token_id;
  auto* user = app.add_subcommand("user", "Console accounts");
  user->require_subcommand(1);
  user->add_option("--config,-c", admin_config)->capture_default_str();
  auto* user_add = user->add_subcommand(
      "add", "Add a user; the password is read from standard input (or --password-env)");
  user_add->add_option("name", user_name, "login name (a person id of people.yaml to approve)")
      ->required();
  user_add->add_option("--role", user_role, "viewer, operator, approver or admin")->required();
  user_add->add_option("--language", user_language, "fr or en")->capture_default_str();
  user_add->add_option("--password-env", password_env, "read the password from this variable");
  auto* user_disable =
      user->add_subcommand("disable", "Disable a user: no more sign-ins, their sessions end");
  user_disable->add_option("name", user_name)->required();
  auto* user_list = user->add_subcommand("list", "Accounts: role, language, state, sessions");
  auto* user_set_role =
      user->add_subcommand("set-role", "Give a user another role; their sessions end");
  user_set_role->add_option("name", user_name)->required();
  user_set_role->add_option("role", user_role, "viewer, operator, approver or admin")->required();
  auto* user_reset = user->add_subcommand(
      "reset-password", "Set a user's password (read from the terminal, or --password-env)");
  user_reset->add_option("name", user_name)->required();
  user_reset->add_option("--password-env", password_env, "read the password from this variable");
  auto* token = app.add_subcommand("token", "API tokens for machines");
  token->require_subcommand(1);
  token->add_option("--config,-c", admin_config)->capture_default_str();
  auto* token_add = token->add_subcommand("add", "Create a token; its value is printed once");
  token_add->add_option("name", token_name)->required();
  token_add->add_option("--scope", token_scopes, "read,ingest,operate,approve,admin")->required();
  token_add->add_option("--for", token_person,
                        "the person (config/people.yaml) whose actions its actions are");
  token_add->add_option("--sources", token_sources,
                        "with ingest: the sources it may report as, comma-separated globs (* any)");
  auto* token_list = token->add_subcommand("list", "Tokens and their scopes");
  auto* token_revoke = token->add_subcommand("revoke", "Revoke a token now");
  token_revoke->add_option("id", token_id)->required();
  for (auto* leaf : {user_add, user_disable, user_list, user_set_role, user_reset, token_add,
                     token_list, token_revoke})
    leaf->fallthrough();

  std::string resident_file, resident_reason, resident_zone;
  auto* res = app.add_subcommand("resident", "The residents alerts reach (never lists contacts)");
  res->require_subcommand(1);
  res->add_option("--config,-c", admin_config)->capture_default_str();
  auto* res_key = res->add_subcommand(
      "new-key", "Print a new key for residents.key_file (keep it outside the data directory)");
  auto* res_import = res->add_subcommand(
      "import", "Import an existing opt-in list (CSV: phone, email, language, lat, lon, ...)");
  res_import->add_option("--csv", resident_file, "the list")->required();
  res_import->add_option("--reason", resident_reason, "where it comes from (audited)")->required();
  auto* res_count = res->add_subcommand("count", "Residents who can be reached");
  res_count->add_option("--zone", resident_zone, "in this zone only");
  for (auto* leaf : {res_key, res_import, res_count}) leaf->fallthrough();
  std::string address_file;
  auto* addr = app.add_subcommand("address",
                                  "The city's civic address file (residents find "
                                  "their places in it)");
  addr->require_subcommand(1);
  addr->add_option("--config,-c", admin_config)->capture_default_str();
  auto* addr_import = addr->add_subcommand(
      "import",
      "Replace it with a CSV file (id, number, street, municipality, postal_code, lat, "
      "lon)");
  addr_import->add_option("file", address_file, "the file")->required();
  addr_import->fallthrough();

  std::string lint_file;
  auto* alert_cmd = app.add_subcommand("alert", "Composed public alerts");
  alert_cmd->require_subcommand(1);
  auto* alert_lint = alert_cmd->add_subcommand(
      "lint", "The public-alert lint on a composed alert (JSON): exit 0 clean, 1 problems");
  alert_lint->add_option("file", lint_file, "the composed alert")->required();

  CLI11_PARSE(app, argc, argv);

  if (*alert_lint) return tocsin::alert_lint(lint_file, std::cout, std::cerr);

  if (*user || *token) {
    auto config = load_or_report(admin_config);
    if (!config) return 1;
    try {
      if (*user_add || *user_reset) {
        auto password = read_password(password_env);
        if (!password) return 64;
        if (*user_reset)
          return tocsin::user_reset_password(*config, user_name, *password, std::cout, std::cerr);
        return tocsin::user_add(*config, user_name, user_role, user_language, *password, std::cout,
                                std::cerr);
      }
      if (*user_disable) return tocsin::user_disable(*config, user_name, std::cout, std::cerr);
      if (*user_list) return tocsin::user_list(*config, std::cout);
      if (*user_set_role)
        return tocsin::user_set_role(*config, user_name, user_role, std::cout, std::cerr);
      if (*token_add)
        return tocsin::token_add(*config, token_name, token_scopes, token_person, token_sources,
                                 std::cout, std::cerr);
      if (*token_list) return tocsin::token_list(*config, std::cout);
      if (*token_revoke) return tocsin::token_revoke(*config, token_id, std::cout, std::cerr);
    } catch (const std::exception& e) {
      std::cerr << "tocsin: " << e.what() << "\n";
      return 2;
    }
  }

  if (*res_key) return tocsin::resident_new_key(std::cout);
  if (*addr_import) {
    auto config = load_or_report(admin_config);
    if (!config) return 1;
    try {
      return tocsin::address_import(*config, address_file, std::cout, std::cerr);
    } catch (const std::exception& e) {
      std::cerr << "tocsin: " << e.what() << "\n";
      return 2;
    }
  }
  if (*res) {
    auto loaded = tocsin::load_config(admin_config, false, true);
    if (auto* errors = std::get_if<tocsin::ConfigErrors>(&loaded)) {
      for (const auto& e : errors->errors) std::cerr << e << "\n";
      return 1;
    }
    const auto& config = std::get<tocsin::Config>(loaded);
    try {
      if (*res_import)
        return tocsin::resident_import(config, resident_file, resident_reason, std::cout,
                                       std::cerr);
      if (*res_count) return tocsin::resident_count(config, resident_zone, std::cout, std::cerr);
    } catch (const std::exception& e) {
      std::cerr << "tocsin: " << e.what() << "\n";
      return 2;
    }
  }

  if (*inc || *apv || *sil || *onc) {
    auto r = tocsin::remote_from(remote.server, remote.token_file, remote.ca_file, remote.output);
    if (!r) {
      std::cerr << "tocsin: " << r.error().message << "\n";
      return 64;
    }
    const auto& api = r.value();
    if (*inc_list)
      return tocsin::incident_list(api, incident_state, incident_limit, std::cout, std::cerr);
    if (*inc_show) return tocsin::incident_show(api, item_id, std::cout, std::cerr);
    for (auto& [leaf, action] : inc_actions)
      if (*leaf) return tocsin::incident_act(api, item_id, action, note, std::cout, std::cerr);
    if (*apv_list) return tocsin::approval_list(api, list_all, std::cout, std::cerr);
    if (*apv_approve || *apv_reject)
      return tocsin::approval_vote(api, item_id, bool(*apv_approve), note, confirm, std::cout,
                                   std::cerr);
    if (*sil_add) return tocsin::silence_add(api, silence, std::cout, std::cerr);
    if (*sil_list) return tocsin::silence_list(api, list_all, std::cout, std::cerr);
    if (*sil_expire) return tocsin::silence_expire(api, item_id, std::cout, std::cerr);
    if (*onc_who) return tocsin::oncall_who(api, schedule_id, oncall_at, std::cout, std::cerr);
    if (*onc_next)
      return tocsin::oncall_next(api, schedule_id, oncall_at, oncall_days, std::cout, std::cerr);
    if (*onc_override)
      return tocsin::oncall_override(api, schedule_id, cover, std::cout, std::cerr);
    if (*onc_cancel) return tocsin::oncall_cancel(api, schedule_id, item_id, std::cout, std::cerr);
  }

  if (*aud) {
    auto config = load_or_report(admin_config);
    if (!config) return 1;
    try {
      if (*aud_verify) return tocsin::audit_verify(*config, std::cout, std::cerr);
    } catch (const std::exception& e) {
      std::cerr << "tocsin: " << e.what() << "\n";
      return 2;
    }
  }

  if (*sim) return siren_sim(sim_listen, sim_profile);

  if (*tpl) {
    auto config = load_or_report(tpl_config);
    if (!config) return 1;
    return tocsin::template_render(*config, tpl_name, tpl_lang, tpl_channel, tpl_incident,
                                   std::cout, std::cerr);
  }

  if (*playbook) {
    auto config = load_or_report(pb_config);
    if (!config) return 1;
    if (*pb_check) return tocsin::playbook_check(*config, pb_dir, std::cout, std::cerr);
    tocsin::playbooks::DryRunOptions options;
    for (auto [text, slot] : {std::pair{&ack_after, &options.ack_after},
                              std::pair{&approve_after, &options.approve_after}}) {
      if (text->empty()) continue;
      auto d = tocsin::parse_duration(*text);
      if (!d) {
        std::cerr << "'" << *text << "' is not a duration (e.g. 90s, 10m, 1h30m)\n";
        return 64;
      }
      *slot = *d;
    }
    return tocsin::playbook_test(*config, pb_dir, pb_incident, options, pb_at, std::cout,
                                 std::cerr);
  }

  if (*check) {
    auto config = load_or_report(check_file, true);
    if (!config) return 1;
    // What serve would refuse besides the file itself: the playbooks, sources, keys, TLS.
    auto found = tocsin::preflight(*config);
    for (const auto& e : found.errors) std::cerr << e << "\n";
    if (!found.errors.empty()) return 1;
    for (const auto& w : found.warnings) std::cout << check_file << ": warning: " << w << "\n";
    std::cout << check_file << ": ok\n";
    return 0;
  }

  if (*serve) {
    auto config = load_or_report(config_file, true);
    if (!config) {
      std::cerr << "tocsin: refusing to start with an invalid configuration\n";
      return 1;
    }
    tocsin::configure_logging(config->log_format, config->log_level);
    try {
      return tocsin::serve(*config);
    } catch (const std::exception& e) {
      spdlog::critical("tocsin: cannot start: {}", e.what());
      return 1;
    }
  }

  if (*keygen) {
    auto pair = tocsin::curve_keypair();
    std::cout << "public: " << pair.public_key << "\nsecret: " << pair.secret_key << "\n";
    std::cerr << "keep the secret key in an environment variable, never in a file under "
                 "version control; give the public key to the other side\n";
    return 0;
  }

  if (*send) {
    std::string body;
    std::optional<tocsin::SensorCredentials> credentials;
    if (!s.server_key.empty() || !s.secret_key_env.empty()) {
      const char* secret =
          s.secret_key_env.empty() ? nullptr : std::getenv(s.secret_key_env.c_str());
      if (s.server_key.empty() || !secret) {
        std::cerr << "tocsin send: CURVE needs --server-key and --secret-key-env naming a set "
                     "variable\n";
        return 64;
      }
      credentials = tocsin::SensorCredentials{s.server_key, secret};
    }
    try {
      if (!s.json_file.empty()) {
        body = read_all(s.json_file);
      } else {
        json::object o{{"source", s.source}, {"type", s.type}, {"severity", s.severity}};
        if (!s.urgency.empty()) o["urgency"] = s.urgency;
        if (!s.certainty.empty()) o["certainty"] = s.certainty;
        if (!s.headline.empty()) o["headline"] = s.headline;
        if (!s.description.empty()) o["description"] = s.description;
        if (!s.occurred_at.empty()) o["occurred_at"] = s.occurred_at;
        if (!s.dedup_key.empty()) o["dedup_key"] = s.dedup_key;
        json::object loc;
        if (!s.zone.empty()) loc["zone"] = s.zone;
        if (s.lat) loc["lat"] = *s.lat;
        if (s.lon) loc["lon"] = *s.lon;
        if (!loc.empty()) o["location"] = std::move(loc);
        json::object attrs;
        for (const auto& a : s.attrs) {
          auto eq = a.find('=');
          if (eq == std::string::npos) {
            std::cerr << "--attr " << a << ": expected key=value\n";
            return 64;
          }
          attrs[a.substr(0, eq)] = attribute_value(a.substr(eq + 1));
        }
        if (!attrs.empty()) o["attributes"] = std::move(attrs);
        body = tocsin::json_text(o);
      }
      auto outcome =
          tocsin::send_incident(s.endpoint, body, std::chrono::milliseconds(s.timeout_ms),
                                credentials ? &*credentials : nullptr);
      (outcome.exit_code == 0 ? std::cout : std::cerr) << outcome.output << "\n";
      return outcome.exit_code;
    } catch (const std::exception& e) {
      std::cerr << "tocsin send: " << e.what() << "\n";
      return 2;
    }
  }
  return 0;
}
