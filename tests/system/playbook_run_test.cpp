#include <catch2/catch.hpp>

#include <csignal>
#include <fstream>
#include <thread>

#include <boost/json.hpp>

#include "tests/support/redis_server.hpp"
#include "tests/support/sensor_client.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/tocsin_server.hpp"
#include "tests/support/wait.hpp"

using namespace tocsin::test;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

// A playbook directory for one test.
struct Playbooks {
  TempDir dir;
  void write(const std::string& name, const std::string& yaml) {
    std::ofstream(dir.path() / name) << yaml;
  }
  std::string path() const { return dir.path().string(); }
};

ServerOptions with(const RedisServer& redis, const Playbooks& p) {
  ServerOptions o(redis.url());
  o.playbooks_dir = p.path();
  return o;
}

std::string report(const std::string& source, const std::string& type,
                   const std::string& extra = "") {
  return R"({"source":")" + source + R"(","type":")" + type +
         R"(","severity":"severe","location":{"zone":"riverside"})" + extra + "}";
}

// Both read once the reports acknowledged so far have run their playbooks.
long long count(const TocsinServer& s, const std::string& sql) {
  REQUIRE(s.settled());
  return query_integer(s.database(), sql);
}

std::string one(const TocsinServer& s, const std::string& sql) {
  REQUIRE(s.settled());
  auto rows = query_strings(s.database(), sql);
  return rows.empty() ? "" : *rows.begin();
}

}  // namespace

TEST_CASE("a run survives SIGKILL in a wait: it ends at its original due time, no step twice",
          "[playbooks][durability]") {
  RedisServer redis;
  Playbooks pb;
  pb.write("wait.yaml", R"(id: wait-test
match: { type: test.wait }
steps:
  - notify: { audience: { roles: [duty-officer] }, channels: [sms], template: flood-staff }
  - wait: { for: 4s }
  - notify: { audience: { groups: [eoc-managers] }, channels: [sms], template: flood-staff-escalation }
)");
  TocsinServer server(with(redis, pb));
  server.start();
  SensorClient client(server.zmq_endpoint());
  std::string id = accepted_id(client, report("gauge-1", "test.wait"));

  REQUIRE(wait_until([&] { return one(server, "SELECT status FROM playbook_runs") == "waiting"; },
                     10s));
  long long started = count(server, "SELECT created_at FROM playbook_runs");
  long long due = count(server, "SELECT due_at FROM playbook_runs");
  CHECK(due == started + 4000);
  CHECK(count(server, "SELECT count(*) FROM alerts") == 1);

  // Killed two seconds into the four-second wait.
  auto unix_ms = [] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
  REQUIRE(wait_until([&] { return unix_ms() >= started + 2000; }, 10s));
  server.kill9();
  server.start();

  REQUIRE(wait_until([&] { return count(server, "SELECT count(*) FROM alerts") == 2; }, 15s));
  long long fired = count(server, "SELECT max(created_at) FROM alerts");
  INFO("the second notify came " << fired - started << " ms after the run started");
  CHECK(fired >= due);
  CHECK(fired < due + 1500);  // a wait restarted at the restart would end at least 2 s later
  CHECK(count(server, "SELECT count(*) FROM alerts WHERE step = 0") == 1);
  CHECK(count(server, "SELECT count(*) FROM alerts WHERE step = 2") == 1);
  CHECK(one(server, "SELECT status FROM playbook_runs") == "completed");
  auto alerts = json::parse(server.get("/api/v1/alerts?incident=" + id)->body);
  CHECK(alerts.at("alerts").as_array().size() == 2);
  CHECK(alerts.at("alerts").as_array()[0].at("status").as_string() == "dispatched");
}

