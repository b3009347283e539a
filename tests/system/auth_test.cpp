// Accounts, sessions, CSRF and tokens, against a real server: every state-changing route refuses
// a missing session, a wrong role and a missing CSRF token; a session cookie does not work from
// another origin; logins are rate limited; tokens are scoped and revocable.

#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/tocsin_server.hpp"
#include "tests/support/wait.hpp"

using namespace tocsin::test;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

// The shipped staff directory (and playbooks, which the incidents here do not match).
ServerOptions with_staff() {
  ServerOptions o;
  o.playbooks_dir = TOCSIN_SOURCE_DIR "/config/playbooks";
  return o;
}

Session login(const TocsinServer& s, const std::string& user, const std::string& password) {
  Session who = sign_in(s, user, password);
  std::string set_cookie = who.login_headers.at("set-cookie");
  CHECK(set_cookie.find("HttpOnly") != std::string::npos);
  CHECK(set_cookie.find("SameSite=Strict") != std::string::npos);
  CHECK(set_cookie.find("Secure") == std::string::npos);  // no TLS here (http.auth.secure_cookie)
  return who;
}

std::optional<HttpResponse> as(const TocsinServer& s, const Session& who, const std::string& method,
                               const std::string& target, const std::string& body,
                               bool with_csrf = true, const std::string& origin = "") {
  return as_user(s, who, method, target, body, with_csrf, origin);
}

std::string code_of(const std::optional<HttpResponse>& r) {
  REQUIRE(r);
  return std::string(json::parse(r->body).at("error").at("code").as_string());
}

}  // namespace

