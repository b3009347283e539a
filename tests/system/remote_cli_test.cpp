// The CLI's everyday verbs against a running server, through its API with a token, as a duty
// officer types them at a shell: the server records the token's person as the actor.
#include <catch2/catch.hpp>

#include <fstream>

#include <boost/json.hpp>

#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/tocsin_server.hpp"
#include "tests/support/wait.hpp"

namespace json = boost::json;

using namespace tocsin::test;
using namespace std::chrono_literals;

namespace {

// `tocsin ARGS… --server URL` with TOCSIN_TOKEN set to `token` (none when empty).
Completed cli(const TocsinServer& server, const std::string& token, std::vector<std::string> args) {
  std::vector<std::string> argv{TOCSIN_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back("--server");
  argv.push_back("http://127.0.0.1:" + std::to_string(server.http_port()));
  std::vector<std::pair<std::string, std::string>> env;
  if (!token.empty()) env.emplace_back("TOCSIN_TOKEN", token);
  return run_command_env(argv, env, 20s);
}

bool has(const Completed& r, const std::string& text) {
  return r.output.find(text) != std::string::npos;
}

std::string report(const std::string& type, const std::string& status,
                   const std::string& extra = "") {
  return R"({"source":"gauge-rdp-1","type":")" + type + R"(","severity":"severe","status":")" +
         status +
         R"(","headline":"Level 4.2 m at the Pie-IX gauge","location":{"zone":"riverside"})" +
         extra + "}";
}

std::string created(const TocsinServer& server, const std::string& body) {
  auto r = server.post("/api/v1/incidents", body);
  REQUIRE(r);
  REQUIRE(r->status == 201);
  return std::string(json::parse(r->body).at("id").as_string());
}

// The audit rows of `action` about `subject`.
std::vector<json::object> audited(const TocsinServer& server, const std::string& action,
                                  const std::string& subject) {
  auto r = server.get("/api/v1/audit?limit=1000");
  REQUIRE(r);
  std::vector<json::object> out;
  auto trail = json::parse(r->body);
  for (const auto& e : trail.at("entries").as_array())
    if (e.at("action").as_string() == action && e.at("subject") == json::value(subject))
      out.push_back(e.as_object());
  return out;
}

// The shipped playbooks, people and zones: the boil-water playbook waits for two approvers.
ServerOptions shipped() {
  ServerOptions o;
  o.playbooks_dir = TOCSIN_SOURCE_DIR "/config/playbooks";
  return o;
}

}  // namespace