TEST_CASE("an acknowledgement stops the escalation, and resolve_when resolves on an update",
          "[playbooks]") {
  RedisServer redis;
  Playbooks pb;
  pb.write("flood.yaml", R"(id: flood
match: { type: flood.* }
steps:
  - notify: { audience: { roles: [duty-officer] }, channels: [sms], template: flood-staff }
  - wait: { for: 10m, until: acknowledged }
  - when: not_acknowledged
    notify: { audience: { groups: [eoc-managers] }, channels: [sms], template: flood-staff-escalation }
  - resolve_when: { attributes: { level_m: { "<": 3.5 } } }
)");
  TocsinServer server(with(redis, pb));
  server.start();
  SensorClient client(server.zmq_endpoint());

  SECTION("acknowledged over HTTP, resolved by an update") {
    std::string id =
        accepted_id(client, report("gauge-1", "flood.level", R"(,"attributes":{"level_m":4.2})"));
    // Through a token bound to mgagnon: its actions are hers.
    auto ack = server.as_token(server.token_for("mgagnon"), "POST",
                               "/api/v1/incidents/" + id + "/ack", "{}");
    REQUIRE(ack);
    CHECK(ack->status == 200);
    CHECK(json::parse(ack->body).at("result").as_string() == "acknowledged");
    CHECK(one(server, "SELECT status FROM playbook_runs") == "watching");
    CHECK(count(server, "SELECT count(*) FROM alerts") == 1);  // no escalation
    CHECK(one(server, "SELECT acknowledged_by FROM incidents") == "mgagnon");

    // Updates feed the same run; none starts another.
    accepted_id(client, report("gauge-1", "flood.level", R"(,"attributes":{"level_m":3.9})"));
    CHECK(one(server, "SELECT state FROM incidents") == "active");
    accepted_id(client, report("gauge-1", "flood.level", R"(,"attributes":{"level_m":3.1})"));
    CHECK(one(server, "SELECT state FROM incidents") == "resolved");
    CHECK(one(server, "SELECT status FROM playbook_runs") == "completed");
    CHECK(count(server, "SELECT count(*) FROM playbook_runs") == 1);
    auto events = json::parse(server.get("/api/v1/incidents/" + id)->body).at("events").as_array();
    CHECK(events.back().at("kind").as_string() == "resolved");
    CHECK(events.back().at("actor").as_string() == "playbook");
    auto again = server.request("POST", "/api/v1/incidents/" + id + "/resolve", "{}");
    REQUIRE(again);
    CHECK(again->status == 409);
  }

  SECTION("acknowledged and cancelled over ZeroMQ") {
    std::string id =
        accepted_id(client, report("gauge-2", "flood.level", R"(,"attributes":{"level_m":4.2})"));
    client.send(
        {"a1", "ack", R"({"incident":")" + id + R"(","by":"jtremblay","note":"on my way"})"});
    auto ack = client.receive(10s);
    REQUIRE(ack);
    CHECK(*ack == std::vector<std::string>{"a1", "ok", id, "acknowledged"});
    CHECK(count(server, "SELECT count(*) FROM alerts") == 1);

    client.send({"a2", "cancel", R"({"incident":")" + id + R"(","by":"jtremblay"})"});
    auto cancel = client.receive(10s);
    REQUIRE(cancel);
    CHECK(*cancel == std::vector<std::string>{"a2", "ok", id, "cancelled"});
    CHECK(one(server, "SELECT status FROM playbook_runs") == "cancelled");

    client.send({"a3", "ack", R"({"incident":"01ARZ3NDEKTSV4RRFFQ69G5FAV","by":"x"})"});
    auto missing = client.receive(10s);
    REQUIRE(missing);
    CHECK((*missing)[1] == "error");
    CHECK((*missing)[2] == "not_found");
    client.send({"a4", "ack", R"({"incident":")" + id + R"("})"});
    auto no_by = client.receive(10s);
    REQUIRE(no_by);
    CHECK((*no_by)[2] == "missing_field");
    CHECK((*no_by)[3] == "by: is required");
  }
}

