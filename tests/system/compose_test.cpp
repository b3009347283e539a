// Composing a manual alert, against a real server: the form's options (templates, zones with
// their outlines), a preview in both languages with the SMS segment count and the reach, a live
// public alert refused until the word is typed, two people (the composer cannot approve it),
// then the same dispatcher as any playbook's alert. Each bad field is named.

#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include "tests/support/process.hpp"
#include "tests/support/tocsin_server.hpp"
#include "tests/support/wait.hpp"

using namespace tocsin::test;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

Session login(const TocsinServer& s, const std::string& user) {
  return sign_in(s, user, "a long passphrase");
}

std::optional<HttpResponse> post_as(const TocsinServer& s, const Session& who,
                                    const std::string& target, const std::string& body) {
  return as_user(s, who, "POST", target, body);
}

// Every channel on the outbox, sirens too: what went out is read back from the files.
ServerOptions outbox_server() {
  ServerOptions options;
  options.playbooks_dir = TOCSIN_SOURCE_DIR "/config/playbooks";
  options.channels_yaml =
      "  sms: {provider: outbox}\n  email: {provider: outbox}\n  console: {provider: outbox}\n"
      "  websocket: {provider: outbox}\n  cap: {provider: outbox}\n  siren: {provider: outbox}\n";
  return options;
}

std::string report(TocsinServer& s, const std::string& status) {
  // No shipped playbook matches this type: only what is composed goes out.
  auto r = s.post("/api/v1/incidents",
                  json::serialize(json::object{{"source", "eoc-desk"},
                                               {"type", "chem.gas_smell"},
                                               {"severity", "moderate"},
                                               {"status", status},
                                               {"headline", "Odeur de gaz, rue Sherbrooke Est"},
                                               {"location", json::object{{"zone", "east-end"}}}}));
  REQUIRE(r);
  REQUIRE(r->status == 201);
  return std::string(json::parse(r->body).at("id").as_string());
}

const std::string kShelter = R"({"template":"hazmat-shelter","channels":["sms","websocket"],
  "audience":{"residents":true},"zones":["east-end"],"expires":"2h",
  "siren":{"pattern":"hi-lo","duration":"3m"}})";

std::string with_confirm(const std::string& body, const std::string& word) {
  auto v = json::parse(body);
  v.as_object()["confirm"] = word;
  return json::serialize(v);
}

std::string error_field(const std::optional<HttpResponse>& r) {
  REQUIRE(r);
  return std::string(json::parse(r->body).at("error").at("field").as_string());
}

}  // namespace

TEST_CASE("the compose form offers the templates, channels, audiences and the zones' outlines",
          "[compose]") {
  ServerOptions options;
  options.playbooks_dir = TOCSIN_SOURCE_DIR "/config/playbooks";
  TocsinServer server(options);
  server.start();
  auto r = server.get("/api/v1/compose");
  REQUIRE(r);
  REQUIRE(r->status == 200);
  auto o = json::parse(r->body).as_object();
  bool shelter = false;
  for (const auto& t : o.at("templates").as_array())
    if (t.at("name") == "hazmat-shelter") {
      shelter = true;
      auto chans = t.at("channels").as_array();
      CHECK(std::find(chans.begin(), chans.end(), json::value("sms")) != chans.end());
      CHECK(std::find(chans.begin(), chans.end(), json::value("console")) == chans.end());
    }
  CHECK(shelter);
  REQUIRE(o.at("zones").as_array().size() == 6);
  for (const auto& z : o.at("zones").as_array()) {
    CHECK(!z.at("name_fr").as_string().empty());
    CHECK(z.at("polygons").as_array().at(0).as_array().size() >= 4);  // a closed ring
  }
  auto groups = o.at("groups").as_array();
  CHECK(std::find(groups.begin(), groups.end(), json::value("eoc-managers")) != groups.end());
}