TEST_CASE("tocsin incident and silence act on the running server as the token's person",
          "[cli][api]") {
  TocsinServer server(shipped());
  server.start();
  const std::string mgagnon = server.token_for("mgagnon");
  std::string id =
      created(server, report("flood.water_level", "actual", R"(,"attributes":{"level_m":4.2})"));
  REQUIRE(server.settled());

  auto list = cli(server, mgagnon, {"incident", "list"});
  CHECK(list.exit_code == 0);
  CHECK(has(list, "ID  "));
  CHECK(has(list, id + "  active  severe"));
  CHECK(has(list, "flood.water_level  riverside"));
  CHECK(has(list, "Level 4.2 m at the Pie-IX gauge"));

  auto show = cli(server, mgagnon, {"incident", "show", id});
  CHECK(show.exit_code == 0);
  CHECK(has(show, "attributes:   level_m=4.2"));
  CHECK(has(show, "events:"));
  CHECK(has(show, "step 1: notify roles:duty-officer"));

  auto ack = cli(server, mgagnon, {"incident", "ack", id, "--note", "on my way"});
  CHECK(ack.exit_code == 0);
  CHECK(has(ack, "incident " + id + ": acknowledged"));
  // The server took the token's person as the actor: the incident and the audit trail say so.
  auto incident = json::parse(server.get("/api/v1/incidents/" + id)->body);
  bool acked_by_her = false;
  for (const auto& e : incident.at("events").as_array())
    if (e.at("kind").as_string() == "acknowledged") acked_by_her = e.at("actor") == "mgagnon";
  CHECK(acked_by_her);
  auto rows = audited(server, "incident.ack", id);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].at("detail").at("for") == "mgagnon");
  CHECK(rows[0].at("detail").at("note") == "on my way");
  auto shown = cli(server, mgagnon, {"incident", "show", id});
  CHECK(has(shown, "acknowledged  mgagnon"));

  // Maintenance windows: the author is the token's person, not a --by anyone could type.
  auto opened =
      cli(server, mgagnon,
          {"silence", "add", "--source", "gauge-*", "--for", "2h", "--reason", "calibration"});
  CHECK(opened.exit_code == 0);
  CHECK(has(opened, "open  from "));
  CHECK(has(opened, "source=gauge-*  by mgagnon: calibration"));
  std::string window = opened.output.substr(0, 26);
  auto by =
      cli(server, mgagnon, {"silence", "add", "--for", "2h", "--reason", "x", "--by", "jtremblay"});
  CHECK(by.exit_code != 0);
  CHECK(has(by, "--by"));
  auto windows = cli(server, mgagnon, {"silence", "list"});
  CHECK(has(windows, window + "  open"));
  auto ended = cli(server, mgagnon, {"silence", "expire", window});
  CHECK(ended.exit_code == 0);
  CHECK(has(ended, window + "  expired"));
  CHECK(has(ended, "(ended by mgagnon)"));
  CHECK(has(cli(server, mgagnon, {"silence", "list"}), "no open or scheduled windows"));
  CHECK(has(cli(server, mgagnon, {"silence", "list", "--all"}), window + "  expired"));
  REQUIRE(audited(server, "silence.create", window).size() == 1);
  CHECK(audited(server, "silence.create", window)[0].at("actor") == "mgagnon");

  // For scripts: the API's answer as it is; the token from a file (systemd's credentials).
  TempDir dir;
  std::ofstream(dir.path() / "token") << mgagnon << "\n";
  auto as_json = run_command_env({TOCSIN_BINARY, "incident", "list", "--state", "all", "-o", "json",
                                  "--token-file", (dir.path() / "token").string(), "--server",
                                  "http://127.0.0.1:" + std::to_string(server.http_port())},
                                 {}, 20s);
  CHECK(as_json.exit_code == 0);
  auto parsed = json::parse(as_json.output);
  REQUIRE(parsed.at("incidents").as_array().size() == 1);
  CHECK(parsed.at("incidents").as_array()[0].at("id").as_string() == id);

  auto resolved = cli(server, mgagnon, {"incident", "resolve", id, "--note", "water receding"});
  CHECK(resolved.exit_code == 0);
  CHECK(has(resolved, ": resolved"));
  auto again = cli(server, mgagnon, {"incident", "resolve", id});
  CHECK(again.exit_code == 1);
  CHECK(has(again, "refused (409"));
  CHECK(has(cli(server, mgagnon, {"incident", "list"}), "no active incidents"));
}