TEST_CASE("a public alert waits for two people's approval", "[playbooks][approval]") {
  RedisServer redis;
  Playbooks pb;
  pb.write("public.yaml", R"(id: public-flood
match: { type: flood.* }
steps:
  - require_approval: { role: approver, count: 2, distinct_from_initiator: true, timeout: 15m }
  - notify: { audience: { residents: { area: incident } }, channels: [sms, websocket], template: flood-public, public: true, expires: 6h }
)");
  TocsinServer server(with(redis, pb));
  server.start();
  SensorClient client(server.zmq_endpoint());
  // Reported by a person who is an approver: they may not approve their own alert.
  std::string id = accepted_id(client, report("swilliams", "flood.level"));
  REQUIRE(server.settled());  // its run has opened the approval

  auto pending = json::parse(server.get("/api/v1/approvals?state=pending")->body);
  REQUIRE(pending.at("approvals").as_array().size() == 1);
  auto approval = std::string(pending.at("approvals").as_array()[0].at("id").as_string());
  CHECK(pending.at("approvals").as_array()[0].at("incident_id").as_string() == id);
  CHECK(count(server, "SELECT count(*) FROM alerts") == 0);

  // A live alert: approving it takes the typed word as well. Each vote here through a token
  // bound to its person (what a token may do, a person signed in may too).
  auto vote = [&](const std::string& by, const char* verb, const char* confirm = "LIVE") {
    auto r = server.as_token(server.token_for(by, R"(["read","approve"])"), "POST",
                             "/api/v1/approvals/" + approval + "/" + verb,
                             std::string(R"({"confirm":")") + confirm + R"("})");
    REQUIRE(r);
    return *r;
  };
  auto own = vote("swilliams", "approve");
  CHECK(own.status == 403);
  CHECK(json::parse(own.body).at("error").at("message").as_string() ==
        "swilliams initiated this incident and cannot approve their own alert");
  auto no_role = vote("jtremblay", "approve");
  CHECK(no_role.status == 403);
  CHECK(json::parse(no_role.body).at("error").at("message").as_string() ==
        "jtremblay does not have the role approver");
  // Nobody outside the staff directory gets a token that acts for them.
  auto stranger =
      server.post("/api/v1/tokens", R"({"name":"x","for":"nobody","scopes":["read","approve"]})");
  CHECK(stranger->status == 400);
  CHECK(json::parse(stranger->body).at("error").at("field") == "for");
  CHECK(count(server, "SELECT count(*) FROM alerts") == 0);

  auto untyped = vote("plavoie", "approve", "live?");
  CHECK(untyped.status == 422);
  CHECK(json::parse(untyped.body).at("error").at("field").as_string() == "confirm");
  CHECK(count(server, "SELECT count(*) FROM alerts") == 0);

  // The word typed, but by a machine's token acting for plavoie: a live public alert takes the
  // person, signed in.
  auto token = vote("plavoie", "approve");
  CHECK(token.status == 403);
  CHECK(json::parse(token.body).at("error").at("reason") == "person_required");
  CHECK(count(server, "SELECT count(*) FROM alerts") == 0);

  // One person is not enough, whatever started the run: the first vote leaves it pending.
  auto first = *as_user(server, signed_in_person(server, "plavoie"), "POST",
                        "/api/v1/approvals/" + approval + "/approve", R"({"confirm":"LIVE"})");
  CHECK(first.status == 200);
  CHECK(json::parse(first.body).at("status").as_string() == "pending");
  CHECK(count(server, "SELECT count(*) FROM alerts WHERE public = 1") == 0);
  auto ok = *as_user(server, signed_in_person(server, "aroy"), "POST",
                     "/api/v1/approvals/" + approval + "/approve", R"({"confirm":"LIVE"})");
  CHECK(ok.status == 200);
  CHECK(json::parse(ok.body).at("status").as_string() == "approved");
  CHECK(count(server, "SELECT count(*) FROM alerts WHERE public = 1") == 1);
  CHECK(one(server, "SELECT status FROM approvals") == "approved");
  CHECK(query_strings(server.database(), "SELECT person FROM approval_votes") ==
        std::set<std::string>{"plavoie", "aroy"});
  CHECK(vote("mgagnon", "approve").status == 409);  // already decided
  CHECK(json::parse(server.get("/api/v1/approvals")->body).at("approvals").as_array().empty());
}

TEST_CASE("a rejected approval stops the run: nothing public goes out", "[playbooks][approval]") {
  RedisServer redis;
  Playbooks pb;
  pb.write("public.yaml", R"(id: public-flood
match: { type: flood.* }
steps:
  - require_approval: { role: approver, count: 2, timeout: 15m }
  - notify: { audience: { residents: { area: incident } }, channels: [sms], template: flood-public, public: true, expires: 6h }
)");
  TocsinServer server(with(redis, pb));
  server.start();
  SensorClient client(server.zmq_endpoint());
  accepted_id(client, report("gauge-9", "flood.level"));
  auto approval = one(server, "SELECT id FROM approvals");
  auto r = server.as_token(server.token_for("aroy", R"(["read","approve"])"), "POST",
                           "/api/v1/approvals/" + approval + "/reject", "{}");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(json::parse(r->body).at("status").as_string() == "rejected");
  CHECK(one(server, "SELECT status FROM playbook_runs") == "rejected");
  CHECK(count(server, "SELECT count(*) FROM alerts") == 0);
}

TEST_CASE("a one-person release is refused at load, and break glass asks why and raises a review",
          "[playbooks][approval][abuse]") {
  RedisServer redis;
  Playbooks pb;
  const std::string one_person = R"(id: chlorine
match: { type: chem.* }
steps:
  - require_approval: { role: approver, timeout: 10m }
  - notify: { audience: { residents: { area: incident } }, channels: [websocket], template: flood-public, public: true, expires: 1h }
  - siren: { zones: [riverside], pattern: hi-lo, duration: 1m }
)";
  pb.write("chlorine.yaml", one_person);
  auto cwd = std::filesystem::current_path();
  std::filesystem::current_path(TOCSIN_SOURCE_DIR);  // the shipped config names relative paths
  auto check = run_command({TOCSIN_BINARY, "playbook", "check", pb.path()}, 20s);
  std::filesystem::current_path(cwd);
  INFO(check.output);
  CHECK(check.exit_code != 0);
  CHECK(check.output.find("chlorine.yaml:5:13: steps[1].notify: reaches the public on one "
                          "person's approval") != std::string::npos);
  CHECK(check.output.find("chlorine.yaml:6:12: steps[2].siren: reaches the public on one "
                          "person's approval") != std::string::npos);

  // Break glass: one approver may release it, but must write why, and the city reviews it.
  std::string glass = one_person;
  glass.replace(glass.find("expires: 1h }"), 13, "expires: 1h, break_glass: true }");
  glass.replace(glass.find("duration: 1m }"), 14, "duration: 1m, break_glass: true }");
  pb.write("chlorine.yaml", glass);
  TocsinServer server(with(redis, pb));
  server.start();
  SensorClient client(server.zmq_endpoint());
  std::string id = accepted_id(client, report("chem-sensor-3", "chem.chlorine"));
  REQUIRE(server.settled());
  auto listed = json::parse(server.get("/api/v1/approvals?state=pending")->body).at("approvals");
  REQUIRE(listed.as_array().size() == 1);
  CHECK(listed.as_array()[0].at("break_glass") == true);
  CHECK(listed.as_array()[0].at("required") == 1);
  const std::string target =
      "/api/v1/approvals/" + std::string(listed.as_array()[0].at("id").as_string()) + "/approve";
  Session swilliams = signed_in_person(server, "swilliams");
  auto bare = as_user(server, swilliams, "POST", target, R"({"confirm":"LIVE"})");
  REQUIRE(bare);
  CHECK(bare->status == 422);
  CHECK(json::parse(bare->body).at("error").at("reason") == "reason_required");
  CHECK(json::parse(bare->body).at("error").at("field") == "note");
  CHECK(count(server, "SELECT count(*) FROM alerts WHERE public = 1") == 0);

  const std::string reason = "Chlorine cloud drifting over the school; nobody else answers";
  auto released = as_user(server, swilliams, "POST", target,
                          R"({"confirm":"LIVE","note":")" + reason + R"("})");
  REQUIRE(released);
  INFO(released->body);
  CHECK(released->status == 200);
  CHECK(json::parse(released->body).at("status") == "approved");
  CHECK(count(server, "SELECT count(*) FROM alerts WHERE public = 1") == 2);  // notice and siren
  // The review: an incident of its own, naming who released what and why; the audit trail too.
  REQUIRE(server.settled());
  auto review = json::parse(server.get("/api/v1/incidents?state=active")->body);
  const json::object* found = nullptr;
  for (const auto& i : review.at("incidents").as_array())
    if (i.at("type") == "tocsin.break_glass_review") found = &i.as_object();
  REQUIRE(found);
  CHECK(std::string(found->at("headline").as_string()).find("swilliams") != std::string::npos);
  CHECK(found->at("attributes").at("incident").as_string() == id);
  CHECK(found->at("attributes").at("reason").as_string() == reason);
  auto audit = server.get("/api/v1/audit")->body;
  CHECK(audit.find("\"approval.break_glass\"") != std::string::npos);
  CHECK(one(server, "SELECT note FROM approval_votes") == reason);
}