TEST_CASE("a composed live public alert: previewed, confirmed by typing, approved by another",
          "[compose]") {
  TocsinServer server(outbox_server());
  server.add_user("swilliams", "approver", "a long passphrase");
  server.add_user("plavoie", "approver", "a long passphrase");
  server.start();
  Session composer = login(server, "swilliams"), second = login(server, "plavoie");
  std::string id = report(server, "actual");
  std::string base = "/api/v1/incidents/" + id + "/compose";

  // The preview: both languages side by side, the segment count, the reach; nothing sent.
  auto p = post_as(server, composer, base + "/preview", kShelter);
  REQUIRE(p);
  INFO(p->body);
  REQUIRE(p->status == 200);
  auto preview = json::parse(p->body).as_object();
  CHECK(preview.at("live") == true);
  CHECK(preview.at("needs_approval") == true);
  CHECK(preview.at("confirmation").as_array().size() == 2);
  CHECK(preview.at("problems").as_array().empty());
  const auto& sms = preview.at("messages").at("sms");
  CHECK(sms.at("fr").at("text").as_string().find("fuite de produit dangereux") !=
        json::string::npos);
  CHECK(!sms.at("en").at("text").as_string().empty());
  CHECK(sms.at("fr").at("text") != sms.at("en").at("text"));
  CHECK(sms.at("fr").at("encoding") == "ucs2");  // the French template declares UCS-2
  CHECK(sms.at("fr").at("segments").as_int64() >= 1);
  CHECK(preview.at("messages").at("websocket").at("en").at("text").as_string().size() > 0);
  CHECK(preview.at("reach").at("zones").as_array() == json::array{"east-end"});
  CHECK(!preview.at("reach").at("sirens").as_array().empty());
  REQUIRE(server.settled());  // the incident's report has run its playbooks (none match)
  const auto db = server.database();
  CHECK(query_integer(db, "SELECT count(*) FROM playbook_runs") == 0);

  // Live: refused until the word is typed (and a wrong word is no word).
  auto unconfirmed = post_as(server, composer, base, kShelter);
  CHECK(unconfirmed->status == 422);
  CHECK(error_field(unconfirmed) == "confirm");
  CHECK(post_as(server, composer, base, with_confirm(kShelter, "yes"))->status == 422);
  CHECK(query_integer(db, "SELECT count(*) FROM playbook_runs") == 0);

  auto made = post_as(server, composer, base, with_confirm(kShelter, "LIVE"));
  REQUIRE(made);
  INFO(made->body);
  REQUIRE(made->status == 201);
  CHECK(json::parse(made->body).at("status") == "awaiting_approval");
  // Nothing out before a second person approves; the composer's own approval is refused.
  std::string approval =
      *query_strings(db, "SELECT id FROM approvals WHERE status = 'pending'").begin();
  CHECK(query_integer(db, "SELECT count(*) FROM alerts") == 0);
  auto own = post_as(server, composer, "/api/v1/approvals/" + approval + "/approve", "{}");
  CHECK(own->status == 403);
  // The second person types the word too: approving is what sends it.
  auto untyped = post_as(server, second, "/api/v1/approvals/" + approval + "/approve", "{}");
  CHECK(untyped->status == 422);
  CHECK(error_field(untyped) == "confirm");
  CHECK(query_integer(db, "SELECT count(*) FROM alerts") == 0);
  auto ok = post_as(server, second, "/api/v1/approvals/" + approval + "/approve",
                    R"({"confirm":"RÉEL"})");
  REQUIRE(ok);
  CHECK(ok->status == 200);
  REQUIRE(wait_until(
      [&] {
        return query_integer(db,
                             "SELECT count(*) FROM alerts WHERE public = 1 AND status = "
                             "'dispatched'") == 2;
      },
      10s));
  CHECK(query_integer(db, "SELECT count(*) FROM deliveries WHERE channel = 'siren'") > 0);
  REQUIRE(wait_until(
      [&] {
        std::string all;
        for (const auto& l : server.outbox("websocket")) all += l;
        return all.find("fuite de produit dangereux") != std::string::npos &&
               all.find("hazardous material leak") != std::string::npos;
      },
      10s));
  // Who composed it, who approved it, and what the machines did: the report, each step of the
  // run, the dispatch; the chain holds.
  auto audit = server.get("/api/v1/audit?limit=1000")->body;
  CHECK(audit.find("\"alert.compose\"") != std::string::npos);
  CHECK(audit.find("\"swilliams\"") != std::string::npos);
  CHECK(audit.find("\"plavoie\"") != std::string::npos);
  CHECK(audit.find(R"("actor":"eoc-desk","action":"incident.created")") != std::string::npos);
  CHECK(audit.find(R"("actor":"playbook:composed","action":"run.step")") != std::string::npos);
  REQUIRE(wait_until(
      [&] {
        return server.get("/api/v1/audit?limit=1000")
                   ->body.find(R"("actor":"dispatcher","action":"alert.dispatch")") !=
               std::string::npos;
      },
      10s));
  // Newest first, a page at a time (the console's audit page).
  auto newest = json::parse(server.get("/api/v1/audit?before=9007199254740991&limit=2")->body);
  auto rows = newest.at("entries").as_array();
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].at("seq").as_int64() == rows[1].at("seq").as_int64() + 1);
  CHECK(newest.at("next").as_string().starts_with("/api/v1/audit?before=" +
                                                  std::to_string(rows[1].at("seq").as_int64())));
  auto verify =
      run_command({TOCSIN_BINARY, "audit", "verify", "--config", server.config_file()}, 20s);
  INFO(verify.output);
  CHECK(verify.exit_code == 0);
}

