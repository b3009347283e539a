// Residents reached by a public alert: an opt-in list imported with `tocsin resident import`
// (three residents in three zones), a riverside flood released by two people reaches only the
// riverside resident, by SMS, in their language; after STOP their number gets nothing, not even
// from the next alert; an alert of a category a resident did not choose passes them by unless it
// is a threat to life; and neither the database nor the log holds a contact in clear.

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <boost/json.hpp>

#include "tests/support/fake_provider.hpp"
#include "tests/support/inbound_sms.hpp"
#include "tests/support/process.hpp"
#include "tests/support/residents.hpp"
#include "tests/support/smtp_server.hpp"
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

// Two people release the public alert of the one approval pending.
void release(const TocsinServer& server, const Session& first, const Session& second) {
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
  auto r = approve_by_two(server, id, first, second);
  REQUIRE(r);
  REQUIRE(r->status == 200);
}

// A flood reported in `zone`; the incident's id.
std::string report_flood(const TocsinServer& server, const std::string& zone,
                         const std::string& severity, int n) {
  auto r = server.post("/api/v1/incidents",
                       R"({"source":"tests","type":"test.flood","severity":")" + severity +
                           R"(","headline":"River rising","dedup_key":"flood-)" +
                           std::to_string(n) + R"(","location":{"zone":")" + zone + R"("}})");
  REQUIRE(r);
  INFO(r->body);
  REQUIRE(r->status == 201);
  return std::string(json::parse(r->body).at("id").as_string());
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
  auto release = [&] { ::release(server, swilliams, plavoie); };
  int floods = 0;
  auto flood = [&](const std::string& zone, const std::string& severity) {
    return report_flood(server, zone, severity, ++floods);
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

  // The transparency figures: five water alerts and three residents, all under 10, so hidden;
  // the median time to a first delivery is given (it points at nobody).
  auto stats = json::parse(server.get("/api/v1/public/stats")->body).as_object();
  INFO(json::serialize(stats));
  REQUIRE(stats.at("alerts_sent").as_array().size() == 1);
  CHECK(stats.at("alerts_sent").at(0).at("category") == "water");
  CHECK(stats.at("alerts_sent").at(0).at("alerts").is_null());
  CHECK(stats.at("median_seconds_to_first_delivery").to_number<double>() >= 0);
  CHECK_FALSE(stats.at("subscribers").as_array().empty());
  for (const auto& row : stats.at("subscribers").as_array()) CHECK(row.at("residents").is_null());

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

  // A place given by its civic address's id (the city's file, imported first).
  import_shipped_addresses(server);
  std::ofstream(dir.path() / "by_address.csv") << "phone,language,address,label\n"
                                                  "514 555-0311,fr,SYN-00032,bureau\n"
                                                  "514 555-0312,en,SYN-99999,home\n";
  const std::string by_address = (dir.path() / "by_address.csv").string();
  auto unknown = run_command({TOCSIN_BINARY, "resident", "import", "--config", server.config_file(),
                              "--csv", by_address, "--reason", "test"},
                             30s);
  CHECK(unknown.exit_code == 1);
  CHECK(unknown.output.find(by_address + ":3: address: no civic address has this id") !=
        std::string::npos);
  std::ofstream(dir.path() / "by_address.csv") << "phone,language,address,label\n"
                                                  "514 555-0311,fr,SYN-00032,bureau\n"
                                                  "514 555-0312,en,SYN-00001,home\n";
  auto imported = run_command({TOCSIN_BINARY, "resident", "import", "--config",
                               server.config_file(), "--csv", by_address, "--reason", "test"},
                              30s);
  INFO(imported.output);
  CHECK(imported.exit_code == 0);
  auto old_port = run_command(
      {TOCSIN_BINARY, "resident", "count", "--zone", "old-port", "--config", server.config_file()},
      10s);
  CHECK(old_port.output == "1\n");

  // The key gone: serve and check-config refuse, naming the key.
  std::filesystem::remove(dir.path() / "residents.key");
  auto check = run_command({TOCSIN_BINARY, "check-config", server.config_file()}, 10s);
  CHECK(check.exit_code == 1);
  CHECK(check.output.find("residents.key_file: no file at") != std::string::npos);
  CHECK_THROWS(server.start());
}