TEST_CASE("a reload with a broken file keeps the running set, and a good one replaces it",
          "[playbooks][reload]") {
  RedisServer redis;
  Playbooks pb;
  const std::string first = R"(id: first
match: { type: flood.* }
steps:
  - notify: { audience: { roles: [duty-officer] }, channels: [sms], template: flood-staff }
)";
  pb.write("a.yaml", first);
  TocsinServer server(with(redis, pb));
  server.start();
  auto listed = [&] {
    std::vector<std::string> ids;
    auto body = json::parse(server.get("/api/v1/playbooks")->body);
    for (const auto& p : body.at("playbooks").as_array()) ids.emplace_back(p.at("id").as_string());
    return ids;
  };
  CHECK(listed() == std::vector<std::string>{"first"});

  for (const std::string& broken : std::vector<std::string>{
           "id: second\nmatch: { type: x }\nsteps:\n  - wait: { for: never }\n", "",
           "id: [unclosed\n", "a: &x [1]\nid: second\nmatch: { type: x }\nsteps: *x\n"}) {
    INFO(broken);
    pb.write("b.yaml", broken);
    auto r = server.request("POST", "/api/v1/playbooks/reload", "");
    REQUIRE(r);
    CHECK(r->status == 422);
    auto err = json::parse(r->body).at("error");
    CHECK(err.at("code").as_string() == "invalid_playbooks");
    CHECK(std::string(err.at("errors").as_array()[0].as_string()).rfind(pb.path() + "/b.yaml", 0) ==
          0);
    CHECK(listed() == std::vector<std::string>{"first"});
  }
  // Still serving with the old set.
  SensorClient client(server.zmq_endpoint());
  accepted_id(client, report("g", "flood.level"));
  CHECK(one(server, "SELECT playbook_id FROM playbook_runs") == "first");

  // A good file, by SIGHUP this time.
  pb.write("b.yaml", "id: second\nmatch: { type: fire.* }\nsteps:\n  - wait: { for: 1m }\n");
  server.process().signal(SIGHUP);
  CHECK(wait_until([&] { return listed() == std::vector<std::string>{"first", "second"}; }, 10s));
  accepted_id(client, report("g", "fire.alarm"));
  CHECK(wait_until(
      [&] {
        return count(server, "SELECT count(*) FROM playbook_runs WHERE playbook_id = 'second'") ==
               1;
      },
      10s));
}

