// On call: a page to a schedule reaches the person on call and not the others with the role; an
// override made through the API (or `tocsin oncall override`) moves the page, is audited, holds
// across a restart and ends when cancelled.

#include <catch2/catch.hpp>

#include <ctime>
#include <fstream>
#include <set>

#include <boost/json.hpp>

#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/tocsin_server.hpp"
#include "tests/support/wait.hpp"

using namespace tocsin::test;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

// Now plus `offset`, as RFC 3339 in UTC.
std::string utc_in(std::chrono::seconds offset) {
  std::time_t t = std::time(nullptr) + offset.count();
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

// The SMS numbers written to the outbox for the incident `id` (config/people.yaml: Marie Gagnon
// +15145550101, Jean Tremblay +15145550102, both duty officers).
std::set<std::string> sms_to(const TocsinServer& server, const std::string& id) {
  std::set<std::string> out;
  for (const auto& line : server.outbox("sms")) {
    auto v = json::parse(line);
    const auto& o = v.as_object();
    if (o.at("incident").as_string() == id) out.insert(std::string(o.at("to").as_string()));
  }
  return out;
}

std::string report(const TocsinServer& server, const std::string& type) {
  auto r = server.post(
      "/api/v1/incidents",
      R"({"source":"tests","type":")" + type +
          R"(","severity":"severe","headline":"A page","location":{"zone":"riverside"}})");
  REQUIRE(r);
  REQUIRE(r->status == 201);
  auto v = json::parse(r->body);
  return std::string(v.at("id").as_string());
}

Completed cli(const TocsinServer& server, std::vector<std::string> args) {
  std::vector<std::string> argv{TOCSIN_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back("--server");
  argv.push_back("http://127.0.0.1:" + std::to_string(server.http_port()));
  return run_command_env(argv, {{"TOCSIN_TOKEN", server.token()}}, 20s);
}

}  // namespace