namespace {

// The value of `name="…"` radio inputs' `value` attributes, in order.
std::vector<std::string> radio_values(const std::string& html, const std::string& name) {
  std::vector<std::string> out;
  const std::string marker = "name=\"" + name + "\" value=\"";
  for (auto at = html.find(marker); at != std::string::npos; at = html.find(marker, at + 1)) {
    auto from = at + marker.size();
    out.push_back(html.substr(from, html.find('"', from) - from));
  }
  return out;
}

std::string form_encoded(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& [k, v] : fields) {
    out += (out.empty() ? "" : "&") + k + "=";
    for (unsigned char c : v)
      if (std::isalnum(c) || c == '-' || c == '_' || c == '.')
        out += char(c);
      else {
        char hex[4];
        std::snprintf(hex, sizeof hex, "%%%02X", c);
        out += hex;
      }
  }
  return out;
}

}  // namespace

TEST_CASE(
    "a resident signs up on /residents: their address found, their number confirmed by the "
    "code texted, their subscription shown",
    "[residents][pages]") {
  FakeProvider provider;
  TempDir dir;
  TocsinServer server(residents_server(provider, dir));
  CHECK(import_shipped_addresses(server).find("61 civic addresses imported") != std::string::npos);
  server.start();
  auto get = [&](const std::string& target, std::map<std::string, std::string> headers = {}) {
    auto r = http_request(server.http_port(), "GET", target, "", "", headers);
    REQUIRE(r);
    return *r;
  };
  auto post = [&](const std::string& target,
                  const std::vector<std::pair<std::string, std::string>>& fields,
                  std::map<std::string, std::string> headers = {}) {
    auto r = http_request(server.http_port(), "POST", target, form_encoded(fields),
                          "application/x-www-form-urlencoded", headers);
    REQUIRE(r);
    return *r;
  };

  // In French for a French browser, in English on asking; the switch on the page.
  auto home = get("/residents", {{"Accept-Language", "fr-CA,fr;q=0.9,en;q=0.8"}});
  CHECK(home.status == 200);
  CHECK(home.headers["content-type"] == "text/html; charset=utf-8");
  CHECK(home.body.find("<html lang=\"fr\">") != std::string::npos);
  CHECK(home.body.find("<h1>M&#39;inscrire aux alertes</h1>") != std::string::npos);
  CHECK(home.body.find("href=\"/residents?lang=en\"") != std::string::npos);
  auto english = get("/residents", {{"Accept-Language", "en-CA,en;q=0.9"}});
  CHECK(english.body.find("Sign up for alerts") != std::string::npos);

  // "st-laurent" finds Saint-Laurent; "eglise" finds l'Église: accents, case, hyphens aside.
  auto found = get("/residents?lang=fr&q=5+st-laurent");
  auto saint_laurent = radio_values(found.body, "address");
  REQUIRE_FALSE(saint_laurent.empty());
  CHECK(found.body.find("Boulevard Saint-Laurent") != std::string::npos);
  CHECK(found.body.find("Gouin") == std::string::npos);
  auto church = get("/residents?lang=fr&q=EGLISE");
  CHECK(church.body.find("Rue de l&#39;Église") != std::string::npos);
  auto gouin = radio_values(get("/residents?q=gouin").body, "address");
  REQUIRE(gouin.size() == 6);
  auto laval = radio_values(get("/residents?q=laurentides+laval").body, "address");
  REQUIRE(laval.size() == 1);

  // Refused clearly, naming the field, and nothing stored: a French number, a place outside the
  // city, no place at all.
  auto foreign = post(
      "/residents/signup",
      {{"lang", "fr"}, {"phone", "+33 6 12 34 56 78"}, {"language", "fr"}, {"address", gouin[0]}});
  CHECK(foreign.status == 400);
  CHECK(foreign.body.find("id=\"phone\" name=\"phone\" autocomplete=\"tel\" value=\"+33 6 12 34 "
                          "56 78\" aria-invalid=\"true\"") != std::string::npos);
  CHECK(foreign.body.find("a number of FR") != std::string::npos);
  auto outside =
      post("/residents/signup",
           {{"lang", "fr"}, {"phone", "514 555-0301"}, {"language", "fr"}, {"address", laval[0]}});
  CHECK(outside.status == 400);
  CHECK(outside.body.find("hors de la ville") != std::string::npos);
  auto nowhere = post("/residents/signup", {{"lang", "en"}, {"phone", "514 555-0301"}});
  CHECK(nowhere.status == 400);
  CHECK(nowhere.body.find("Find the place&#39;s address") != std::string::npos);
  CHECK(query_integer(server.database(), "SELECT count(*) FROM residents") == 0);

  // Signed up: sent to the confirmation page, and the code texted, in French.
  auto signed_up = post("/residents/signup", {{"lang", "fr"},
                                              {"phone", "(514) 555-0301"},
                                              {"language", "fr"},
                                              {"address", gouin[2]},
                                              {"label", "chez moi"},
                                              {"categories", "water"},
                                              {"categories", "weather"}});
  INFO(signed_up.body);
  REQUIRE(signed_up.status == 303);
  const std::string confirm = signed_up.headers["location"];
  REQUIRE(confirm.rfind("/residents/confirm/", 0) == 0);
  REQUIRE(wait_until([&] { return sent_to(provider, "+15145550301").size() == 1; }, 15s));
  const std::string text = sent_to(provider, "+15145550301")[0];
  CHECK(text.find("votre code de confirmation est ") != std::string::npos);
  const std::string code = text.substr(text.find(" est ") + 5, 6);
  REQUIRE(code.find_first_not_of("0123456789") == std::string::npos);
  // Unconfirmed: no alert reaches it yet.
  auto unconfirmed =
      run_command({TOCSIN_BINARY, "resident", "count", "--config", server.config_file()}, 10s);
  CHECK(unconfirmed.output == "0\n");

  const std::string path = confirm.substr(0, confirm.find('?'));
  CHECK(get(confirm).body.find("Code de confirmation") != std::string::npos);
  auto wrong = post(path, {{"lang", "fr"}, {"code", code == "000000" ? "111111" : "000000"}});
  CHECK(wrong.status == 400);
  CHECK(wrong.body.find("Essais restants : 4") != std::string::npos);
  auto right = post(path, {{"lang", "fr"}, {"code", code}});
  REQUIRE(right.status == 303);
  CHECK(right.headers["location"] == "/residents/me?lang=fr");
  const std::string cookie = right.headers["set-cookie"];
  CHECK(cookie.find("HttpOnly") != std::string::npos);
  CHECK(cookie.find("SameSite=Strict") != std::string::npos);
  auto again = post(path, {{"lang", "fr"}, {"code", code}});
  CHECK(again.status == 400);  // used once
  auto confirmed = run_command(
      {TOCSIN_BINARY, "resident", "count", "--zone", "riverside", "--config", server.config_file()},
      10s);
  CHECK(confirmed.output == "1\n");

  // Their subscription, for them only: the cookie, not the id, opens it.
  auto me = get("/residents/me?lang=fr", {{"Cookie", cookie.substr(0, cookie.find(';'))}});
  CHECK(me.status == 200);
  CHECK(me.body.find("•••• 0301") != std::string::npos);
  CHECK(me.body.find("confirmé") != std::string::npos);
  CHECK(me.body.find("chez moi") != std::string::npos);
  CHECK(me.body.find("Eau potable et crues") != std::string::npos);
  CHECK(me.body.find("<li>Routes</li>") == std::string::npos);  // not chosen
  CHECK(get("/residents/me").status == 401);
  auto forged = cookie.substr(0, cookie.find(';'));
  forged[forged.size() - 3] = forged[forged.size() - 3] == 'a' ? 'b' : 'a';
  CHECK(get("/residents/me", {{"Cookie", forged}}).status == 401);

  // The same number again: refused, nothing added.
  auto twice =
      post("/residents/signup",
           {{"lang", "fr"}, {"phone", "514-555-0301"}, {"language", "fr"}, {"address", gouin[1]}});
  CHECK(twice.status == 400);
  CHECK(twice.body.find("déjà inscrit") != std::string::npos);
  CHECK(query_integer(server.database(), "SELECT count(*) FROM residents") == 1);

  // Everything the city holds on them, for them: in full, as JSON.
  const std::string session = cookie.substr(0, cookie.find(';'));
  auto data = get("/residents/me/data.json", {{"Cookie", session}});
  REQUIRE(data.status == 200);
  CHECK(data.headers["content-disposition"].find("attachment") != std::string::npos);
  auto held = json::parse(data.body).as_object();
  CHECK(held.at("language") == "fr");
  CHECK(held.at("categories") == json::array{"water", "weather"});
  CHECK(held.at("contacts").at(0).at("value") == "+15145550301");
  CHECK(held.at("contacts").at(0).at("confirmed_at").is_string());
  CHECK(held.at("places").at(0).at("label") == "chez moi");
  CHECK(get("/residents/me/data.json").status == 401);

  // Their choices changed: English, roads only.
  auto changed =
      post("/residents/me", {{"lang", "fr"}, {"language", "en"}, {"categories", "roads"}},
           {{"Cookie", session}});
  CHECK(changed.status == 303);
  auto now_en = get("/residents/me?lang=en", {{"Cookie", session}});
  CHECK(now_en.body.find("<li>Roads</li>") != std::string::npos);
  CHECK(now_en.body.find("<li>Weather</li>") == std::string::npos);
  CHECK(json::parse(get("/residents/me/data.json", {{"Cookie", session}}).body).at("language") ==
        "en");
  // Not without the cookie, nor from another site.
  CHECK(post("/residents/me", {{"language", "fr"}}).status == 401);
  CHECK(post("/residents/me", {{"language", "fr"}},
             {{"Cookie", session}, {"Origin", "https://evil.example"}})
            .status == 403);

  // A second place: a parent's home found by its address, in the old port; a third picked on the
  // zone map, in the middle of the east end's shape as the map draws it.
  auto in_zone = [&](const char* zone) {
    return run_command({TOCSIN_BINARY, "resident", "count", "--zone", zone, "--config",
                        server.config_file()},
                       10s)
        .output;
  };
  auto searched = get("/residents/me?lang=fr&q=2411+saint-paul", {{"Cookie", session}});
  auto saint_paul = radio_values(searched.body, "address");
  REQUIRE(saint_paul.size() == 1);
  CHECK(searched.body.find("2411 Rue Saint-Paul Est") != std::string::npos);
  auto added = post("/residents/me/places",
                    {{"lang", "fr"}, {"label", "chez maman"}, {"address", saint_paul[0]}},
                    {{"Cookie", session}});
  INFO(added.body);
  CHECK(added.status == 303);
  CHECK(in_zone("old-port") == "1\n");
  CHECK(in_zone("riverside") == "1\n");
  auto places = get("/residents/me?lang=fr", {{"Cookie", session}});
  CHECK(places.body.find("<strong>chez maman</strong> : 2411 Rue Saint-Paul Est") !=
        std::string::npos);
  CHECK(places.body.find("Vieux-Port") != std::string::npos);  // its zone, by name

  auto map = get("/residents/map.svg?lang=fr");
  REQUIRE(map.status == 200);
  CHECK(map.headers["content-type"] == "image/svg+xml");
  auto shape = map.body.find("<g id=\"zone-east-end\"><polygon");
  REQUIRE(shape != std::string::npos);
  auto from = map.body.find("points=\"", shape) + 8;
  std::istringstream points(map.body.substr(from, map.body.find('"', from) - from));
  double x_sum = 0, y_sum = 0;
  int corners = 0;
  for (std::string xy; points >> xy; ++corners) {
    x_sum += std::stod(xy.substr(0, xy.find(',')));
    y_sum += std::stod(xy.substr(xy.find(',') + 1));
  }
  REQUIRE(corners >= 4);
  const std::string mid_x = std::to_string(int(x_sum / corners)),
                    mid_y = std::to_string(int(y_sum / corners));
  auto clicked =
      post("/residents/me/places",
           {{"lang", "fr"}, {"label", "travail"}, {"q", ""}, {"map.x", mid_x}, {"map.y", mid_y}},
           {{"Cookie", session}});
  CHECK(clicked.status == 303);
  CHECK(in_zone("east-end") == "1\n");
  // Pressed from the keyboard (0, 0), or clicked in the margin outside the city: refused, said.
  auto keyboard = post("/residents/me/places", {{"lang", "fr"}, {"map.x", "0"}, {"map.y", "0"}},
                       {{"Cookie", session}});
  CHECK(keyboard.status == 400);
  CHECK(keyboard.body.find("Cliquez sur la carte avec la souris") != std::string::npos);
  auto margin = post("/residents/me/places", {{"lang", "en"}, {"map.x", "2"}, {"map.y", "2"}},
                     {{"Cookie", session}});
  CHECK(margin.status == 400);
  CHECK(margin.body.find("outside the city") != std::string::npos);
  CHECK(query_integer(server.database(), "SELECT count(*) FROM resident_places") == 3);
  // The first place (riverside) no longer followed: the resident leaves that zone.
  auto removed =
      post("/residents/me/places/remove", {{"lang", "fr"}, {"place", "0"}}, {{"Cookie", session}});
  CHECK(removed.status == 303);
  CHECK(in_zone("riverside") == "0\n");
  CHECK(in_zone("old-port") == "1\n");
  CHECK(query_integer(server.database(),
                      "SELECT count(*) FROM audit WHERE action IN ('resident.place_add', "
                      "'resident.place_remove') AND detail = '{}'") == 3);

  // Coming back without a password: a code to their number opens it again. A number that is
  // nobody's gets the same next page, and no text (the real one, sent after it, arrives alone).
  CHECK(get("/residents/signin?lang=fr").body.find("Cellulaire ou courriel") != std::string::npos);
  auto stranger = post("/residents/signin", {{"lang", "fr"}, {"contact", "514 555-0399"}});
  REQUIRE(stranger.status == 303);
  auto back = post("/residents/signin", {{"lang", "fr"}, {"contact", "514 555 0301"}});
  REQUIRE(back.status == 303);
  REQUIRE(wait_until([&] { return sent_to(provider, "+15145550301").size() == 2; }, 15s));
  CHECK(sent_to(provider, "+15145550399").empty());
  const std::string second = sent_to(provider, "+15145550301")[1];
  const std::string code2 = second.substr(second.find(" est ") + 5, 6);  // the page's language
  INFO(second);
  const std::string stranger_path =
      stranger.headers["location"].substr(0, stranger.headers["location"].find('?'));
  CHECK(post(stranger_path, {{"code", code2}}).status == 400);
  const std::string back_path =
      back.headers["location"].substr(0, back.headers["location"].find('?'));
  auto reopened = post(back_path, {{"lang", "fr"}, {"code", code2}});
  REQUIRE(reopened.status == 303);
  const std::string session2 =
      reopened.headers["set-cookie"].substr(0, reopened.headers["set-cookie"].find(';'));
  CHECK(get("/residents/me", {{"Cookie", session2}}).status == 200);

  // Erasure: asked for, then done at once; audited without a contact; the cookie opens nothing.
  CHECK(post("/residents/me/delete", {{"lang", "fr"}}, {{"Cookie", session2}}).status == 400);
  auto erased =
      post("/residents/me/delete", {{"lang", "fr"}, {"confirm", "yes"}}, {{"Cookie", session2}});
  CHECK(erased.status == 200);
  CHECK(erased.body.find("toutes vos données sont supprimés") != std::string::npos);
  CHECK(erased.headers["set-cookie"].find("Max-Age=0") != std::string::npos);
  CHECK(query_integer(server.database(), "SELECT count(*) FROM residents") == 0);
  CHECK(query_integer(server.database(), "SELECT count(*) FROM resident_contacts") == 0);
  CHECK(query_integer(server.database(), "SELECT count(*) FROM resident_places") == 0);
  CHECK(query_integer(server.database(),
                      "SELECT count(*) FROM audit WHERE action = 'resident.erase' AND actor = "
                      "'resident' AND detail = '{}'") == 1);
  CHECK(get("/residents/me", {{"Cookie", session2}}).status == 404);

  auto dump = run_command({"/usr/bin/sqlite3", server.database(), ".dump"}, 30s);
  CHECK(dump.output.find("5550301") == std::string::npos);
  CHECK(dump.output.find("5550399") == std::string::npos);
  CHECK(dump.output.find("chez moi") == std::string::npos);
  CHECK(dump.output.find("chez maman") == std::string::npos);
  CHECK(server.log().find("5550301") == std::string::npos);
  CHECK(server.log().find("5550399") == std::string::npos);
}