TEST_CASE("invalid playbooks at start-up make the server refuse to start", "[playbooks]") {
  RedisServer redis;
  Playbooks pb;
  pb.write("bad.yaml",
           "id: bad\nmatch: { type: x }\nsteps:\n  - siren: { zones: [mars], pattern: wail, "
           "duration: 1m }\n");
  TocsinServer server(with(redis, pb));
  CHECK_THROWS(server.start());
  CHECK(server.log().find("bad.yaml:4:22: steps[0].siren.zones: unknown zone 'mars'") !=
        std::string::npos);
  CHECK(server.log().find("refusing to start with what the configuration names invalid") !=
        std::string::npos);
}

TEST_CASE("a run in progress keeps the playbook version it started with across a reload",
          "[playbooks][reload]") {
  RedisServer redis;
  Playbooks pb;
  auto version = [](const std::string& second_template) {
    return "id: versioned\nmatch: { type: flood.* }\nsteps:\n"
           "  - wait: { for: 3s }\n"
           "  - notify: { audience: { roles: [duty-officer] }, channels: [sms], template: " +
           second_template + " }\n";
  };
  pb.write("v.yaml", version("flood-staff"));
  TocsinServer server(with(redis, pb));
  server.start();
  SensorClient client(server.zmq_endpoint());
  std::string first = accepted_id(client, report("gauge-1", "flood.level"));
  std::string old_hash = one(server, "SELECT playbook_hash FROM playbook_runs");

  pb.write("v.yaml", version("flood-staff-escalation"));
  auto r = server.request("POST", "/api/v1/playbooks/reload", "");
  REQUIRE(r);
  REQUIRE(r->status == 200);
  std::string second = accepted_id(client, report("gauge-2", "flood.level"));
  CHECK(count(server, "SELECT count(DISTINCT playbook_hash) FROM playbook_runs") == 2);

  REQUIRE(wait_until([&] { return count(server, "SELECT count(*) FROM alerts") == 2; }, 15s));
  CHECK(one(server, "SELECT template FROM alerts WHERE incident_id = '" + first + "'") ==
        "flood-staff");
  CHECK(one(server, "SELECT template FROM alerts WHERE incident_id = '" + second + "'") ==
        "flood-staff-escalation");
  CHECK(one(server, "SELECT playbook_hash FROM playbook_runs WHERE incident_id = '" + first +
                        "'") == old_hash);

  // A token bound to nobody cannot say it acts for someone; actions refuse what they do not know.
  auto naming =
      server.request("POST", "/api/v1/incidents/" + first + "/ack", R"({"by":"mgagnon"})");
  REQUIRE(naming);
  CHECK(naming->status == 403);
  CHECK(json::parse(naming->body).at("error").at("reason").as_string() == "token_not_bound");
  CHECK(one(server, "SELECT count(*) FROM incidents WHERE acknowledged_at IS NOT NULL") == "0");
  auto extra = server.request("POST", "/api/v1/incidents/" + first + "/ack",
                              R"({"note":"x","urgent":true})");
  REQUIRE(extra);
  CHECK(extra->status == 400);
  CHECK(json::parse(extra->body).at("error").at("code").as_string() == "unknown_field");
}