TEST_CASE("a composed exercise needs no typed word, and a staff-only alert no approval",
          "[compose]") {
  TocsinServer server(outbox_server());
  server.add_user("mgagnon", "operator", "a long passphrase");
  server.add_user("plavoie", "approver", "a long passphrase");
  server.start();
  Session op = login(server, "mgagnon"), approver = login(server, "plavoie");
  std::string drill = report(server, "exercise");
  std::string base = "/api/v1/incidents/" + drill + "/compose";
  auto p = post_as(server, op, base + "/preview", kShelter);
  REQUIRE(p->status == 200);
  CHECK(json::parse(p->body).at("live") == false);
  CHECK(json::parse(p->body).at("confirmation").as_array().empty());
  // Sirens never sound for an exercise.
  CHECK(json::parse(p->body).at("held_back") == true);

  // Without the siren, residents get it, marked as an exercise in both languages.
  auto no_siren = json::parse(kShelter).as_object();
  no_siren.erase("siren");
  std::string drill_body = json::serialize(no_siren);
  p = post_as(server, op, base + "/preview", drill_body);
  REQUIRE(p->status == 200);
  INFO(p->body);
  auto preview = json::parse(p->body);
  CHECK(preview.at("held_back") == false);
  CHECK(preview.at("messages").at("sms").at("en").at("text").as_string().starts_with("EXERCISE: "));
  CHECK(preview.at("messages").at("sms").at("fr").at("text").as_string().starts_with("EXERCICE: "));
  auto made = post_as(server, op, base, drill_body);
  REQUIRE(made);
  INFO(made->body);
  CHECK(made->status == 201);
  CHECK(json::parse(made->body).at("status") == "awaiting_approval");  // still two people
  const auto db = server.database();
  std::string approval =
      *query_strings(db, "SELECT id FROM approvals WHERE status = 'pending'").begin();
  auto ok = post_as(server, approver, "/api/v1/approvals/" + approval + "/approve", "{}");
  REQUIRE(ok);
  CHECK(ok->status == 200);  // an exercise's approval needs no typed word either
  REQUIRE(wait_until(
      [&] {
        std::string all;
        for (const auto& l : server.outbox("websocket")) all += l;
        return all.find("EXERCICE : ALERTE: fuite de produit dangereux") != std::string::npos &&
               all.find("EXERCISE: ALERT: hazardous material leak") != std::string::npos;
      },
      10s));
  CHECK(query_integer(db, "SELECT count(*) FROM deliveries WHERE channel = 'siren'") == 0);

  std::string live = report(server, "actual");
  auto staff = post_as(server, op, "/api/v1/incidents/" + live + "/compose",
                       R"({"template":"hazmat-escalation","channels":["email"],
                          "audience":{"groups":["eoc-managers"]}})");
  REQUIRE(staff);
  INFO(staff->body);
  REQUIRE(staff->status == 201);
  CHECK(json::parse(staff->body).at("status") == "completed");
  REQUIRE(wait_until(
      [&] {
        auto lines = server.outbox("email");
        return std::count_if(lines.begin(), lines.end(), [&](const std::string& l) {
                 return l.find(live) != std::string::npos;
               }) == 2;  // the two EOC managers
      },
      10s));
}

TEST_CASE("a compose request names its bad field", "[compose]") {
  ServerOptions options;
  options.playbooks_dir = TOCSIN_SOURCE_DIR "/config/playbooks";
  TocsinServer server(options);
  server.add_user("mgagnon", "operator", "a long passphrase");
  server.start();
  Session op = login(server, "mgagnon");
  std::string id = report(server, "actual");
  std::string target = "/api/v1/incidents/" + id + "/compose/preview";
  struct Case {
    std::string body, field;
  };
  std::vector<Case> cases{
      {R"({"template":"nope","channels":["sms"],"audience":{"residents":true}})", "template"},
      {R"({"template":"hazmat-shelter","channels":["pigeon"],"audience":{"residents":true}})",
       "channels"},
      {R"({"template":"hazmat-shelter","channels":["sms"],"audience":{}})", "audience"},
      {R"({"template":"hazmat-shelter","channels":["sms"],"audience":{"groups":["x"]}})",
       "audience.groups"},
      {R"({"template":"hazmat-shelter","channels":["sms"],"audience":{"residents":true}})",
       "zones"},
      {R"({"template":"hazmat-shelter","channels":["sms"],"audience":{"residents":true},
          "zones":["atlantis"],"expires":"2h"})",
       "zones"},
      {R"({"template":"hazmat-shelter","channels":["sms"],"audience":{"residents":true},
          "zones":["east-end"]})",
       "expires"},
      {R"({"template":"hazmat-shelter","channels":["sms"],"audience":{"residents":true},
          "zones":["east-end"],"expires":"2h","siren":{"pattern":"disco","duration":"1m"}})",
       "siren.pattern"},
      {R"({"template":"hazmat-shelter","channels":["sms"],"audience":{"residents":true},
          "zones":["east-end"],"expires":"2h","colour":"red"})",
       "colour"},
  };
  for (const auto& c : cases) {
    INFO(c.body);
    auto r = post_as(server, op, target, c.body);
    REQUIRE(r);
    CHECK(r->status == 400);
    CHECK(error_field(r) == c.field);
  }
  // A template without both languages on a channel is refused before anything is stored.
  auto r = post_as(server, op, "/api/v1/incidents/" + id + "/compose",
                   R"({"template":"hazmat-staff","channels":["websocket"],
                      "audience":{"residents":true},"zones":["east-end"],"expires":"1h",
                      "confirm":"LIVE"})");
  REQUIRE(r);
  CHECK(r->status >= 400);
  REQUIRE(server.settled());
  CHECK(query_integer(server.database(), "SELECT count(*) FROM playbook_runs") == 0);
}
