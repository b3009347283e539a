// Maintenance windows: a window keeps playbooks off the incidents it matches, the journal keeps
// them all the same, and every window is audited in a hash chain that `tocsin audit verify`
// checks.

#include <catch2/catch.hpp>

#include <sqlite3.h>

#include <boost/json.hpp>

#include "tests/support/sensor_client.hpp"
#include "tests/support/tocsin_server.hpp"
#include "tests/support/wait.hpp"

using namespace tocsin::test;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

ServerOptions with_shipped_playbooks() {
  ServerOptions o;
  o.playbooks_dir = TOCSIN_SOURCE_DIR "/config/playbooks";
  o.extra_yaml = "silences:\n  max_window: 1d\n";
  return o;
}

std::string flood(const std::string& source, const std::string& key, double level = 4.4) {
  return json::serialize(json::object{{"source", source},
                                      {"type", "flood.water_level"},
                                      {"severity", "severe"},
                                      {"headline", "Crue"},
                                      {"dedup_key", key},
                                      {"location", json::object{{"zone", "riverside"}}},
                                      {"attributes", json::object{{"level_m", level}}}});
}

json::object error_of(const std::optional<HttpResponse>& r) {
  REQUIRE(r);
  return json::parse(r->body).at("error").as_object();
}

long long runs_of(const TocsinServer& s, const std::string& incident) {
  REQUIRE(s.settled());  // its report's playbooks have run
  return query_integer(s.database(),
                       "SELECT count(*) FROM playbook_runs WHERE incident_id = '" + incident + "'");
}

void exec(const std::string& database, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(database.c_str(), &db) == SQLITE_OK);
  REQUIRE(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);
}

}  // namespace

TEST_CASE("a window without an end, too long, or matching everything is refused", "[silences]") {
  TocsinServer server(with_shipped_playbooks());
  server.start();
  auto refused = [&](const json::object& body) {
    auto r = server.post("/api/v1/silences", json::serialize(body));
    REQUIRE(r);
    CHECK(r->status == 400);
    return error_of(r);
  };
  auto e = refused({{"source", "gauge-*"}, {"reason", "calibration"}});
  CHECK(e.at("field") == "ends_at");
  CHECK(std::string(e.at("message").as_string()).find("without an end is refused") !=
        std::string::npos);
  e = refused({{"source", "gauge-*"}, {"duration", "3d"}, {"reason", "calibration"}});
  CHECK(e.at("field") == "duration");
  CHECK(std::string(e.at("message").as_string()).find("max_window (1d)") != std::string::npos);
  e = refused({{"duration", "1h"}, {"reason", "calibration"}});
  CHECK(e.at("field") == "source");
  e = refused({{"zone", "atlantis"}, {"duration", "1h"}, {"reason", "x"}});
  CHECK(e.at("field") == "zone");
  e = refused({{"source", "gauge-*"}, {"duration", "1h"}});
  CHECK(e.at("field") == "reason");
  e = refused({{"source", "gauge-*"}, {"ends_at", "2020-01-01T00:00:00Z"}, {"reason", "x"}});
  CHECK(e.at("field") == "ends_at");

  // The CLI gives the same refusals (through the API, with a token).
  const std::vector<std::pair<std::string, std::string>> token{{"TOCSIN_TOKEN", server.token()}};
  const std::string url = "http://127.0.0.1:" + std::to_string(server.http_port());
  auto cli = run_command_env({TOCSIN_BINARY, "silence", "add", "--server", url, "--source",
                              "gauge-*", "--reason", "calibration"},
                             token, 10s);
  CHECK(cli.exit_code == 1);
  CHECK(cli.output.find("ends_at: required") != std::string::npos);
  cli = run_command_env({TOCSIN_BINARY, "silence", "add", "--server", url, "--source", "gauge-*",
                         "--for", "2d", "--reason", "calibration"},
                        token, 10s);
  CHECK(cli.exit_code == 1);
  CHECK(cli.output.find("longer than max_window") != std::string::npos);
  CHECK(query_integer(server.database(), "SELECT count(*) FROM silences") == 0);
}

