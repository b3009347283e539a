// Residents reached by a public alert: an opt-in list imported with `tocsin resident import`
// (three residents in three zones), a riverside flood released by two people reaches only the
// riverside resident, by SMS, in their language; after STOP their number gets nothing, not even
// from the next alert; an alert of a category a resident did not choose passes them by unless it
// is a threat to life; and neither the database nor the log holds a contact in clear.

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include <boost/json.hpp>

#include "tests/support/fake_provider.hpp"
#include "tests/support/inbound_sms.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/tocsin_server.hpp"
#include "tests/support/wait.hpp"

using namespace tocsin::test;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

// Every contact the test gives a resident, as a dump would show them if they were in clear.
const std::vector<std::string> kContacts = {"5145550201",   "5145550202",           "4385550203",
                                            "514-555-0202", "bruno.roy@exemple.ca", "45.58531",
                                            "-73.6512"};

// A key for residents.key_file, made by the CLI, readable by its owner only.
std::string residents_key(const TempDir& dir) {
  auto key = run_command({TOCSIN_BINARY, "resident", "new-key"}, 10s);
  REQUIRE(key.exit_code == 0);
  const auto path = dir.path() / "residents.key";
  std::ofstream(path) << key.output;
  std::filesystem::permissions(
      path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  return path.string();
}

}  // namespace

TEST_CASE("a public alert reaches the residents of its area in their language, never after STOP",
          "[residents][sms]") {
  FakeProvider provider;
  TempDir dir;
  std::ofstream(dir.path() / "river.yaml") << R"(id: river
match: { type: test.flood }
steps:
  - require_approval: { role: approver, count: 2, timeout: 1h }
  - notify: { audience: { residents: { area: incident, category: water } }, channels: [sms], template: flood-public, public: true, expires: 6h }
)";
  ServerOptions options;
  options.playbooks_dir = dir.path().string();
  options.env = {{"TEST_SMS_TOKEN", provider.token()}};
  options.channels_yaml = provider.sms_yaml("\n    inbound_url: " + kInbound);
  options.extra_yaml = "residents:\n  key_file: " + residents_key(dir) + "\n";
  TocsinServer server(options);

  // The city's existing opt-in list: riverside (water), downtown (weather only), east end (both).
  std::ofstream(dir.path() / "list.csv")
      << "phone,email,language,lat,lon,categories,label\n"
         "514 555-0201,,fr,45.58531,-73.6512,water,maison\n"
         "514-555-0202,Bruno.Roy@exemple.ca,en,45.505,-73.57,weather,work\n"
         "(438) 555-0203,,fr,45.575,-73.53,water;weather,\n";
  auto import =
      run_command({TOCSIN_BINARY, "resident", "import", "--config", server.config_file(), "--csv",
                   (dir.path() / "list.csv").string(), "--reason", "the 2025 flood-warning list"},
                  30s);
  INFO(import.output);
  REQUIRE(import.exit_code == 0);
  CHECK(import.output.find("3 residents imported") != std::string::npos);
  auto count = run_command(
      {TOCSIN_BINARY, "resident", "count", "--zone", "riverside", "--config", server.config_file()},
      10s);
  CHECK(count.output == "1\n");
  server.start();
  const Session swilliams = signed_in_person(server, "swilliams"),
                plavoie = signed_in_person(server, "plavoie");
  // Two people release the public alert of the one approval pending.
  auto release = [&] {
    std::string id;
    REQUIRE(wait_until(
        [&] {
          auto listed = server.get("/api/v1/approvals?state=pending");
          if (!listed || listed->status != 200) return false;
          auto approvals = json::parse(listed->body).at("approvals").as_array();
          if (approvals.empty()) return false;
          id = std::string(approvals.at(0).at("id").as_string());
          return true;
        },
        30s));
    auto r = approve_by_two(server, id, swilliams, plavoie);
    REQUIRE(r);
    REQUIRE(r->status == 200);
  };

  int floods = 0;
  auto flood = [&](const std::string& zone, const std::string& severity) {
    auto r =
        server.post("/api/v1/incidents",
                    R"({"source":"tests","type":"test.flood","severity":")" + severity +
                        R"(","headline":"River rising","dedup_key":"flood-)" +
                        std::to_string(++floods) + R"(","location":{"zone":")" + zone + R"("}})");
    REQUIRE(r);
    INFO(r->body);
    REQUIRE(r->status == 201);
    return std::string(json::parse(r->body).at("id").as_string());
  };
  // The incident's public alert once the dispatcher is done with it: its SMS deliveries.
  auto sms_deliveries = [&](const std::string& incident) {
    REQUIRE(wait_until(
        [&] {
          return query_integer(server.database(),
                               "SELECT count(*) FROM alerts WHERE public = 1 AND status = "
                               "'dispatched' AND incident_id = '" +
                                   incident + "'") == 1;
        },
        30s));
    return query_integer(
        server.database(),
        "SELECT count(*) FROM deliveries WHERE channel = 'sms' AND incident_id = '" + incident +
            "'");
  };

  // A riverside flood: the riverside resident only, in French.
  const std::string first = flood("riverside", "severe");
  release();
  REQUIRE(wait_until([&] { return sent_to(provider, "+15145550201").size() == 1; }, 30s));
  CHECK(sms_deliveries(first) == 1);
  CHECK(sent_to(provider, "+15145550201")[0].find("ALERTE CRUE") != std::string::npos);
  CHECK(sent_to(provider, "+15145550202").empty());
  CHECK(sent_to(provider, "+14385550203").empty());
  // The delivery names the resident by id, and keeps no address of theirs.
  CHECK(query_integer(server.database(),
                      "SELECT count(*) FROM deliveries WHERE recipient LIKE 'resident:%' AND "
                      "address = ''") == 1);

  // STOP, as the carrier forwards it: confirmed in both languages, and audited as the resident's.
  auto stop = reply(server, provider.token(), "+15145550201", " Arrêt ");
  REQUIRE(stop);
  CHECK(stop->status == 200);
  CHECK(message_of(*stop).find("vous ne recevrez plus d'alertes") != std::string::npos);
  CHECK(query_integer(server.database(),
                      "SELECT count(*) FROM audit WHERE action = 'resident.stop'") == 1);
  // A number that is nobody's gets the same answer, and nothing changes.
  auto stranger = reply(server, provider.token(), "+15145559999", "STOP");
  REQUIRE(stranger);
  CHECK(message_of(*stranger) == message_of(*stop));
  CHECK(query_integer(server.database(),
                      "SELECT count(*) FROM audit WHERE action = 'resident.stop'") == 1);

  // The next riverside flood reaches nobody: the only resident there said STOP.
  const std::string second = flood("riverside", "severe");
  release();
  CHECK(sms_deliveries(second) == 0);
  CHECK(sent_to(provider, "+15145550201").size() == 1);

  // Downtown: Bruno chose weather, not water, so a severe flood passes him by...
  const std::string third = flood("downtown", "severe");
  release();
  CHECK(sms_deliveries(third) == 0);
  // ...but an extreme one is a threat to life, and reaches him whatever he chose, in English.
  const std::string fourth = flood("downtown", "extreme");
  release();
  REQUIRE(wait_until([&] { return sent_to(provider, "+15145550202").size() == 1; }, 30s));
  CHECK(sms_deliveries(fourth) == 1);
  CHECK(sent_to(provider, "+15145550202")[0].find("FLOOD WARNING") != std::string::npos);
  CHECK(sent_to(provider, "+14385550203").empty());

  // START again: the riverside resident is reached by the next alert.
  auto start = reply(server, provider.token(), "+15145550201", "start");
  REQUIRE(start);
  CHECK(message_of(*start).find("de nouveau") != std::string::npos);
  const std::string fifth = flood("riverside", "severe");
  release();
  REQUIRE(wait_until([&] { return sent_to(provider, "+15145550201").size() == 2; }, 30s));

  // Nothing in the database or the log is a resident's contact in clear.
  auto dump = run_command({"/usr/bin/sqlite3", server.database(), ".dump"}, 30s);
  REQUIRE(dump.exit_code == 0);
  REQUIRE(dump.output.find("CREATE TABLE resident_contacts") != std::string::npos);
  const std::string log = server.log();
  for (const auto& contact : kContacts) {
    INFO(contact);
    CHECK(dump.output.find(contact) == std::string::npos);
    CHECK(log.find(contact) == std::string::npos);
  }
  CHECK(query_integer(server.database(),
                      "SELECT count(*) FROM audit WHERE action = 'resident.import' AND detail LIKE "
                      "'%\"count\":3%'") == 1);
}

