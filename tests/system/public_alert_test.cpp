// Public-alert safety: the approver sees what a public alert will reach (recorded with the
// approval, checked again at send time), cannot approve one the lint blocks, and a composed
// alert is linted from the command line.

#include <catch2/catch.hpp>

#include <fstream>

#include <boost/json.hpp>

#include "tests/support/process.hpp"
#include "tests/support/residents.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/tocsin_server.hpp"
#include "tests/support/wait.hpp"

using namespace tocsin::test;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

std::string flood(const std::string& headline) {
  return json::serialize(json::object{{"source", "gauge-rdp-17"},
                                      {"type", "flood.water_level"},
                                      {"severity", "severe"},
                                      {"headline", headline},
                                      {"location", json::object{{"zone", "riverside"}}},
                                      {"attributes", json::object{{"level_m", 4.4}}}});
}

// Reports a flood, acknowledges it, and returns the approval the public step waits for.
json::object pending_approval(TocsinServer& server, const std::string& headline) {
  auto r = server.post("/api/v1/incidents", flood(headline));
  REQUIRE(r);
  REQUIRE(r->status == 201);
  CHECK(json::parse(r->body).at("status") == "actual");
  auto id = std::string(json::parse(r->body).at("id").as_string());
  REQUIRE(server.post("/api/v1/incidents/" + id + "/ack", "{}")->status == 200);
  json::object approval;
  REQUIRE(wait_until(
      [&] {
        auto a = json::parse(server.get("/api/v1/approvals?state=pending")->body).at("approvals");
        if (a.as_array().empty()) return false;
        approval = a.as_array()[0].as_object();
        return true;
      },
      10s));
  return approval;
}

}  // namespace

TEST_CASE("the approver sees the reach of the public steps, and it is recorded with the alert",
          "[public]") {
  ServerOptions options;
  options.playbooks_dir = TOCSIN_SOURCE_DIR "/config/playbooks";
  TocsinServer server(options);
  server.start();
  auto approval = pending_approval(server, "Crue de la rivière");
  auto preview = approval.at("preview").as_array();
  REQUIRE(preview.size() == 2);  // the public notify (step 5) and the siren (step 6)
  CHECK(preview[0].at("step") == 5);
  // No residents registry yet: the public feed (outbox here) in French and in English.
  CHECK(preview[0].at("recipients") == json::object{{"websocket", 2}});
  CHECK(preview[0].at("zones") == json::array{"riverside"});
  CHECK(preview[0].at("problems").as_array().empty());
  CHECK(preview[1].at("step") == 6);
  CHECK(preview[1].at("zones") == json::array{"riverside"});
  CHECK(approval.at("incident_status") == "actual");

  std::string id(approval.at("id").as_string());
  // A token bound to swilliams acts as her, but approving a live public alert takes the person,
  // signed in; the tests' own token is bound to nobody and cannot even name her.
  CHECK(json::parse(server
                        .post("/api/v1/approvals/" + id + "/approve",
                              R"({"by":"swilliams","confirm":"LIVE"})")
                        ->body)
            .at("error")
            .at("reason") == "token_not_bound");
  auto by_token = server.as_token(server.token_for("swilliams", R"(["read","approve"])"), "POST",
                                  "/api/v1/approvals/" + id + "/approve", R"({"confirm":"LIVE"})");
  CHECK(by_token->status == 403);
  CHECK(json::parse(by_token->body).at("error").at("reason") == "person_required");
  // One approver is not enough for a sensor's public alert: the shipped playbook says two.
  CHECK(approval.at("required") == 2);
  Session swilliams = signed_in_person(server, "swilliams");
  Session plavoie = signed_in_person(server, "plavoie");
  REQUIRE(approve_by_two(server, id, swilliams, plavoie)->status == 200);
  std::string alert_id;
  REQUIRE(wait_until(
      [&] {
        auto ids = query_strings(server.database(),
                                 "SELECT id FROM alerts WHERE public = 1 AND kind = 'notify' AND "
                                 "status = 'dispatched'");
        if (ids.empty()) return false;
        alert_id = *ids.begin();
        return true;
      },
      10s));
  auto alert = json::parse(server.get("/api/v1/alerts/" + alert_id)->body).at("alert");
  CHECK(alert.at("approved_reach").at("recipients") == json::object{{"websocket", 2}});
  CHECK(alert.at("expires_s") == 6 * 3600);
  CHECK(alert.at("delivery_total") == 2);
}