TEST_CASE("every state-changing route refuses no session, a wrong role, and no CSRF token",
          "[auth]") {
  ServerOptions options;
  options.playbooks_dir = TOCSIN_SOURCE_DIR "/config/playbooks";
  TocsinServer server(options);
  server.add_user("vera", "viewer", "correct horse battery");
  server.add_user("mgagnon", "operator", "correct horse battery");
  server.add_user("ada", "admin", "correct horse battery");
  server.start();
  auto created = server.post("/api/v1/incidents", R"({"source":"gauge-rdp-17",
      "type":"flood.water_level","severity":"severe","location":{"zone":"riverside"},
      "attributes":{"level_m":4.4}})");
  REQUIRE(created);
  std::string id(json::parse(created->body).at("id").as_string());
  const std::string fake = "01ARZ3NDEKTSV4RRFFQ69G5FAV";
  struct Route {
    std::string target, body, scope;
  };
  std::vector<Route> routes{
      {"/api/v1/incidents", R"({"source":"x","type":"t.t","severity":"minor"})", "ingest"},
      {"/api/v1/incidents/" + id + "/ack", "{}", "operate"},
      {"/api/v1/incidents/" + id + "/resolve", "{}", "operate"},
      {"/api/v1/incidents/" + id + "/cancel", "{}", "operate"},
      {"/api/v1/incidents/" + id + "/compose", "{}", "operate"},
      {"/api/v1/incidents/" + id + "/compose/preview", "{}", "operate"},
      {"/api/v1/alerts/" + fake + "/cancel", "{}", "operate"},
      {"/api/v1/alerts/" + fake + "/correct", R"({"note":"x"})", "operate"},
      {"/api/v1/approvals/" + fake + "/approve", "{}", "approve"},
      {"/api/v1/approvals/" + fake + "/reject", "{}", "approve"},
      {"/api/v1/silences", R"({"source":"x","duration":"1h","reason":"r"})", "operate"},
      {"/api/v1/silences/" + fake + "/expire", "{}", "operate"},
      {"/api/v1/sources/gauge-a/heartbeat", "", "ingest"},
      {"/api/v1/playbooks/reload", "", "admin"},
      {"/api/v1/tokens", R"({"name":"x","scopes":["read"]})", "admin"},
      {"/api/v1/tokens/" + fake + "/revoke", "", "admin"},
  };
  Session viewer = login(server, "vera", "correct horse battery");
  Session operator_ = login(server, "mgagnon", "correct horse battery");
  Session admin = login(server, "ada", "correct horse battery");
  for (const auto& r : routes) {
    INFO(r.target);
    auto anonymous = http_request(server.http_port(), "POST", r.target, r.body);
    REQUIRE(anonymous);
    CHECK(anonymous->status == 401);
    CHECK(anonymous->headers.count("www-authenticate") == 1);
    auto wrong_role = as(server, viewer, "POST", r.target, r.body);
    CHECK(wrong_role->status == 403);
    CHECK(code_of(wrong_role) == "forbidden");
    auto no_csrf = as(server, admin, "POST", r.target, r.body, false);
    CHECK(no_csrf->status == 403);
    CHECK(code_of(no_csrf) == "csrf");
  }
  // Logging out (any role may) needs a session and its CSRF token too: no page elsewhere can
  // sign a coordinator out in the middle of a crisis.
  CHECK(http_request(server.http_port(), "POST", "/api/v1/logout", "")->status == 401);
  CHECK(code_of(as(server, viewer, "POST", "/api/v1/logout", "", false)) == "csrf");
  CHECK(as(server, viewer, "GET", "/api/v1/session", "")->status == 200);  // still signed in
  // The operator's session from another origin: refused, even with the CSRF token.
  auto foreign = as(server, operator_, "POST", "/api/v1/incidents/" + id + "/ack", "{}", true,
                    "http://evil.example");
  CHECK(foreign->status == 403);
  CHECK(code_of(foreign) == "cross_origin");
  // From this origin, with the token: done, as the signed-in person (not who the body names).
  std::string here = "http://127.0.0.1:" + std::to_string(server.http_port());
  auto ack = as(server, operator_, "POST", "/api/v1/incidents/" + id + "/ack", "{}", true, here);
  REQUIRE(ack);
  CHECK(ack->status == 200);
  CHECK(code_of(as(server, operator_, "POST", "/api/v1/incidents/" + id + "/resolve",
                   R"({"by":"swilliams"})")) == "forbidden");
  auto incident = json::parse(server.get("/api/v1/incidents/" + id)->body);
  CHECK(incident.at("acknowledged_by") == "mgagnon");
  // Reading needs a session too; the viewer may.
  CHECK(http_request(server.http_port(), "GET", "/api/v1/incidents")->status == 401);
  CHECK(as(server, viewer, "GET", "/api/v1/incidents", "")->status == 200);
  CHECK(as(server, viewer, "GET", "/api/v1/audit", "")->status == 403);  // admins only
  // Public: health and (by default) metrics.
  // The public health answer is the status alone; a reader (the tests' token, a viewer's
  // session) gets the components, with their binds and socket paths.
  auto open_health = http_request(server.http_port(), "GET", "/health");
  REQUIRE(open_health);
  CHECK(open_health->status == 200);
  CHECK(json::parse(open_health->body) == json::parse(R"({"status":"ok"})"));
  auto detailed = json::parse(server.get("/health")->body);
  CHECK(detailed.at("components").at("redis").as_object().contains("endpoint"));
  CHECK(json::parse(as(server, viewer, "GET", "/health", "")->body)
            .as_object()
            .contains("components"));
  CHECK(http_request(server.http_port(), "GET", "/metrics")->status == 200);
  // Both can be closed: then a token (or a session) with the read scope is needed.
  {
    ServerOptions closed;
    closed.http_yaml = "  auth: {public_health: false, public_metrics: false}\n";
    TocsinServer guarded(closed);  // started: its own readiness probe carries the tests' token
    guarded.add_user("vera", "viewer", "correct horse battery");
    guarded.start();
    for (const char* path : {"/health", "/metrics"}) {
      CHECK(code_of(http_request(guarded.http_port(), "GET", path)) == "unauthenticated");
      CHECK(guarded.get(path)->status == 200);
      CHECK(as(guarded, login(guarded, "vera", "correct horse battery"), "GET", path, "")->status ==
            200);
    }
  }
  // The session survives a restart; after logout it is gone.
  REQUIRE(server.terminate() == 0);
  server.start();
  auto me = as(server, operator_, "GET", "/api/v1/session", "");
  REQUIRE(me->status == 200);
  CHECK(json::parse(me->body).at("role") == "operator");
  CHECK(as(server, operator_, "POST", "/api/v1/logout", "")->status == 200);
  CHECK(as(server, operator_, "GET", "/api/v1/session", "")->status == 401);
}