TEST_CASE("residents are refused clearly: a bad list imports nothing, a missing key stops serve",
          "[residents][cli]") {
  TempDir dir;
  ServerOptions options;
  options.playbooks_dir = std::string(TOCSIN_SOURCE_DIR) + "/config/playbooks";
  options.extra_yaml = "residents:\n  key_file: " + residents_key(dir) + "\n";
  TocsinServer server(options);
  std::ofstream(dir.path() / "bad.csv") << "phone,language,lat,lon\n"
                                           "514 555-0301,fr,45.585,-73.65\n"
                                           "+33 6 12 34 56 78,fr,45.585,-73.65\n"
                                           "514 555-0303,fr,48.0,-70.0\n"
                                           "514 555-0301,en,45.505,-73.57\n";
  auto bad = run_command({TOCSIN_BINARY, "resident", "import", "--config", server.config_file(),
                          "--csv", (dir.path() / "bad.csv").string(), "--reason", "test"},
                         30s);
  INFO(bad.output);
  CHECK(bad.exit_code == 1);
  const std::string file = (dir.path() / "bad.csv").string();
  CHECK(bad.output.find(file +
                        ":3: phone: a number of FR; this city sends text messages to numbers of "
                        "CA only") != std::string::npos);
  CHECK(bad.output.find("refused: nothing imported") != std::string::npos);
  std::ofstream(dir.path() / "bad.csv") << "phone,language,lat,lon\n"
                                           "514 555-0301,fr,45.585,-73.65\n"
                                           "514 555-0303,fr,48.0,-70.0\n"
                                           "514 555-0301,en,45.505,-73.57\n";
  auto outside = run_command({TOCSIN_BINARY, "resident", "import", "--config", server.config_file(),
                              "--csv", file, "--reason", "test"},
                             30s);
  INFO(outside.output);
  CHECK(outside.exit_code == 1);
  CHECK(outside.output.find(file + ":3: places[0]: this place is outside the city") !=
        std::string::npos);
  CHECK(outside.output.find(file + ":4: phone: this number is already signed up") !=
        std::string::npos);
  auto none =
      run_command({TOCSIN_BINARY, "resident", "count", "--config", server.config_file()}, 10s);
  CHECK(none.output == "0\n");  // all or nothing

  // The key gone: serve and check-config refuse, naming the key.
  std::filesystem::remove(dir.path() / "residents.key");
  auto check = run_command({TOCSIN_BINARY, "check-config", server.config_file()}, 10s);
  CHECK(check.exit_code == 1);
  CHECK(check.output.find("residents.key_file: no file at") != std::string::npos);
  CHECK_THROWS(server.start());
}