TEST_CASE("an approver cannot approve a public alert the lint would block", "[public]") {
  ServerOptions options;
  options.playbooks_dir = TOCSIN_SOURCE_DIR "/config/playbooks";
  TocsinServer server(options);
  server.start();
  auto approval = pending_approval(server, std::string(200, 'H'));
  auto problems = approval.at("preview").as_array()[0].at("problems").as_array();
  REQUIRE(problems.size() == 1);
  CHECK(problems[0] == "headline: 200 characters, over the limit of 160");

  std::string id(approval.at("id").as_string());
  auto r = server.as_token(server.token_for("swilliams", R"(["read","approve"])"), "POST",
                           "/api/v1/approvals/" + id + "/approve", R"({"confirm":"LIVE"})");
  REQUIRE(r);
  CHECK(r->status == 422);
  CHECK(r->body.find("cannot approve: the public alert would be blocked: headline: 200 "
                     "characters") != std::string::npos);
  CHECK(query_integer(server.database(),
                      "SELECT count(*) FROM approvals WHERE status = "
                      "'pending'") == 1);
  CHECK(query_integer(server.database(), "SELECT count(*) FROM alerts WHERE public = 1") == 0);
}

TEST_CASE("tocsin alert lint checks a composed alert", "[public][cli]") {
  auto ok = run_command({TOCSIN_BINARY, "alert", "lint",
                         TOCSIN_SOURCE_DIR "/docs/examples/alerts/flood-riverside.json"},
                        10s);
  INFO(ok.output);
  CHECK(ok.exit_code == 0);
  CHECK(ok.output.find(": ok") != std::string::npos);

  TempDir dir;
  auto file = (dir.path() / "bad.json").string();
  std::ofstream(file) << R"({
    "sent": "2026-11-23T14:00:00Z", "effective": "2026-11-23T13:00:00Z",
    "headline": "Crue", "area": [],
    "messages": {
      "sms": {"fr": "Montez à l’étage", "en": "Montez à l’étage"},
      "websocket": {"fr": "ALERTE CRUE"}
    }})";
  auto bad = run_command({TOCSIN_BINARY, "alert", "lint", file}, 10s);
  INFO(bad.output);
  CHECK(bad.exit_code == 1);
  for (const char* expected :
       {"expires: required for a public alert",
        "effective: 2026-11-23T13:00:00.000Z is before the send time",
        "area: required for a public alert", "messages.sms.fr: typographic quote '’'",
        "messages.sms: French and English render to the same text",
        "messages.websocket.en: missing: a public alert goes out in French and English",
        "problems: this alert would be blocked"})
    CHECK(bad.output.find(expected) != std::string::npos);
}

TEST_CASE("a public alert the lint blocks at send time is not sent and raises alert.blocked",
          "[public]") {
  // Approved while its headline passed the lint; an update during the wait made it too long.
  TempDir playbooks;
  std::ofstream(playbooks.path() / "direct.yaml") << R"(id: direct-public
match: { type: flood.water_level }
steps:
  - require_approval: { role: approver, count: 2, timeout: 15m }
  - wait: { for: 2s }
  - notify: { audience: { residents: { area: incident } }, channels: [sms, websocket], template: flood-public, public: true, expires: 2h }
)";
  ServerOptions options;
  options.playbooks_dir = playbooks.path().string();
  TocsinServer server(options);
  server.start();
  auto approval = pending_approval(server, "Crue");
  REQUIRE(approval.at("preview").as_array()[0].at("problems").as_array().empty());
  REQUIRE(approve_by_two(server, std::string(approval.at("id").as_string()),
                         signed_in_person(server, "swilliams"), signed_in_person(server, "plavoie"))
              ->status == 200);
  REQUIRE(server.post("/api/v1/incidents", flood(std::string(170, 'H')))->status == 200);
  REQUIRE(wait_until(
      [&] {
        return query_integer(server.database(),
                             "SELECT count(*) FROM incidents WHERE type = 'alert.blocked'") == 1;
      },
      10s));
  CHECK(query_strings(server.database(), "SELECT status FROM alerts") ==
        std::set<std::string>{"blocked"});
  CHECK(query_strings(server.database(), "SELECT problems FROM alerts") ==
        std::set<std::string>{R"(["headline: 170 characters, over the limit of 160"])"});
  CHECK(query_integer(server.database(), "SELECT count(*) FROM deliveries") == 0);
  CHECK(server.outbox("websocket").empty());
}