TEST_CASE("a window suppresses runs but keeps the journal, and is audited", "[silences]") {
  TocsinServer server(with_shipped_playbooks());
  server.start();

  auto created = server.post("/api/v1/silences",
                             json::serialize(json::object{{"source", "gauge-rdp-*"},
                                                          {"zone", "riverside"},
                                                          {"duration", "2h"},
                                                          {"reason", "gauge calibration"}}));
  REQUIRE(created);
  REQUIRE(created->status == 201);
  std::string window = std::string(json::parse(created->body).at("id").as_string());
  CHECK(json::parse(created->body).at("state") == "open");

  // A gauge under maintenance: journaled, no run.
  auto quiet = server.post("/api/v1/incidents", flood("gauge-rdp-3", "rdp-3"));
  REQUIRE(quiet);
  REQUIRE(quiet->status == 201);
  auto quiet_body = json::parse(quiet->body);
  CHECK(quiet_body.at("silenced_by").as_string() == window);
  std::string quiet_id = std::string(quiet_body.at("id").as_string());
  CHECK(runs_of(server, quiet_id) == 0);
  CHECK(query_strings(server.database(),
                      "SELECT kind FROM incident_events WHERE incident_id = '" + quiet_id + "'") ==
        std::set<std::string>{"created", "silenced"});
  auto shown = json::parse(server.get("/api/v1/incidents/" + quiet_id)->body);
  CHECK(shown.at("silenced_by").as_string() == window);

  // Another source, same zone: its playbook runs as usual.
  auto loud = server.post("/api/v1/incidents", flood("gauge-old-port-1", "op-1"));
  REQUIRE(loud);
  std::string loud_id = std::string(json::parse(loud->body).at("id").as_string());
  CHECK(runs_of(server, loud_id) == 1);

  auto list = json::parse(server.get("/api/v1/silences")->body).at("silences").as_array();
  REQUIRE(list.size() == 1);
  CHECK(list[0].at("reason") == "gauge calibration");

  // Ended early from the CLI, with jtremblay's token: the still-rising gauge's next report runs
  // its playbook.
  auto ended = run_command_env({TOCSIN_BINARY, "silence", "expire", window, "--server",
                                "http://127.0.0.1:" + std::to_string(server.http_port())},
                               {{"TOCSIN_TOKEN", server.token_for("jtremblay")}}, 10s);
  INFO(ended.output);
  REQUIRE(ended.exit_code == 0);
  CHECK(ended.output.find("expired") != std::string::npos);
  auto again = server.post("/api/v1/incidents", flood("gauge-rdp-3", "rdp-3", 4.6));
  REQUIRE(again);
  CHECK(json::parse(again->body).as_object().if_contains("silenced_by") == nullptr);
  CHECK(runs_of(server, quiet_id) == 1);
  CHECK(server.post("/api/v1/silences/" + window + "/expire", "{}")->status == 409);

  // The audit trail (after the tests' own token): both changes, who and when, in a chain that
  // verifies…
  // (the machines' rows too: the reports, the runs' steps, the silenced incident).
  auto all = json::parse(server.get("/api/v1/audit?after=1&limit=1000")->body).at("entries");
  json::array audit;
  bool machine_silenced = false;
  for (const auto& e : all.as_array()) {
    if (e.at("action").as_string().starts_with("silence.")) audit.push_back(e);
    if (e.at("action") == "incident.silenced" && e.at("subject").as_string() == quiet_id)
      machine_silenced = true;
  }
  CHECK(machine_silenced);
  REQUIRE(audit.size() == 2);
  CHECK(audit[0].at("action") == "silence.create");
  CHECK(audit[0].at("actor") == "token:tests");  // a token bound to nobody acts as itself
  CHECK(audit[1].at("action") == "silence.expire");
  CHECK(audit[1].at("actor") == "jtremblay");
  auto ok = run_command({TOCSIN_BINARY, "audit", "verify", "--config", server.config_file()}, 10s);
  CHECK(ok.exit_code == 0);
  // Every row read above (and the token's), and any the dispatcher appended since.
  auto at = ok.output.find("audit chain ok: ");
  REQUIRE(at != std::string::npos);
  CHECK(std::stoul(ok.output.substr(at + 16)) >= all.as_array().size() + 1);

  // …and an edited row breaks it.
  exec(server.database(), "UPDATE audit SET actor = 'mallory' WHERE seq = 1");
  auto bad = run_command({TOCSIN_BINARY, "audit", "verify", "--config", server.config_file()}, 10s);
  CHECK(bad.exit_code == 1);
  CHECK(bad.output.find("row 1 was changed") != std::string::npos);
}
