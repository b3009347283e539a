// Answering a page by SMS: each staff page by the provider's API ends with the code to reply with,
// numbered per person so that two pages at once stay apart; "1A" from the person's own number,
// posted by the provider's signed incoming-message webhook, acknowledges as them, and the webhook's
// TwiML answer says so. A second reply says it is done; an unknown number, a malformed reply, a
// stale code change nothing and get at most one help reply; a forged webhook is refused.

#include <catch2/catch.hpp>

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

TEST_CASE("replying 1A to a page acknowledges as its person, and nothing else does",
          "[oncall][sms]") {
  FakeProvider provider;
  TempDir dir;
  std::ofstream(dir.path() / "page.yaml") << R"(id: page
match: { type: test.* }
steps:
  - notify: { audience: { people: [mgagnon, swilliams] }, channels: [sms], template: flood-staff }
  - wait: { for: 1h, until: acknowledged }
  - when: not_acknowledged
    notify: { audience: { groups: [eoc-managers] }, channels: [sms], template: flood-staff-escalation }
)";
  ServerOptions options;
  options.playbooks_dir = dir.path().string();
  options.env = {{"TEST_SMS_TOKEN", provider.token()}};
  options.channels_yaml = provider.sms_yaml("\n    inbound_url: " + kInbound);
  TocsinServer server(options);
  server.start();
  auto report = [&](const std::string& type, const std::string& headline) {
    auto r =
        server.post("/api/v1/incidents", R"({"source":"tests","type":")" + type +
                                             R"(","severity":"severe","headline":")" + headline +
                                             R"(","location":{"zone":"riverside"}})");
    REQUIRE(r);
    REQUIRE(r->status == 201);
    auto v = json::parse(r->body);
    return std::string(v.at("id").as_string());
  };
  const std::string first = report("test.first", "Water main break");
  REQUIRE(wait_until([&] { return sent_to(provider, "+15145550103").size() == 1; }, 15s));
  const std::string second = report("test.second", "Gas smell downtown");
  REQUIRE(wait_until([&] { return sent_to(provider, "+15145550103").size() == 2; }, 15s));
  REQUIRE(wait_until([&] { return sent_to(provider, "+15145550101").size() == 2; }, 15s));

  // Two pages at once: 1 and 2, each in the reader's language.
  auto marie = sent_to(provider, "+15145550101");
  INFO(marie[0] << "\n--\n" << marie[1]);
  CHECK(marie[0].find("\nRépondez 1A pour confirmer") != std::string::npos);
  CHECK(marie[1].find("\nRépondez 2A pour confirmer") != std::string::npos);
  auto sarah = sent_to(provider, "+15145550103");
  CHECK(sarah[0].find("\nReply 1A to ack, 1E to escalate") != std::string::npos);
  CHECK(marie[0].find("\nRépondez 1A pour confirmer, 1E pour escalader") != std::string::npos);

  // Marie answers the second page: that incident, acknowledged as her; the first stays open.
  auto ack = reply(server, provider.token(), "+15145550101", " 2a ");
  REQUIRE(ack);
  CHECK(ack->status == 200);
  CHECK(ack->headers["content-type"] == "text/xml");
  CHECK(message_of(*ack) == "Tocsin : réception accusée, Gas smell downtown. Merci.");
  auto incident = [&](const std::string& id) {
    auto r = server.get("/api/v1/incidents/" + id);
    REQUIRE(r);
    return json::parse(r->body);
  };
  auto acked = incident(second);
  CHECK(acked.at("acknowledged_by") == "mgagnon");
  auto open = incident(first);
  CHECK_FALSE(open.as_object().contains("acknowledged_at"));
  CHECK(query_integer(server.database(),
                      "SELECT count(*) FROM audit WHERE action = 'incident.ack' AND actor = "
                      "'mgagnon' AND subject = '" +
                          second + "' AND detail LIKE '%SMS reply 2A%'") == 1);
  REQUIRE(wait_until(
      [&] {
        return query_integer(server.database(),
                             "SELECT count(*) FROM playbook_runs WHERE incident_id = '" + second +
                                 "' AND status = 'completed'") == 1;
      },
      15s));

  // Sarah's own 2A is the same incident: already done, by Marie.
  auto late = reply(server, provider.token(), "+15145550103", "2A");
  REQUIRE(late);
  CHECK(message_of(*late) == "Tocsin: already acknowledged by Marie Gagnon: Gas smell downtown");
  CHECK(query_integer(server.database(),
                      "SELECT count(*) FROM audit WHERE action = 'incident.ack'") == 1);

  // A forged webhook: refused, nothing changes.
  auto forged = reply(server, provider.token(), "+15145550101", "1A", true);
  REQUIRE(forged);
  CHECK(forged->status == 403);
  auto still = incident(first);
  CHECK_FALSE(still.as_object().contains("acknowledged_at"));

  // A number that is not staff's, a malformed reply, a code of no page: nothing changes, and at
  // most one help reply per number every 5 minutes.
  auto stranger = reply(server, provider.token(), "+15145559999", "1A");
  REQUIRE(stranger);
  CHECK(message_of(*stranger).find("not a staff member's") != std::string::npos);
  auto again = reply(server, provider.token(), "+15145559999", "1A");
  REQUIRE(again);
  CHECK(again->status == 200);
  CHECK(message_of(*again).empty());
  auto garbled = reply(server, provider.token(), "+15145550102", "yes ok");
  REQUIRE(garbled);
  CHECK(message_of(*garbled) == "Tocsin : répondez avec le code de l'avis, par exemple 1A.");
  auto quiet = reply(server, provider.token(), "+15145550102", "9A");
  REQUIRE(quiet);
  CHECK(message_of(*quiet).empty());  // a help reply 5 minutes ago already
  auto none = reply(server, provider.token(), "+15145550101", "7A");
  REQUIRE(none);
  CHECK(message_of(*none) == "Tocsin : aucun avis n° 7 pour vous.");
  auto first_still = incident(first);
  CHECK_FALSE(first_still.as_object().contains("acknowledged_at"));
  CHECK(query_integer(server.database(),
                      "SELECT count(*) FROM audit WHERE action = 'incident.ack'") == 1);

  // Sarah escalates the first now: its wait ends and the escalation goes at once.
  auto escalated = reply(server, provider.token(), "+15145550103", "1e");
  REQUIRE(escalated);
  CHECK(message_of(*escalated) == "Tocsin: escalated, Water main break.");
  REQUIRE(wait_until(
      [&] {
        return query_integer(server.database(),
                             "SELECT count(*) FROM alerts WHERE incident_id = '" + first + "'") ==
               2;
      },
      15s));
  CHECK(query_integer(server.database(),
                      "SELECT count(*) FROM audit WHERE action = 'incident.escalate' AND actor = "
                      "'swilliams' AND subject = '" +
                          first + "'") == 1);
  auto first_now = incident(first);
  CHECK_FALSE(first_now.as_object().contains("acknowledged_at"));

  // And 1A acknowledges it.
  auto one = reply(server, provider.token(), "+15145550101", "1A");
  REQUIRE(one);
  CHECK(message_of(*one) == "Tocsin : réception accusée, Water main break. Merci.");

  // Resolving takes an account that may operate: Sarah has none; Marie, an operator, resolves.
  auto no_account = reply(server, provider.token(), "+15145550103", "1R");
  REQUIRE(no_account);
  CHECK(message_of(*no_account) ==
        "Tocsin: resolving takes an operator's account; nothing changed.");
  auto open_still = incident(first);
  CHECK(open_still.at("state") == "active");
  server.add_user("mgagnon", "operator", "correct horse battery");
  auto resolved = reply(server, provider.token(), "+15145550101", "1R");
  REQUIRE(resolved);
  CHECK(message_of(*resolved) == "Tocsin : résolu, Water main break.");
  auto closed = incident(first);
  CHECK(closed.at("state") == "resolved");
}