namespace {

// The shipped playbooks, every channel writing to its outbox.
ServerOptions shipped_with_outboxes() {
  ServerOptions options;
  options.playbooks_dir = TOCSIN_SOURCE_DIR "/config/playbooks";
  options.channels_yaml =
      "  sms: {provider: outbox}\n  email: {provider: outbox}\n  console: {provider: outbox}\n"
      "  websocket: {provider: outbox}\n  cap: {provider: outbox}\n  siren: {provider: outbox}\n";
  return options;
}

// A live flood report whose public alert two people approve (typing the word), until its public
// notice and its siren have gone out.
// Returns the two people's sessions.
std::pair<Session, Session> approve_live_flood(TocsinServer& server) {
  auto approval = pending_approval(server, "Crue de la rivière");
  std::pair<Session, Session> people{signed_in_person(server, "swilliams"),
                                     signed_in_person(server, "plavoie")};
  REQUIRE(approve_by_two(server, std::string(approval.at("id").as_string()), people.first,
                         people.second)
              ->status == 200);
  REQUIRE(wait_until(
      [&] {
        return query_integer(server.database(),
                             "SELECT count(*) FROM alerts WHERE public = 1 AND status = "
                             "'dispatched'") == 2;
      },
      10s));
  return people;
}

}  // namespace

TEST_CASE("cancelling a public alert reaches every channel it went to, sirens get the all-clear",
          "[public]") {
  TocsinServer server(shipped_with_outboxes());
  server.start();
  approve_live_flood(server);
  const auto db = server.database();
  auto one = [&](const std::string& sql) { return *query_strings(db, sql).begin(); };
  std::string notify = one("SELECT id FROM alerts WHERE public = 1 AND kind = 'notify'");
  std::string siren = one("SELECT id FROM alerts WHERE kind = 'siren'");

  auto r = server.post("/api/v1/alerts/" + notify + "/cancel",
                       R"({"note":"Fausse alerte / False alarm"})");
  REQUIRE(r);
  INFO(r->body);
  REQUIRE(r->status == 201);
  std::string cancel(json::parse(r->body).at("id").as_string());
  // The same action sounded the all-clear on the run's sirens.
  CHECK(json::parse(r->body).at("also").as_array().size() == 1);
  CHECK(server.post("/api/v1/alerts/" + siren + "/cancel", "{}")->status == 409);
  // The same channels and audience, the cancel templates in both languages; the all-clear.
  REQUIRE(wait_until(
      [&] {
        return query_integer(db,
                             "SELECT count(*) FROM alerts WHERE follow_up_of IS NOT NULL AND "
                             "status = 'dispatched'") == 2;
      },
      10s));
  CHECK(one("SELECT channels FROM alerts WHERE id = '" + cancel + "'") ==
        one("SELECT channels FROM alerts WHERE id = '" + notify + "'"));
  CHECK(one("SELECT pattern FROM alerts WHERE follow_up_of = '" + siren + "'") == "all-clear");
  REQUIRE(wait_until(
      [&] {
        auto lines = server.outbox("websocket");
        return std::count_if(lines.begin(), lines.end(), [&](const std::string& l) {
                 return l.find(cancel) != std::string::npos;
               }) == 2;
      },
      10s));
  std::string feed;
  for (const auto& l : server.outbox("websocket"))
    if (l.find(cancel) != std::string::npos) feed += l;
  CHECK(feed.find("ANNULATION: l'alerte pour Berges") != std::string::npos);
  CHECK(feed.find("CANCELLED: the alert for") != std::string::npos);
  // One action, one person: the shipped words only, never the canceller's own text.
  CHECK(feed.find("False alarm") == std::string::npos);
  CHECK(feed.find("Fausse alerte") == std::string::npos);
  CHECK(query_integer(db,
                      "SELECT count(*) FROM deliveries WHERE channel = 'siren' AND alert_id "
                      "IN (SELECT id FROM alerts WHERE follow_up_of = '" +
                          siren + "')") > 0);

  // Once is enough; the audit trail says who, and keeps the note that did not go out.
  CHECK(server.post("/api/v1/alerts/" + notify + "/cancel", "{}")->status == 409);
  auto audit = server.get("/api/v1/audit?limit=1000")->body;
  CHECK(audit.find("\"alert.cancel\"") != std::string::npos);
  CHECK(audit.find("False alarm") != std::string::npos);
}