TEST_CASE(
    "an e-mail address is confirmed by its link: opening it shows a button, only the button "
    "confirms",
    "[residents][pages]") {
  FakeProvider provider;
  TempDir dir;
  ServerOptions options = residents_server(provider, dir);
  options.channels_yaml += "  email:\n    provider: outbox\n";
  options.http_yaml = "  public_origin: https://alertes.ville.example\n";
  TocsinServer server(options);
  import_shipped_addresses(server);
  server.start();
  const std::map<std::string, std::string> same_site = {
      {"Origin", "https://alertes.ville.example"}};
  auto gouin = radio_values(
      http_request(server.http_port(), "GET", "/residents?q=gouin", "", "", {})->body, "address");
  REQUIRE_FALSE(gouin.empty());
  auto signed_up = http_request(server.http_port(), "POST", "/residents/signup",
                                form_encoded({{"lang", "en"},
                                              {"email", "Ines.Roy@Exemple.ca"},
                                              {"language", "en"},
                                              {"address", gouin[0]}}),
                                "application/x-www-form-urlencoded", same_site);
  REQUIRE(signed_up);
  INFO(signed_up->body);
  REQUIRE(signed_up->status == 303);
  // The link, e-mailed to the address as typed (in lower case), in English.
  REQUIRE(wait_until([&] { return server.outbox("email").size() == 1; }, 15s));
  auto mail = json::parse(server.outbox("email")[0]).as_object();
  CHECK(mail.at("to") == "ines.roy@exemple.ca");
  CHECK(mail.at("subject") == "Confirm your address for the City's alerts");
  const std::string text(mail.at("text").as_string());
  const std::string origin = "https://alertes.ville.example";
  auto at = text.find(origin + "/residents/email/");
  REQUIRE(at != std::string::npos);
  const std::string link =
      text.substr(at + origin.size(), text.find('\n', at) - at - origin.size());
  // A mail scanner that opens the link confirms nothing.
  auto opened = http_request(server.http_port(), "GET", link, "", "", {});
  REQUIRE(opened);
  CHECK(opened->status == 200);
  CHECK(opened->body.find("Confirm my address") != std::string::npos);
  CHECK(query_integer(server.database(),
                      "SELECT count(*) FROM resident_contacts WHERE confirmed_at IS NOT NULL") ==
        0);
  // The button posts the token: confirmed, signed in.
  const std::string id = link.substr(std::string("/residents/email/").size(),
                                     link.find('?') - std::string("/residents/email/").size());
  const std::string token = link.substr(link.find("t=") + 2, link.find('&') - link.find("t=") - 2);
  auto confirmed = http_request(server.http_port(), "POST", "/residents/confirm/" + id,
                                form_encoded({{"lang", "en"}, {"code", token}}),
                                "application/x-www-form-urlencoded", same_site);
  REQUIRE(confirmed);
  CHECK(confirmed->status == 303);
  CHECK(query_integer(server.database(),
                      "SELECT count(*) FROM resident_contacts WHERE kind = 'email' AND "
                      "confirmed_at IS NOT NULL") == 1);
  // From another site, nothing is taken.
  auto forged =
      http_request(server.http_port(), "POST", "/residents/signup",
                   form_encoded({{"email", "x@exemple.ca"}, {"address", gouin[1]}}),
                   "application/x-www-form-urlencoded", {{"Origin", "https://evil.example"}});
  REQUIRE(forged);
  CHECK(forged->status == 403);
  CHECK(query_integer(server.database(), "SELECT count(*) FROM residents") == 1);
  auto dump = run_command({"/usr/bin/sqlite3", server.database(), ".dump"}, 30s);
  CHECK(dump.output.find("exemple.ca") == std::string::npos);
}