TEST_CASE(
    "tocsin approval releases an exercise with two people's tokens, and a live one only "
    "signed in",
    "[cli][api][approval]") {
  TocsinServer server(shipped());
  server.start();
  const std::string swilliams = server.token_for("swilliams", R"(["read","approve"])");
  const std::string plavoie = server.token_for("plavoie", R"(["read","approve"])");
  // The boil-water playbook waits at once for two approvers.
  std::string drill = created(server, report("water.boil_advisory", "exercise"));
  REQUIRE(server.settled());

  auto pending = cli(server, swilliams, {"approval", "list"});
  CHECK(pending.exit_code == 0);
  CHECK(has(pending, "pending  " + drill + "  exercise  boil-water"));
  CHECK(has(pending, "approver  0/2"));
  auto approvals = json::parse(cli(server, swilliams, {"approval", "list", "-o", "json"}).output);
  REQUIRE(approvals.at("approvals").as_array().size() == 1);
  std::string approval(approvals.at("approvals").as_array()[0].at("id").as_string());

  auto first = cli(server, swilliams, {"approval", "approve", approval});
  CHECK(first.exit_code == 0);
  CHECK(has(first, "approval " + approval + ": pending (your vote is in"));
  CHECK(has(cli(server, swilliams, {"approval", "list"}), "approver  1/2"));
  auto twice = cli(server, swilliams, {"approval", "approve", approval});
  CHECK(twice.exit_code == 1);
  auto second = cli(server, plavoie, {"approval", "approve", approval, "--note", "drill"});
  CHECK(second.exit_code == 0);
  CHECK(has(second, ": approved"));
  CHECK(has(cli(server, plavoie, {"approval", "list"}), "no approvals pending"));
  auto votes = audited(server, "approval.approve", approval);
  REQUIRE(votes.size() == 2);

  // A live public alert: the word is not enough from a shell; a person signs in to release it.
  std::string live = created(server, report("water.boil_advisory", "actual"));
  REQUIRE(server.settled());
  auto listed = json::parse(cli(server, swilliams, {"approval", "list", "-o", "json"}).output);
  REQUIRE(listed.at("approvals").as_array().size() == 1);
  CHECK(listed.at("approvals").as_array()[0].at("incident_id").as_string() == live);
  std::string held(listed.at("approvals").as_array()[0].at("id").as_string());
  auto refused = cli(server, swilliams, {"approval", "approve", held, "--confirm", "LIVE"});
  CHECK(refused.exit_code == 1);
  CHECK(has(refused, "refused (403 forbidden)"));
  CHECK(has(refused, "[person_required]"));
  // Rejecting is the safe way, and a token may.
  auto rejected = cli(server, swilliams, {"approval", "reject", held, "--note", "not now"});
  CHECK(rejected.exit_code == 0);
  CHECK(has(rejected, ": rejected"));
}

TEST_CASE("the CLI's remote verbs say what is wrong: no token, a bad one, a scope, no server",
          "[cli][api]") {
  TocsinServer server(shipped());
  server.start();
  auto none = cli(server, "", {"incident", "list"});
  CHECK(none.exit_code == 64);
  CHECK(has(none, "TOCSIN_TOKEN is not set"));

  auto unknown = cli(server, std::string(64, 'a'), {"incident", "list"});
  CHECK(unknown.exit_code == 1);
  CHECK(has(unknown, "refused (401 unauthenticated)"));
  CHECK(has(unknown, "the token is unknown or revoked"));

  std::string id = created(server, report("flood.water_level", "actual"));
  const std::string viewer = server.token_for("mgagnon", R"(["read"])");
  auto no_scope = cli(server, viewer, {"incident", "ack", id});
  CHECK(no_scope.exit_code == 1);
  CHECK(has(no_scope, "refused (403"));
  CHECK(has(no_scope, "operate"));
  auto no_such = cli(server, viewer, {"incident", "show", "01ARZ3NDEKTSV4RRFFQ69G5FAV"});
  CHECK(no_such.exit_code == 1);
  CHECK(has(no_such, "refused (404 not_found)"));
  // An id with a slash stays one path segment: it names no other route.
  auto odd = cli(server, viewer, {"incident", "show", "../../sources"});
  CHECK(odd.exit_code == 1);
  CHECK(has(odd, "404"));

  auto bad_url = run_command_env({TOCSIN_BINARY, "incident", "list", "--server", "ftp://x"},
                                 {{"TOCSIN_TOKEN", viewer}}, 20s);
  CHECK(bad_url.exit_code == 64);
  CHECK(has(bad_url, "--server: 'ftp://x' is not an http:// or https:// URL"));
  auto down = run_command_env({TOCSIN_BINARY, "incident", "list", "--server",
                               "http://127.0.0.1:" + std::to_string(free_tcp_port())},
                              {{"TOCSIN_TOKEN", viewer}}, 20s);
  CHECK(down.exit_code == 2);
  CHECK(has(down, "is the server running?"));
}