TEST_CASE("a page to the duty schedule reaches the one on call, and an override moves it",
          "[oncall]") {
  TempDir dir;
  std::filesystem::create_directories(dir.path() / "playbooks");
  std::ofstream(dir.path() / "playbooks" / "page.yaml") << R"(id: page-duty
match:
  type: test.*
steps:
  - notify: { audience: { on_call: [duty] }, channels: [sms], template: flood-staff }
)";
  // Marie's week began an hour ago (an RFC 3339 start: the test need not know the offset).
  const std::string started = utc_in(-1h);
  std::ofstream(dir.path() / "schedules.yaml")
      << "schedules:\n  - id: duty\n    name: Duty\n"
         "    rotations:\n      - { id: week, shift: "
         "weekly, start: \""
      << started << "\", participants: [mgagnon, jtremblay] }\n";
  ServerOptions options;
  options.playbooks_dir = (dir.path() / "playbooks").string();
  options.schedules_file = (dir.path() / "schedules.yaml").string();
  options.extra_yaml = "city:\n  time_zone: America/Montreal\n";
  TocsinServer server(options);
  server.start();

  // Only Marie, though Jean is a duty officer too.
  auto first = report(server, "test.first");
  REQUIRE(wait_until([&] { return !sms_to(server, first).empty(); }, 15s));
  REQUIRE(server.settled());
  CHECK(sms_to(server, first) == std::set<std::string>{"+15145550101"});
  auto who = server.get("/api/v1/schedules/duty/on-call");
  REQUIRE(who);
  REQUIRE(who->status == 200);
  auto now_on = json::parse(who->body);
  CHECK(now_on.at("on_call").at(0).at("id") == "mgagnon");
  CHECK(now_on.at("on_call").at(0).at("name") == "Marie Gagnon");
  CHECK(who->body.find("+1514") == std::string::npos);  // names, never numbers
  const std::string local(now_on.at("at_local").as_string());
  CHECK((local.find(" EST") != std::string::npos || local.find(" EDT") != std::string::npos));

  // Refusals name the field; nothing is stored.
  auto refused = [&](const std::string& body, const std::string& field) {
    auto r = server.post("/api/v1/schedules/duty/overrides", body);
    REQUIRE(r);
    CHECK(r->status == 400);
    INFO(r->body);
    auto e = json::parse(r->body);
    CHECK(e.at("error").at("field").as_string() == field);
  };
  refused(R"({"person":"nobody","to":"2099-01-01T00:00"})", "person");
  refused(R"({"person":"jtremblay"})", "to");
  refused(R"({"person":"jtremblay","from":"2099-01-02T00:00","to":"2099-01-01T00:00"})", "to");
  refused(R"({"person":"jtremblay","to":"tomorrow"})", "to");
  refused(R"({"person":"jtremblay","instead_of":"jtremblay","to":"2099-01-01T00:00"})",
          "instead_of");
  refused(R"({"person":"jtremblay","to":"2099-01-01T00:00","colour":"red"})", "colour");
  auto nowhere = server.post("/api/v1/schedules/nights/overrides", R"({"person":"jtremblay"})");
  REQUIRE(nowhere);
  CHECK(nowhere->status == 404);

  // Jean covers for Marie for the next two hours, from the command line.
  const std::string until = utc_in(2h);
  auto made =
      cli(server, {"oncall", "override", "duty", "--person", "jtremblay", "--instead-of", "mgagnon",
                   "--to", until, "--reason", "Marie at the hospital", "-o", "json"});
  INFO(made.output);
  REQUIRE(made.exit_code == 0);
  auto created = json::parse(made.output.substr(made.output.find('{')));
  const std::string override_id(created.at("id").as_string());
  auto whom = cli(server, {"oncall", "who", "duty"});
  CHECK(whom.exit_code == 0);
  CHECK(whom.output.find("Jean Tremblay (jtremblay)") != std::string::npos);
  auto second = report(server, "test.second");
  REQUIRE(wait_until([&] { return !sms_to(server, second).empty(); }, 15s));
  REQUIRE(server.settled());
  CHECK(sms_to(server, second) == std::set<std::string>{"+15145550102"});
  CHECK(query_integer(
            server.database(),
            "SELECT count(*) FROM audit WHERE action = 'schedule.override' AND subject = '" +
                override_id + "' AND detail LIKE '%Marie at the hospital%'") == 1);

  // The next days, span by span: Jean now, Marie after the override, Jean from next week.
  auto next = cli(server, {"oncall", "next", "duty", "--days", "14"});
  CHECK(next.exit_code == 0);
  INFO(next.output);
  const auto jean = next.output.find("Jean Tremblay (jtremblay)");
  const auto marie = next.output.find("Marie Gagnon (mgagnon)");
  CHECK(jean != std::string::npos);
  CHECK(marie != std::string::npos);
  CHECK(jean < marie);

  // Kept across a restart.
  server.terminate();
  server.start();
  auto after = cli(server, {"oncall", "who", "duty", "-o", "json"});
  auto kept = json::parse(after.output);
  CHECK(kept.at("on_call").at(0).at("id") == "jtremblay");

  // Cancelled: Marie again, and a second cancel is a conflict (exit 1).
  auto cancel = cli(server, {"oncall", "cancel", "duty", override_id});
  CHECK(cancel.exit_code == 0);
  auto again = cli(server, {"oncall", "cancel", "duty", override_id});
  CHECK(again.exit_code == 1);
  auto back = server.get("/api/v1/schedules/duty/on-call");
  REQUIRE(back);
  auto restored = json::parse(back->body);
  CHECK(restored.at("on_call").at(0).at("id") == "mgagnon");
  auto third = report(server, "test.third");
  REQUIRE(wait_until([&] { return !sms_to(server, third).empty(); }, 15s));
  REQUIRE(server.settled());
  CHECK(sms_to(server, third) == std::set<std::string>{"+15145550101"});
  CHECK(query_integer(server.database(),
                      "SELECT count(*) FROM audit WHERE action = 'schedule.override.cancel'") == 1);

  // Who at a time the city's clock names twice: its first 01:30 (EDT).
  auto dst = server.get("/api/v1/schedules/duty/on-call?at=2026-11-01T01:30");
  REQUIRE(dst);
  auto first_0130 = json::parse(dst->body);
  CHECK(first_0130.at("at").as_string() == "2026-11-01T05:30:00.000Z");
  auto bad = server.get("/api/v1/schedules/duty/on-call?at=noon");
  REQUIRE(bad);
  CHECK(bad->status == 400);
}