TEST_CASE("a sign-up never confirmed is erased after a day, by the server itself",
          "[residents][pages]") {
  FakeProvider provider;
  TempDir dir;
  TocsinServer server(residents_server(provider, dir));
  import_shipped_addresses(server);
  server.start();
  auto sign_up = [&](const std::string& phone) {
    auto r =
        http_request(server.http_port(), "POST", "/residents/signup",
                     form_encoded({{"lang", "fr"}, {"phone", phone}, {"address", "SYN-00001"}}),
                     "application/x-www-form-urlencoded", {});
    REQUIRE(r);
    CHECK(r->status == 303);
  };
  sign_up("514 555-0401");
  sign_up("514 555-0402");
  REQUIRE(wait_until([&] { return sent_to(provider, "+15145550402").size() == 1; }, 15s));
  CHECK(server.terminate() == 0);
  // One of them signed up 25 hours ago and never confirmed.
  auto aged = run_command({"/usr/bin/sqlite3", server.database(),
                           "UPDATE residents SET created_at = created_at - 25 * 3600 * 1000 WHERE "
                           "id = (SELECT min(id) FROM residents)"},
                          10s);
  REQUIRE(aged.exit_code == 0);
  server.start();
  REQUIRE(wait_until(
      [&] { return query_integer(server.database(), "SELECT count(*) FROM residents") == 1; },
      15s));
  CHECK(query_integer(server.database(), "SELECT count(*) FROM resident_contacts") == 1);
  CHECK(query_integer(server.database(),
                      "SELECT count(*) FROM audit WHERE action = 'resident.purge' AND actor = "
                      "'retention' AND detail = '{}'") == 1);
  CHECK(server.log().find("erased 1 sign-up(s) left unconfirmed for 24 h") != std::string::npos);
}