TEST_CASE("logins are rate limited, and the console feed needs a session", "[auth]") {
  TocsinServer server;
  server.add_user("mgagnon", "operator", "correct horse battery");
  server.start();
  auto attempt = [&](const std::string& password) {
    return http_request(server.http_port(), "POST", "/api/v1/login",
                        json::serialize(json::object{{"user", "mgagnon"}, {"password", password}}));
  };
  for (int i = 0; i < 5; ++i) CHECK(attempt("wrong password " + std::to_string(i))->status == 401);
  auto limited = attempt("correct horse battery");  // even the right one, for now
  REQUIRE(limited);
  CHECK(limited->status == 429);
  CHECK(std::stoi(limited->headers.at("retry-after")) > 0);
  CHECK(query_integer(server.database(), "SELECT count(*) FROM sessions") == 0);

  auto upgrade = http_request(server.http_port(), "GET", "/ws/console?person=mgagnon", "", "",
                              {{"Upgrade", "websocket"},
                               {"Connection", "Upgrade"},
                               {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
                               {"Sec-WebSocket-Version", "13"}});
  REQUIRE(upgrade);
  CHECK(upgrade->status == 401);
}

TEST_CASE("signing out ends the session its cookie names whatever other cookies come first",
          "[auth]") {
  TocsinServer server;
  server.add_user("mgagnon", "operator", "correct horse battery");
  server.start();
  Session who = sign_in(server, "mgagnon", "correct horse battery");
  Session decoy = who;  // another site's cookie whose name ends like ours, sent first
  decoy.cookie = "x_tocsin_session=" + std::string(64, '0') + "; " + who.cookie;
  auto out = as(server, decoy, "POST", "/api/v1/logout", "{}");
  REQUIRE(out);
  CHECK(out->status == 200);
  CHECK(code_of(as(server, who, "GET", "/api/v1/session", "")) == "unauthenticated");
}

TEST_CASE("a token opens only the console of the person it is bound to", "[auth][abuse]") {
  TocsinServer server(with_staff());  // tokens are bound to people of its directory
  server.start();
  auto token_with = [&](const char* name, const char* scopes, const char* person = nullptr) {
    auto made = server.post("/api/v1/tokens",
                            std::string(R"({"name":")") + name + R"(","scopes":)" + scopes +
                                (person ? std::string(R"(,"for":")") + person + "\"" : "") + "}");
    REQUIRE(made);
    REQUIRE(made->status == 201);
    return std::string(json::parse(made->body).at("token").as_string());
  };
  // One console session through Debian's python3-websockets, as a wall screen would open it.
  TempDir out_dir;
  auto open = [&](const std::string& token, const std::string& name,
                  const std::string& person = "mgagnon") {
    auto out = out_dir.path() / name;
    Process client(
        {"/usr/bin/python3", TOCSIN_SOURCE_DIR "/tests/support/ws_watch.py", "--url",
         "ws://127.0.0.1:" + std::to_string(server.http_port()) + "/ws/console?person=" + person,
         "--timeout", "1"},
        out.string(), {{"TOCSIN_TOKEN", token}});
    REQUIRE(client.wait(30s));
    return read_file(out);
  };
  auto reader = open(token_with("wallboard", R"(["read"])"), "reader.out");
  INFO(reader);
  CHECK(reader.find("403") != std::string::npos);
  CHECK(reader.find("ready") == std::string::npos);
  // Even one that operates: a token bound to nobody is nobody's console.
  auto operating = open(token_with("duty-phone", R"(["read","operate"])"), "operating.out");
  INFO(operating);
  CHECK(operating.find("403") != std::string::npos);
  CHECK(operating.find("ready") == std::string::npos);
  // Bound to mgagnon, it opens hers (and only hers: ?person=jtremblay is refused).
  const std::string hers = token_with("mgagnon-screen", R"(["read"])", "mgagnon");
  auto bound = open(hers, "bound.out");
  INFO(bound);
  CHECK(bound.find("ready") != std::string::npos);
  auto other = open(hers, "other.out", "jtremblay");
  INFO(other);
  CHECK(other.find("403") != std::string::npos);
  CHECK(other.find("ready") == std::string::npos);
}

TEST_CASE("a token is never a person: bound to one it acts as them, else as itself",
          "[auth][abuse]") {
  TocsinServer server(with_staff());  // tokens are bound to people of its directory
  server.start();
  // The CLI binds a token to a person of the staff directory, and says so; nobody else.
  auto bound = run_command({TOCSIN_BINARY, "token", "add", "duty-phone", "--scope", "read,operate",
                            "--for", "mgagnon", "--config", server.config_file()},
                           20s);
  INFO(bound.output);
  REQUIRE(bound.exit_code == 0);
  CHECK(bound.output.find("acting for mgagnon") != std::string::npos);
  std::string value;
  std::istringstream lines(bound.output);
  for (std::string line; std::getline(lines, line);)
    if (line.size() == 64) value = line;
  auto stranger = run_command({TOCSIN_BINARY, "token", "add", "x", "--scope", "read", "--for",
                               "nobody", "--config", server.config_file()},
                              20s);
  CHECK(stranger.exit_code == 1);
  CHECK(stranger.output.find("--for: 'nobody' is not in the staff directory") != std::string::npos);
  auto listed =
      run_command({TOCSIN_BINARY, "token", "list", "--config", server.config_file()}, 20s);
  INFO(listed.output);
  CHECK(listed.output.find("duty-phone  [\"operate\",\"read\"]  for mgagnon") != std::string::npos);

  auto report = server.post(
      "/api/v1/incidents", R"({"source":"gauge-1","type":"flood.water_level","severity":"minor"})");
  REQUIRE(report);
  std::string id(json::parse(report->body).at("id").as_string());
  // Bound: its acknowledgement is mgagnon's, through it; it cannot name someone else.
  CHECK(server.as_token(value, "POST", "/api/v1/incidents/" + id + "/ack", R"({"by":"jtremblay"})")
            ->status == 403);
  REQUIRE(server.as_token(value, "POST", "/api/v1/incidents/" + id + "/ack", "{}")->status == 200);
  CHECK(*query_strings(server.database(), "SELECT acknowledged_by FROM incidents").begin() ==
        "mgagnon");
  auto audit = json::parse(server.get("/api/v1/audit?limit=1000")->body).at("entries");
  bool seen = false;
  for (const auto& e : audit.as_array())
    if (e.at("action") == "incident.ack")
      seen = e.at("actor") == "token:duty-phone" && e.at("detail").at("for") == "mgagnon";
  CHECK(seen);
  // Unbound (the tests' token): it acts as itself, and composing a public alert is a person's.
  auto composed = server.post("/api/v1/incidents/" + id + "/compose",
                              R"({"template":"flood-public","channels":["websocket"],)"
                              R"("audience":{"residents":true},"zones":["riverside"],)"
                              R"("expires":"1h","confirm":"LIVE"})");
  REQUIRE(composed);
  CHECK(composed->status == 403);
  CHECK(json::parse(composed->body).at("error").at("reason") == "person_required");
  CHECK(query_integer(server.database(), "SELECT count(*) FROM playbook_runs") == 0);
}

TEST_CASE("tokens are scoped, listed without their value, and revocable", "[auth]") {
  TocsinServer server;
  server.start();
  // A token that ingests names the sources it may report as, like a CURVE sensor.
  auto unnamed = server.post("/api/v1/tokens", R"({"name":"gauges","scopes":["ingest"]})");
  CHECK(unnamed->status == 400);
  CHECK(json::parse(unnamed->body).at("error").at("field") == "sources");
  auto made = server.post("/api/v1/tokens",
                          R"({"name":"gauges","scopes":["ingest"],"sources":["gauge-*"]})");
  REQUIRE(made);
  REQUIRE(made->status == 201);
  auto body = json::parse(made->body);
  std::string token(body.at("token").as_string()), id(body.at("id").as_string());
  auto with = [&](const std::string& method, const std::string& target, const std::string& b) {
    return http_request(server.http_port(), method, target, b, "application/json",
                        {{"Authorization", "Bearer " + token}});
  };
  auto report = R"({"source":"gauge-1","type":"flood.water_level","severity":"minor"})";
  CHECK(with("POST", "/api/v1/incidents", report)->status == 201);
  // Not as another source: it cannot make or update another system's incidents.
  auto other = with("POST", "/api/v1/incidents",
                    R"({"source":"chem-panel-3","type":"chem.chlorine","severity":"extreme"})");
  CHECK(other->status == 403);
  CHECK(json::parse(other->body).at("error").at("field") == "source");
  CHECK(with("POST", "/api/v1/sources/chem-panel-3/heartbeat", "{}")->status == 403);
  CHECK(query_integer(server.database(), "SELECT count(*) FROM incidents") == 1);
  CHECK(with("GET", "/api/v1/incidents", "")->status == 403);  // ingest only
  auto list = server.get("/api/v1/tokens");
  REQUIRE(list);
  CHECK(list->body.find(token) == std::string::npos);  // never shown again
  CHECK(list->body.find("\"gauges\"") != std::string::npos);
  REQUIRE(server.post("/api/v1/tokens/" + id + "/revoke", "")->status == 200);
  CHECK(with("POST", "/api/v1/incidents", report)->status == 401);
  // Created and revoked, by whom: in the audit trail.
  auto audit = server.get("/api/v1/audit")->body;
  CHECK(audit.find("token.revoke") != std::string::npos);
}

TEST_CASE("a token revoked from the CLI beside the running server stops working", "[auth]") {
  TocsinServer server;
  server.start();
  auto made = server.post("/api/v1/tokens", R"({"name":"reader","scopes":["read"]})");
  REQUIRE(made);
  auto body = json::parse(made->body);
  std::string token(body.at("token").as_string()), id(body.at("id").as_string());
  auto read = [&] {
    return http_request(server.http_port(), "GET", "/api/v1/incidents", "", "application/json",
                        {{"Authorization", "Bearer " + token}})
        ->status;
  };
  CHECK(read() == 200);
  auto r =
      run_command({TOCSIN_BINARY, "token", "revoke", id, "--config", server.config_file()}, 20s);
  REQUIRE(r.exit_code == 0);
  CHECK(wait_until([&] { return read() == 401; }, 20s));
}

TEST_CASE("a user disabled from the CLI is signed out and cannot sign in again", "[auth]") {
  TocsinServer server;
  server.add_user("mgagnon", "operator", "correct horse battery");
  server.start();
  Session who = login(server, "mgagnon", "correct horse battery");
  auto session = [&] { return as(server, who, "GET", "/api/v1/session", "")->status; };
  CHECK(session() == 200);
  auto r = run_command(
      {TOCSIN_BINARY, "user", "disable", "mgagnon", "--config", server.config_file()}, 20s);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(wait_until([&] { return session() == 401; }, 20s));
  auto again = http_request(server.http_port(), "POST", "/api/v1/login",
                            R"({"user":"mgagnon","password":"correct horse battery"})");
  REQUIRE(again);
  CHECK(again->status == 401);
  CHECK(server.get("/api/v1/audit")->body.find("\"user.disable\"") != std::string::npos);
  // Once is enough.
  CHECK(run_command({TOCSIN_BINARY, "user", "disable", "mgagnon", "--config", server.config_file()},
                    20s)
            .exit_code == 1);
}

TEST_CASE("a token bound to nobody cannot act for whoever it names", "[auth][abuse]") {
  TocsinServer server;
  server.start();
  auto made = server.post("/api/v1/tokens", R"({"name":"ivr","scopes":["operate"]})");
  REQUIRE(made);
  REQUIRE(made->status == 201);
  std::string token(json::parse(made->body).at("token").as_string());
  auto created = server.post("/api/v1/incidents", R"({"source":"gauge-1","type":"flood.level",)"
                                                  R"("severity":"minor"})");
  REQUIRE(created->status == 201);
  std::string id(json::parse(created->body).at("id").as_string());

  // A phone line's token once acknowledged "for" anyone it named; now it acts as itself only.
  auto ack =
      server.as_token(token, "POST", "/api/v1/incidents/" + id + "/ack", R"({"by":"jtremblay"})");
  REQUIRE(ack);
  CHECK(ack->status == 403);
  CHECK(json::parse(ack->body).at("error").at("reason") == "token_not_bound");
  auto incident = json::parse(server.get("/api/v1/incidents/" + id)->body);
  CHECK(incident.as_object().if_contains("acknowledged_by") == nullptr);
  // As itself, its acknowledgement is the machine's, and the audit trail says so.
  REQUIRE(server.as_token(token, "POST", "/api/v1/incidents/" + id + "/ack", "{}")->status == 200);
  incident = json::parse(server.get("/api/v1/incidents/" + id)->body);
  CHECK(incident.at("acknowledged_by") == "token:ivr");
  auto entries = json::parse(server.get("/api/v1/audit?after=0&limit=100")->body).at("entries");
  const json::object* row = nullptr;
  for (const auto& e : entries.as_array())
    if (e.at("action") == "incident.ack" && e.at("subject").as_string() == id) row = &e.as_object();
  REQUIRE(row);
  CHECK(row->at("actor") == "token:ivr");
  CHECK(row->at("detail").as_object().if_contains("for") == nullptr);
}

TEST_CASE("behind a proxy, only the configured public origin changes anything or opens a console",
          "[auth][abuse]") {
  ServerOptions options = with_staff();
  options.http_yaml = "  public_origin: https://alertes.ville.example\n";
  TocsinServer server(options);
  server.add_user("mgagnon", "operator", "correct horse battery");
  server.start();
  Session who = sign_in(server, "mgagnon", "correct horse battery");
  auto created = server.post("/api/v1/incidents", R"({"source":"gauge-1","type":"flood.level",)"
                                                  R"("severity":"minor"})");
  std::string id(json::parse(created->body).at("id").as_string());
  // The request's own Host is no proof: behind a proxy, any page could name it.
  std::string here = "http://127.0.0.1:" + std::to_string(server.http_port());
  auto own_host = as(server, who, "POST", "/api/v1/incidents/" + id + "/ack", "{}", true, here);
  CHECK(own_host->status == 403);
  CHECK(code_of(own_host) == "cross_origin");
  auto ok = as(server, who, "POST", "/api/v1/incidents/" + id + "/ack", "{}", true,
               "https://alertes.ville.example");
  CHECK(ok->status == 200);
  // A console upgrade from another site's page is refused; from the console's, it opens.
  const std::string screen = server.token_for("mgagnon", R"(["read"])");
  TempDir out_dir;
  auto open = [&](const std::string& origin, const std::string& name) {
    auto out = out_dir.path() / name;
    Process client({"/usr/bin/python3", TOCSIN_SOURCE_DIR "/tests/support/ws_watch.py", "--url",
                    "ws://127.0.0.1:" + std::to_string(server.http_port()) + "/ws/console",
                    "--timeout", "1", "--origin", origin},
                   out.string(), {{"TOCSIN_TOKEN", screen}});
    REQUIRE(client.wait(30s));
    return read_file(out);
  };
  auto evil = open("https://evil.example", "evil.out");
  INFO(evil);
  CHECK(evil.find("403") != std::string::npos);
  CHECK(evil.find("ready") == std::string::npos);
  auto console = open("https://alertes.ville.example", "console.out");
  INFO(console);
  CHECK(console.find("ready") != std::string::npos);
  // An origin with a path is not one: the configuration says so, naming the key.
  TocsinServer bad([] {
    ServerOptions o;
    o.http_yaml = "  public_origin: https://alertes.ville.example/console\n";
    return o;
  }());
  auto check = run_command({TOCSIN_BINARY, "check-config", bad.config_file()}, 10s);
  CHECK(check.exit_code != 0);
  CHECK(check.output.find("http.public_origin: 'https://alertes.ville.example/console' is not an "
                          "origin") != std::string::npos);
}