TEST_CASE("a correction says each language's own words, and a second person releases it",
          "[public][abuse]") {
  TocsinServer server(shipped_with_outboxes());
  server.start();
  auto [swilliams, plavoie] = approve_live_flood(server);
  const auto db = server.database();
  std::string notify =
      *query_strings(db, "SELECT id FROM alerts WHERE public = 1 AND kind = 'notify'").begin();
  const std::string path = "/api/v1/alerts/" + notify + "/correct";
  auto as_swilliams = [&](const std::string& body) {
    return as_user(server, swilliams, "POST", path, body);
  };

  // One language only, both forms at once, or an empty text: refused, naming the field.
  auto only_fr = as_swilliams(R"({"notes":{"fr":"Évacuez"}})");
  CHECK(only_fr->status == 400);
  CHECK(json::parse(only_fr->body).at("error").at("field") == "notes.en");
  CHECK(as_swilliams(R"({"note":"x","notes":{"fr":"a","en":"b"}})")->status == 400);
  CHECK(as_swilliams(R"({"notes":{"fr":"","en":"b"}})")->status == 400);
  CHECK(as_swilliams(R"({"notes":{"fr":"a","en":"b","de":"c"}})")->status == 400);
  CHECK(as_swilliams("{}")->status == 400);
  // A token is nobody: it cannot correct a public alert (bound to a person or not).
  auto by_token = server.post(path, R"({"notes":{"fr":"a","en":"b"}})");
  CHECK(by_token->status == 403);
  CHECK(json::parse(by_token->body).at("error").at("reason") == "person_required");

  auto r = as_swilliams(R"({"notes":{"fr":"Évacuez par la rue Principale",)"
                        R"("en":"Evacuate by Main Street"}})");
  REQUIRE(r);
  INFO(r->body);
  REQUIRE(r->status == 202);
  CHECK(json::parse(r->body).at("status") == "pending_approval");
  std::string approval(json::parse(r->body).at("approval").as_string());
  // Nothing goes out on one person's word: pending, shown with its texts to approvers.
  CHECK(query_integer(db, "SELECT count(*) FROM alerts WHERE template = 'public-update'") == 0);
  auto listed = json::parse(server.get("/api/v1/approvals?state=pending")->body).at("approvals");
  REQUIRE(listed.as_array().size() == 1);
  CHECK(listed.as_array()[0].at("kind") == "correction");
  CHECK(listed.as_array()[0].at("correction").at("notes").at("en") == "Evacuate by Main Street");
  // Planned and linted as the original was: its reach, with no problem (else 422 at once).
  CHECK(listed.as_array()[0].at("preview").as_array()[0].at("recipients") ==
        json::object{{"websocket", 2}});
  CHECK(listed.as_array()[0].at("preview").as_array()[0].at("problems").as_array().empty());
  CHECK(as_swilliams(R"({"note":"again"})")->status == 409);  // one waiting at a time
  const std::string vote = "/api/v1/approvals/" + approval + "/approve";
  auto own = as_user(server, swilliams, "POST", vote, R"({"confirm":"LIVE"})");
  CHECK(own->status == 403);
  CHECK(json::parse(own->body).at("error").at("reason") == "own_approval");
  CHECK(as_user(server, plavoie, "POST", vote, "{}")->status == 422);  // the word, for a live one
  auto released = as_user(server, plavoie, "POST", vote, R"({"confirm":"LIVE"})");
  REQUIRE(released);
  INFO(released->body);
  REQUIRE(released->status == 200);
  CHECK(json::parse(released->body).at("status") == "approved");
  std::string correction =
      *query_strings(db, "SELECT id FROM alerts WHERE template = 'public-update'").begin();
  // Each language's message carries its own words, and only those.
  std::string fr, en;
  REQUIRE(wait_until(
      [&] {
        fr.clear();
        en.clear();
        for (const auto& l : server.outbox("websocket")) {
          if (l.find(correction) == std::string::npos) continue;
          (l.find("CORRECTION pour") != std::string::npos ? fr : en) += l;
        }
        return !fr.empty() && !en.empty();
      },
      10s));
  CHECK(fr.find("Évacuez par la rue Principale") != std::string::npos);
  CHECK(fr.find("Main Street") == std::string::npos);
  CHECK(en.find("CORRECTION for") != std::string::npos);
  CHECK(en.find("Evacuate by Main Street") != std::string::npos);
  CHECK(en.find("rue Principale") == std::string::npos);
  // The API shows both texts; the audit trail keeps them.
  auto alert = json::parse(server.get("/api/v1/alerts/" + correction)->body);
  CHECK(alert.at("alert").at("notes").at("en") == "Evacuate by Main Street");
  CHECK(server.get("/api/v1/audit")->body.find("Evacuate by Main Street") != std::string::npos);
}