TEST_CASE(
    "a resident's alert e-mail unsubscribes them in one click (RFC 8058), their texts go on, "
    "and their page takes e-mail back",
    "[residents][email]") {
  FakeProvider provider;
  SmtpServer smtp;
  TempDir dir;
  std::ofstream(dir.path() / "river.yaml") << R"(id: river
match: { type: test.flood }
steps:
  - require_approval: { role: approver, count: 2, timeout: 1h }
  - notify: { audience: { residents: { area: incident } }, channels: [sms, email], template: flood-public, public: true, expires: 6h }
)";
  ServerOptions options;
  options.playbooks_dir = dir.path().string();
  options.env = {{"TEST_SMS_TOKEN", provider.token()}};
  options.channels_yaml = provider.sms_yaml("\n    inbound_url: " + kInbound) +
                          "  email:\n    provider: smtp\n    url: " + smtp.url() +
                          "\n    from: alertes@ville.example\n    starttls: off\n";
  options.http_yaml = "  public_origin: https://alertes.ville.example\n";
  options.extra_yaml = "residents:\n  key_file: " + residents_key(dir) + "\n";
  TocsinServer server(options);
  std::ofstream(dir.path() / "list.csv")
      << "phone,email,language,lat,lon\n"
         "514 555-0501,ines.roy@exemple.ca,fr,45.58531,-73.6512\n";
  auto import = run_command({TOCSIN_BINARY, "resident", "import", "--config", server.config_file(),
                             "--csv", (dir.path() / "list.csv").string(), "--reason", "test"},
                            30s);
  REQUIRE(import.exit_code == 0);
  server.start();
  const Session swilliams = signed_in_person(server, "swilliams"),
                plavoie = signed_in_person(server, "plavoie");
  auto texts = [&] { return sent_to(provider, "+15145550501"); };

  report_flood(server, "riverside", "severe", 1);
  release(server, swilliams, plavoie);
  REQUIRE(wait_until([&] { return smtp.messages().size() == 1 && texts().size() == 1; }, 30s));
  // The e-mail's own link, in its headers and its body; the text says how to stop.
  auto mail = smtp.messages()[0];
  CHECK(mail.at("rcpt_tos") == json::array{"ines.roy@exemple.ca"});
  const auto& headers = mail.at("headers").as_object();
  CHECK(headers.at("list-unsubscribe-post") == "List-Unsubscribe=One-Click");
  const std::string header(headers.at("list-unsubscribe").as_string());
  const std::string origin = "https://alertes.ville.example";
  REQUIRE(header.rfind("<" + origin + "/residents/unsubscribe/", 0) == 0);
  const std::string link = header.substr(1, header.size() - 2);
  CHECK(std::string(mail.at("parts").at("text/plain").as_string())
            .find("Vous désabonner en un clic : " + link) != std::string::npos);
  CHECK(std::string(mail.at("parts").at("text/html").as_string()).find("Vous désabonner</a>") !=
        std::string::npos);
  CHECK(texts()[0].find("ARRET pour ne plus recevoir") != std::string::npos);
  CHECK(link.find("ines") == std::string::npos);  // the token is no address

  // A GET (a mail scanner, the body's link) shows the button and changes nothing.
  const std::string path = link.substr(origin.size());
  auto shown = http_request(server.http_port(), "GET", path, "", "", {});
  REQUIRE(shown);
  CHECK(shown->status == 200);
  CHECK(shown->body.find("Me désabonner") != std::string::npos);
  auto stopped_emails = [&] {
    return query_integer(server.database(),
                         "SELECT count(*) FROM resident_contacts WHERE kind = 'email' AND "
                         "stopped_at IS NOT NULL");
  };
  CHECK(stopped_emails() == 0);
  // A forged token, or a one-click body missing: refused, nothing changes.
  std::string forged = path;
  forged[forged.find('?') - 2] = forged[forged.find('?') - 2] == 'a' ? 'b' : 'a';
  auto refused = http_request(server.http_port(), "POST", forged, "List-Unsubscribe=One-Click",
                              "application/x-www-form-urlencoded", {});
  REQUIRE(refused);
  CHECK(refused->status == 404);
  auto empty =
      http_request(server.http_port(), "POST", path, "", "application/x-www-form-urlencoded", {});
  REQUIRE(empty);
  CHECK(empty->status == 400);
  CHECK(stopped_emails() == 0);
  // The mail provider's one click, as RFC 8058 has it: a multipart POST, no cookie, no Origin.
  auto clicked = http_request(
      server.http_port(), "POST", path,
      "--b0undary\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click"
      "\r\n--b0undary--\r\n",
      "multipart/form-data; boundary=b0undary", {{"Origin", "https://mail.example"}});
  REQUIRE(clicked);
  CHECK(clicked->status == 200);
  CHECK(clicked->body.find("plus d'alertes de la Ville à cette adresse courriel") !=
        std::string::npos);
  CHECK(stopped_emails() == 1);
  CHECK(query_integer(server.database(),
                      "SELECT count(*) FROM audit WHERE action = 'resident.stop' AND detail = "
                      "'{\"channel\":\"email\"}'") == 1);

  // The next flood: a text, no e-mail.
  const std::string second = report_flood(server, "riverside", "severe", 2);
  release(server, swilliams, plavoie);
  REQUIRE(wait_until([&] { return texts().size() == 2; }, 30s));
  CHECK(
      query_integer(server.database(),
                    "SELECT count(*) FROM deliveries WHERE channel = 'email' AND incident_id = '" +
                        second + "'") == 0);
  CHECK(smtp.messages().size() == 1);

  // Their page (a code texted to sign in) says so, and takes e-mail back.
  auto asked = http_request(server.http_port(), "POST", "/residents/signin",
                            form_encoded({{"lang", "fr"}, {"contact", "514 555-0501"}}),
                            "application/x-www-form-urlencoded", {});
  REQUIRE(asked);
  REQUIRE(asked->status == 303);
  REQUIRE(wait_until([&] { return texts().size() == 3; }, 15s));
  const std::string code = texts()[2].substr(texts()[2].find(" est ") + 5, 6);
  const std::string confirm =
      asked->headers["location"].substr(0, asked->headers["location"].find('?'));
  auto opened = http_request(server.http_port(), "POST", confirm,
                             form_encoded({{"lang", "fr"}, {"code", code}}),
                             "application/x-www-form-urlencoded", {});
  REQUIRE(opened);
  REQUIRE(opened->status == 303);
  const std::string session =
      opened->headers["set-cookie"].substr(0, opened->headers["set-cookie"].find(';'));
  auto me = http_request(server.http_port(), "GET", "/residents/me?lang=fr", "", "",
                         {{"Cookie", session}});
  REQUIRE(me);
  CHECK(me->body.find("désabonné") != std::string::npos);
  auto resumed = http_request(server.http_port(), "POST", "/residents/me/resume",
                              form_encoded({{"lang", "fr"}, {"contact", "email"}}),
                              "application/x-www-form-urlencoded", {{"Cookie", session}});
  REQUIRE(resumed);
  CHECK(resumed->status == 303);
  CHECK(stopped_emails() == 0);
  report_flood(server, "riverside", "severe", 3);
  release(server, swilliams, plavoie);
  REQUIRE(wait_until([&] { return smtp.messages().size() == 2; }, 30s));

  auto dump = run_command({"/usr/bin/sqlite3", server.database(), ".dump"}, 30s);
  CHECK(dump.output.find("exemple.ca") == std::string::npos);
  CHECK(server.log().find("exemple.ca") == std::string::npos);
}