TEST_CASE("an approval that times out escalates (a one-minute wait)",
          "[playbooks][approval][slow]") {
  RedisServer redis;
  Playbooks pb;
  pb.write("public.yaml", R"(id: public-flood
match: { type: flood.* }
steps:
  - require_approval:
      role: approver
      count: 2
      timeout: 1m
      on_timeout: escalate
      escalate_to: { groups: [eoc-managers] }
      escalate_channels: [sms]
      escalate_template: flood-staff-escalation
  - notify: { audience: { residents: { area: incident } }, channels: [sms], template: flood-public, public: true, expires: 6h }
)");
  TocsinServer server(with(redis, pb));
  server.start();
  SensorClient client(server.zmq_endpoint());
  accepted_id(client, report("gauge-3", "flood.level"));
  long long due = count(server, "SELECT due_at FROM approvals");
  REQUIRE(wait_until([&] { return count(server, "SELECT count(*) FROM alerts") == 1; }, 90s,
                     std::chrono::milliseconds(200)));
  CHECK(one(server, "SELECT kind FROM alerts") == "escalation");
  CHECK(one(server, "SELECT template FROM alerts") == "flood-staff-escalation");
  CHECK(count(server, "SELECT created_at FROM alerts") >= due);
  CHECK(one(server, "SELECT status FROM approvals") == "pending");  // still open, a minute more
  CHECK(count(server, "SELECT due_at FROM playbook_runs") == due + 60000);
  CHECK(count(server, "SELECT count(*) FROM alerts WHERE public = 1") == 0);
}