TEST_CASE(
    "the public alerts page shows what stands, for a place, in both languages, cancelled in "
    "place, and a public session gets it at once",
    "[public][residents]") {
  TocsinServer server(shipped_with_outboxes());
  import_shipped_addresses(server);
  server.start();
  auto page = [&](const std::string& target) {
    auto r = http_request(server.http_port(), "GET", target, "", "", {});
    REQUIRE(r);
    return *r;
  };
  auto none = page("/alerts");
  CHECK(none.status == 200);
  CHECK(none.body.find("Aucune alerte publique n'est en vigueur / No public alert is in effect") !=
        std::string::npos);

  approve_live_flood(server);
  const std::string notify = *query_strings(server.database(),
                                            "SELECT id FROM alerts WHERE public = 1 AND kind = "
                                            "'notify'")
                                  .begin();
  // Both languages side by side where none is chosen, the area named in each, the times.
  auto both = page("/alerts");
  INFO(both.body);
  CHECK(both.status == 200);
  CHECK(both.headers["content-security-policy"].find("script-src 'self'") != std::string::npos);
  CHECK(both.body.find("<h2>Berges de la rivière des Prairies / ") != std::string::npos);
  CHECK(both.body.find("EN VIGUEUR / IN EFFECT") != std::string::npos);
  CHECK(both.body.find("<div lang=\"fr\">") != std::string::npos);
  CHECK(both.body.find("<div lang=\"en\">") != std::string::npos);
  CHECK(both.body.find("Émise le ") != std::string::npos);
  CHECK(both.body.find("In effect until ") != std::string::npos);
  auto english = page("/alerts?lang=en");
  CHECK(english.body.find("<html lang=\"en\"") != std::string::npos);
  CHECK(english.body.find("Issued ") != std::string::npos);
  CHECK(english.body.find("Émise le ") == std::string::npos);
  // For a place: an address by the river has it, one in the old port does not.
  CHECK(page("/alerts?lang=fr&q=801+gouin").body.find("EN VIGUEUR") != std::string::npos);
  auto old_port = page("/alerts?lang=fr&q=2411+saint-paul");
  CHECK(old_port.status == 200);
  CHECK(old_port.body.find("Aucune alerte publique n'est en vigueur pour ce lieu.") !=
        std::string::npos);
  auto nowhere = page("/alerts?lang=en&q=nowhere+street");
  CHECK(nowhere.status == 400);
  CHECK(nowhere.body.find("No address of the city matches.") != std::string::npos);
  CHECK(page("/alerts?zone=riverside").body.find("IN EFFECT") != std::string::npos);
  CHECK(page("/alerts?zone=old-port").body.find("IN EFFECT") == std::string::npos);

  // The same as JSON, for anyone.
  auto listed = json::parse(page("/api/v1/public/alerts").body).at("alerts").as_array();
  REQUIRE(listed.size() == 1);
  CHECK(listed[0].at("id") == json::value(notify));
  CHECK(listed[0].at("status") == "active");
  CHECK(listed[0].at("zones").at(0) == "riverside");
  CHECK(listed[0].at("text").as_object().contains("fr"));
  CHECK(listed[0].at("text").as_object().contains("en"));

  // A public WebSocket session opened now gets it at once, in its language.
  TempDir out_dir;
  const auto out = (out_dir.path() / "first.out").string();
  Process watch({"/usr/bin/python3", TOCSIN_SOURCE_DIR "/tests/support/ws_watch.py", "--url",
                 "ws://127.0.0.1:" + std::to_string(server.http_port()) + "/ws/public?lang=en",
                 "--timeout", "1", "--print-first"},
                out);
  REQUIRE(watch.wait(30s));
  const std::string first = read_file(out);
  INFO(first);
  auto snapshot = json::parse(first.substr(0, first.find('\n')));
  CHECK(snapshot.at("type") == "snapshot");
  REQUIRE(snapshot.at("alerts").as_array().size() == 1);
  CHECK(snapshot.at("alerts").at(0).at("id") == json::value(notify));
  CHECK(snapshot.at("alerts").at(0).at("text").as_object().size() == 1);  // English only
  CHECK(snapshot.at("alerts").at(0).at("text").as_object().contains("en"));

  // Cancelled: marked so in place, with when.
  REQUIRE(server.post("/api/v1/alerts/" + notify + "/cancel", "{}")->status == 201);
  REQUIRE(wait_until(
      [&] { return page("/alerts").body.find("ANNULÉE / CANCELLED") != std::string::npos; }, 15s));
  CHECK(page("/alerts?lang=fr").body.find("Annulée le ") != std::string::npos);
  CHECK(json::parse(page("/api/v1/public/alerts").body).at("alerts").at(0).at("status") ==
        "cancelled");
}
