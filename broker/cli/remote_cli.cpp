#include "broker/cli/remote_cli.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <ostream>
#include <vector>

#include <boost/json.hpp>

#include "channels/http/http_client.hpp"
#include "core/json_text.hpp"

namespace tocsin {

namespace json = boost::json;

namespace {

// A path segment as typed (an id), percent-encoded so that it stays one segment.
std::string segment(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += char(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

// Text from the server, shown on a terminal: a sensor's headline may hold control characters
// (escape sequences, new lines); each becomes a space.
std::string shown(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if ((unsigned char)c < 0x20 || c == 0x7f) c = ' ';
  return out;
}

std::string text(const json::value& v, std::string_view key) {
  const auto* o = v.if_object();
  const auto* f = o ? o->if_contains(key) : nullptr;
  if (!f || f->is_null()) return "";
  if (f->is_string()) return shown(f->as_string());
  return json_text(*f);
}

// One call; on failure, what to print and the exit code.
struct Answer {
  json::value body;
  int exit_code = 0;
};

Answer call(const Remote& remote, const std::string& method, const std::string& path,
            const json::object* body, std::ostream& err) {
  channels::HttpCall c;
  c.method = method;
  c.url = remote.server + path;
  c.timeout = remote.timeout;
  c.headers.emplace_back("Authorization", "Bearer " + remote.token);
  c.headers.emplace_back("Accept", "application/json");
  if (body) {
    c.headers.emplace_back("Content-Type", "application/json");
    c.body = json_text(*body);
  }
  channels::HttpClient client(remote.ca_file);
  auto r = client.call(c);
  if (!r) {
    err << "tocsin: " << remote.server << ": " << r.error().message
        << " (is the server running? --server or TOCSIN_SERVER says where)\n";
    return {nullptr, 2};
  }
  boost::system::error_code ec;
  json::value parsed = json::parse(r->body, ec);
  if (ec) {
    err << "tocsin: " << remote.server << path << " answered " << r->status
        << " without JSON (is --server the Tocsin API?)\n";
    return {nullptr, 2};
  }
  if (r->status >= 200 && r->status < 300) return {std::move(parsed), 0};
  const json::value* e = parsed.is_object() ? parsed.as_object().if_contains("error") : nullptr;
  std::string code = e ? text(*e, "code") : "", message = e ? text(*e, "message") : "";
  err << "tocsin: refused (" << r->status << (code.empty() ? "" : " " + code) << "): " << message;
  if (std::string reason = e ? text(*e, "reason") : ""; !reason.empty())
    err << " [" << reason << "]";
  err << "\n";
  if (r->status == 401)
    err << "  the token is unknown or revoked: set TOCSIN_TOKEN (or --token-file) to one made "
           "with tocsin token add NAME --scope … --for PERSON\n";
  return {nullptr, r->status >= 500 ? 2 : 1};
}

// Columns as wide as their widest cell, two spaces apart.
void table(const std::vector<std::vector<std::string>>& rows, std::ostream& out) {
  std::vector<std::size_t> width;
  for (const auto& row : rows)
    for (std::size_t i = 0; i < row.size(); ++i) {
      if (width.size() <= i) width.push_back(0);
      width[i] = std::max(width[i], row[i].size());
    }
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
    }
    out << line << "\n";
  }
}

const json::array& list_of(const json::value& v, std::string_view key) {
  static const json::array none;
  const auto* o = v.if_object();
  const auto* a = o ? o->if_contains(key) : nullptr;
  return a && a->is_array() ? a->as_array() : none;
}

int print_json(const json::value& v, std::ostream& out) {
  out << json_text(v) << "\n";
  return 0;
}

std::string zone_of(const json::value& incident) {
  const auto* o = incident.if_object();
  const auto* loc = o ? o->if_contains("location") : nullptr;
  return loc ? text(*loc, "zone") : "";
}

}  // namespace

Result<Remote> remote_from(const std::string& server, const std::string& token_file,
                           const std::string& ca_file, const std::string& output) {
  Remote r;
  r.server = server;
  if (r.server.empty())
    if (const char* v = std::getenv("TOCSIN_SERVER")) r.server = v;
  if (r.server.empty()) r.server = "http://127.0.0.1:8080";
  while (!r.server.empty() && r.server.back() == '/') r.server.pop_back();
  if (r.server.rfind("http://", 0) != 0 && r.server.rfind("https://", 0) != 0)
    return Error{"invalid", "--server: '" + r.server + "' is not an http:// or https:// URL",
                 "--server"};
  if (!token_file.empty()) {
    std::ifstream in(token_file);
    if (!in) return Error{"invalid", "--token-file: " + token_file + " cannot be read", ""};
    std::getline(in, r.token);
    while (!r.token.empty() && (r.token.back() == '\r' || r.token.back() == ' '))
      r.token.pop_back();
    if (r.token.empty())
      return Error{"invalid", "--token-file: " + token_file + " holds no token", ""};
  } else if (const char* v = std::getenv("TOCSIN_TOKEN"); v && *v) {
    r.token = v;
  } else {
    return Error{"invalid",
                 "TOCSIN_TOKEN is not set (nor --token-file): the API needs a token, made on "
                 "the server with tocsin token add NAME --scope read,operate --for PERSON",
                 "TOCSIN_TOKEN"};
  }
  if (r.token.find_first_of("\r\n") != std::string::npos || r.token.size() > 256)
    return Error{"invalid", "the token is not one line of at most 256 characters", ""};
  if (output != "text" && output != "json")
    return Error{"invalid", "--output: '" + output + "' is not text or json", "--output"};
  r.json = output == "json";
  r.ca_file = ca_file;
  return r;
}

int incident_list(const Remote& remote, const std::string& state, int limit, std::ostream& out,
                  std::ostream& err) {
  auto a = call(remote, "GET",
                "/api/v1/incidents?state=" + segment(state) + "&limit=" + std::to_string(limit),
                nullptr, err);
  if (a.exit_code) return a.exit_code;
  if (remote.json) return print_json(a.body, out);
  const auto& list = list_of(a.body, "incidents");
  if (list.empty()) {
    out << "no " << (state == "all" ? "" : state + " ") << "incidents\n";
    return 0;
  }
  std::vector<std::vector<std::string>> rows{
      {"ID", "STATE", "SEVERITY", "STATUS", "TYPE", "ZONE", "UPDATED", "HEADLINE"}};
  for (const auto& i : list)
    rows.push_back({text(i, "id"), text(i, "state"), text(i, "severity"), text(i, "status"),
                    text(i, "type"), zone_of(i), text(i, "updated_at"), text(i, "headline")});
  table(rows, out);
  return 0;
}

int incident_show(const Remote& remote, const std::string& id, std::ostream& out,
                  std::ostream& err) {
  auto a = call(remote, "GET", "/api/v1/incidents/" + segment(id), nullptr, err);
  if (a.exit_code) return a.exit_code;
  if (remote.json) return print_json(a.body, out);
  const auto& i = a.body;
  std::vector<std::vector<std::string>> rows{
      {"id:", text(i, "id")},
      {"state:", text(i, "state")},
      {"status:", text(i, "status")},
      {"type:", text(i, "type")},
      {"severity:", text(i, "severity") + " (urgency " + text(i, "urgency") + ", certainty " +
                        text(i, "certainty") + ")"},
      {"source:", text(i, "source")},
      {"zone:", zone_of(i)},
      {"headline:", text(i, "headline")},
      {"description:", text(i, "description")},
      {"occurred at:", text(i, "occurred_at")},
      {"updated at:", text(i, "updated_at") + " (" + text(i, "updates") + " updates)"}};
  if (const auto* attrs = i.as_object().if_contains("attributes");
      attrs && attrs->is_object() && !attrs->as_object().empty()) {
    std::string line;
    for (const auto& kv : attrs->as_object())
      line += (line.empty() ? "" : ", ") + std::string(kv.key()) + "=" +
              shown(kv.value().is_string() ? std::string(kv.value().as_string())
                                           : json_text(kv.value()));
    rows.push_back({"attributes:", line});
  }
  table(rows, out);
  out << "events:\n";
  std::vector<std::vector<std::string>> events;
  for (const auto& e : list_of(i, "events")) {
    std::string what;
    if (const auto* r = e.as_object().if_contains("report")) {
      what = text(*r, "line");
      if (what.empty()) what = text(*r, "note");
      if (what.empty() && text(e, "kind") != "created" && text(e, "kind") != "updated")
        what = text(*r, "headline");
    }
    events.push_back({"  " + text(e, "at"), text(e, "kind"), text(e, "actor"), what});
  }
  table(events, out);
  return 0;
}

int incident_act(const Remote& remote, const std::string& id, const std::string& action,
                 const std::string& note, std::ostream& out, std::ostream& err) {
  json::object body;
  if (!note.empty()) body["note"] = note;
  auto a = call(remote, "POST", "/api/v1/incidents/" + segment(id) + "/" + action, &body, err);
  if (a.exit_code) return a.exit_code;
  if (remote.json) return print_json(a.body, out);
  out << "incident " << text(a.body, "id") << ": " << text(a.body, "result") << "\n";
  return 0;
}

int approval_list(const Remote& remote, bool all, std::ostream& out, std::ostream& err) {
  auto a = call(remote, "GET", std::string("/api/v1/approvals?state=") + (all ? "all" : "pending"),
                nullptr, err);
  if (a.exit_code) return a.exit_code;
  if (remote.json) return print_json(a.body, out);
  const auto& list = list_of(a.body, "approvals");
  if (list.empty()) {
    out << (all ? "no approvals\n" : "no approvals pending\n");
    return 0;
  }
  std::vector<std::vector<std::string>> rows{
      {"ID", "STATE", "INCIDENT", "STATUS", "PLAYBOOK", "STEP", "ROLE", "VOTES", "DUE"}};
  for (const auto& p : list) {
    std::size_t approvals = 0;
    for (const auto& v : list_of(p, "votes"))
      if (text(v, "decision") == "approve") ++approvals;
    rows.push_back({text(p, "id"), text(p, "status"), text(p, "incident_id"),
                    text(p, "incident_status"), text(p, "playbook"), text(p, "step"),
                    text(p, "role"), std::to_string(approvals) + "/" + text(p, "required"),
                    text(p, "due_at")});
  }
  table(rows, out);
  return 0;
}

int approval_vote(const Remote& remote, const std::string& id, bool approve,
                  const std::string& note, const std::string& confirm, std::ostream& out,
                  std::ostream& err) {
  json::object body;
  if (!note.empty()) body["note"] = note;
  if (!confirm.empty()) body["confirm"] = confirm;
  auto a =
      call(remote, "POST", "/api/v1/approvals/" + segment(id) + (approve ? "/approve" : "/reject"),
           &body, err);
  if (a.exit_code) return a.exit_code;
  if (remote.json) return print_json(a.body, out);
  std::string status = text(a.body, "status");
  out << "approval " << text(a.body, "id") << ": " << status;
  if (status == "pending") out << " (your vote is in; another approver's is still needed)";
  out << "\n";
  return 0;
}

namespace {

void print_silence(const json::value& s, std::ostream& out) {
  out << text(s, "id") << "  " << text(s, "state") << "  "
      << "from " << text(s, "starts_at") << " until " << text(s, "ends_at");
  for (const char* k : {"source", "type", "zone"})
    if (std::string v = text(s, k); !v.empty()) out << "  " << k << "=" << v;
  out << "  by " << text(s, "author") << ": " << text(s, "reason");
  if (std::string by = text(s, "expired_by"); !by.empty()) out << " (ended by " << by << ")";
  out << "\n";
}

}  // namespace

int silence_add(const Remote& remote, const SilenceRequest& r, std::ostream& out,
                std::ostream& err) {
  json::object body;
  auto put = [&](const char* key, const std::string& v) {
    if (!v.empty()) body[key] = v;
  };
  put("source", r.source);
  put("type", r.type);
  put("zone", r.zone);
  put("starts_at", r.starts_at);
  put("ends_at", r.ends_at);
  put("duration", r.duration);
  put("reason", r.reason);
  auto a = call(remote, "POST", "/api/v1/silences", &body, err);
  if (a.exit_code) return a.exit_code;
  if (remote.json) return print_json(a.body, out);
  print_silence(a.body, out);
  return 0;
}

int silence_list(const Remote& remote, bool all, std::ostream& out, std::ostream& err) {
  auto a =
      call(remote, "GET", all ? "/api/v1/silences?all=true" : "/api/v1/silences", nullptr, err);
  if (a.exit_code) return a.exit_code;
  if (remote.json) return print_json(a.body, out);
  const auto& list = list_of(a.body, "silences");
  if (list.empty()) out << (all ? "no windows\n" : "no open or scheduled windows\n");
  for (const auto& s : list) print_silence(s, out);
  return 0;
}

int silence_expire(const Remote& remote, const std::string& id, std::ostream& out,
                   std::ostream& err) {
  json::object body;
  auto a = call(remote, "POST", "/api/v1/silences/" + segment(id) + "/expire", &body, err);
  if (a.exit_code) return a.exit_code;
  if (remote.json) return print_json(a.body, out);
  print_silence(a.body, out);
  return 0;
}

namespace {

std::string names(const json::value& v) {
  std::string out;
  for (const auto& p : list_of(v, "on_call"))
    out += (out.empty() ? "" : ", ") + text(p, "name") + " (" + text(p, "id") + ")";
  return out.empty() ? "nobody" : out;
}

std::string query_value(const std::string& v) {
  std::string out;
  for (unsigned char c : v) {
    if (std::isalnum(c) || c == '-' || c == ':' || c == '.' || c == '_')
      out += char(c);
    else {
      static const char* hex = "0123456789ABCDEF";
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

void print_override(const json::value& o, std::ostream& out) {
  out << text(o, "id") << "  " << text(o, "person");
  if (std::string who = text(o, "instead_of"); !who.empty()) out << " instead of " << who;
  out << "  from " << text(o, "from_local") << " to " << text(o, "to_local") << "  by "
      << text(o, "by");
  if (std::string why = text(o, "reason"); !why.empty()) out << ": " << why;
  out << "\n";
}

}  // namespace

int oncall_who(const Remote& remote, const std::string& schedule, const std::string& at,
               std::ostream& out, std::ostream& err) {
  std::string target = "/api/v1/schedules/" + segment(schedule) + "/on-call";
  if (!at.empty()) target += "?at=" + query_value(at);
  auto a = call(remote, "GET", target, nullptr, err);
  if (a.exit_code) return a.exit_code;
  if (remote.json) return print_json(a.body, out);
  out << text(a.body, "name") << " at " << text(a.body, "at_local") << ": " << names(a.body);
  if (std::string until = text(a.body, "until_local"); !until.empty()) out << " until " << until;
  out << "\n";
  if (text(a.body, "gap") == "true")
    out << "(a gap: a page now reaches everyone the schedule names)\n";
  return 0;
}

int oncall_next(const Remote& remote, const std::string& schedule, const std::string& from,
                int days, std::ostream& out, std::ostream& err) {
  std::string target =
      "/api/v1/schedules/" + segment(schedule) + "/shifts?days=" + std::to_string(days);
  if (!from.empty()) target += "&from=" + query_value(from);
  auto a = call(remote, "GET", target, nullptr, err);
  if (a.exit_code) return a.exit_code;
  if (remote.json) return print_json(a.body, out);
  std::vector<std::vector<std::string>> rows{{"FROM", "TO", "ON CALL"}};
  for (const auto& s : list_of(a.body, "shifts"))
    rows.push_back({text(s, "from_local"), text(s, "to_local"), names(s)});
  table(rows, out);
  return 0;
}

int oncall_override(const Remote& remote, const std::string& schedule, const OverrideRequest& r,
                    std::ostream& out, std::ostream& err) {
  json::object body;
  auto put = [&](const char* key, const std::string& v) {
    if (!v.empty()) body[key] = v;
  };
  put("person", r.person);
  put("instead_of", r.instead_of);
  put("from", r.from);
  put("to", r.to);
  put("reason", r.reason);
  auto a =
      call(remote, "POST", "/api/v1/schedules/" + segment(schedule) + "/overrides", &body, err);
  if (a.exit_code) return a.exit_code;
  if (remote.json) return print_json(a.body, out);
  print_override(a.body, out);
  return 0;
}

int oncall_cancel(const Remote& remote, const std::string& schedule, const std::string& id,
                  std::ostream& out, std::ostream& err) {
  json::object body;
  auto a = call(remote, "POST",
                "/api/v1/schedules/" + segment(schedule) + "/overrides/" + segment(id) + "/cancel",
                &body, err);
  if (a.exit_code) return a.exit_code;
  if (remote.json) return print_json(a.body, out);
  out << "cancelled: ";
  print_override(a.body, out);
  return 0;
}

}  // namespace tocsin