TEST_CASE("the transparency figures round every count to 10 and hide those under 10, never a list",
          "[residents][public]") {
  TempDir dir;
  ServerOptions options;
  options.playbooks_dir = std::string(TOCSIN_SOURCE_DIR) + "/config/playbooks";
  options.extra_yaml = "residents:\n  key_file: " + residents_key(dir) + "\n";
  TocsinServer server(options);
  // 14 residents by the river in French, 3 downtown in English.
  std::string list = "phone,language,lat,lon\n";
  for (int i = 10; i < 24; ++i) list += "514 555-06" + std::to_string(i) + ",fr,45.585,-73.65\n";
  for (int i = 30; i < 33; ++i) list += "514 555-06" + std::to_string(i) + ",en,45.505,-73.57\n";
  std::ofstream(dir.path() / "list.csv") << list;
  auto import = run_command({TOCSIN_BINARY, "resident", "import", "--config", server.config_file(),
                             "--csv", (dir.path() / "list.csv").string(), "--reason", "test"},
                            30s);
  INFO(import.output);
  REQUIRE(import.exit_code == 0);
  server.start();
  auto stats = http_request(server.http_port(), "GET", "/api/v1/public/stats", "", "", {});
  REQUIRE(stats);
  CHECK(stats->status == 200);  // for everyone: no sign-in
  auto figures = json::parse(stats->body).as_object();
  INFO(stats->body);
  std::map<std::string, json::value> by;  // "zone/language"
  for (const auto& row : figures.at("subscribers").as_array())
    by[std::string(row.at("zone").as_string()) + "/" +
       std::string(row.at("language").as_string())] = row.at("residents");
  CHECK(by.at("riverside/fr") == 10);  // 14, rounded
  CHECK(by.at("city/fr") == 10);
  CHECK(by.at("downtown/en").is_null());  // 3: not given
  CHECK(by.at("city/en").is_null());
  CHECK(figures.at("alerts_sent").as_array().empty());
  CHECK(figures.at("median_seconds_to_first_delivery").is_null());
  CHECK(stats->body.find("555") == std::string::npos);
  auto page = http_request(server.http_port(), "GET", "/alerts/stats?lang=fr", "", "", {});
  REQUIRE(page);
  CHECK(page->status == 200);
  CHECK(page->body.find("<td>Berges de la rivière des Prairies</td><td>français</td><td>10</td>") !=
        std::string::npos);
  CHECK(page->body.find("<td>moins de 10</td>") != std::string::npos);
}
