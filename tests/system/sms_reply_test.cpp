// Answering a page by SMS: each staff page by the provider's API ends with the code to reply with,
// numbered per person so that two pages at once stay apart; "1A" from the person's own number,
// posted by the provider's signed incoming-message webhook, acknowledges as them, and the webhook's
// TwiML answer says so. A second reply says it is done; an unknown number, a malformed reply, a
// stale code change nothing and get at most one help reply; a forged webhook is refused.

#include <catch2/catch.hpp>

#include <fstream>

#include <boost/json.hpp>

#include "tests/support/fake_provider.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/tocsin_server.hpp"
#include "tests/support/wait.hpp"

using namespace tocsin::test;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

const std::string kInbound = "https://alertes.ville.example/api/v1/inbound/sms";

// The SMS bodies the provider was asked to send to `to`, in order.
std::vector<std::string> sent_to(const FakeProvider& provider, const std::string& to) {
  std::vector<std::string> out;
  for (const auto& r : provider.requests())
    if (r.contains("form") && r.at("form").at("To").as_string() == to)
      out.emplace_back(r.at("form").at("Body").as_string());
  return out;
}

// What Twilio posts when `from` texts `body` to the service's number, signed as Twilio signs
// (HMAC-SHA1 over the webhook's URL and the sorted fields, by Python's hmac).
std::optional<HttpResponse> reply(const TocsinServer& server, const std::string& token,
                                  const std::string& from, const std::string& body,
                                  bool forged = false) {
  auto r = run_command({"/usr/bin/python3", "-c",
                        "import sys,hmac,hashlib,base64,urllib.parse\n"
                        "token,url,frm,body=sys.argv[1:5]\n"
                        "f={'From':frm,'To':'+15145550000','Body':body,'MessageSid':'SMinbound','"
                        "AccountSid':'ACtest'}\n"
                        "d=url+''.join(k+f[k] for k in sorted(f))\n"
                        "print(base64.b64encode(hmac.new(token.encode(),d.encode(),hashlib.sha1)."
                        "digest()).decode())\n"
                        "print(urllib.parse.urlencode(f))",
                        forged ? "not-the-token" : token, kInbound, from, body},
                       10s);
  REQUIRE(r.exit_code == 0);
  auto eol = r.output.find('\n');
  std::string signature = r.output.substr(0, eol);
  std::string form = r.output.substr(eol + 1);
  form.erase(form.find_last_not_of("\n") + 1);
  return http_request(server.http_port(), "POST", "/api/v1/inbound/sms", form,
                      "application/x-www-form-urlencoded", {{"X-Twilio-Signature", signature}});
}

// The text the provider would send back: the TwiML Message, its entities decoded.
std::string message_of(const HttpResponse& r) {
  auto at = r.body.find("<Message>");
  if (at == std::string::npos) return "";
  std::string text = r.body.substr(at + 9, r.body.find("</Message>") - at - 9);
  for (auto [entity, c] : {std::pair{"&#39;", "'"}, std::pair{"&quot;", "\""},
                           std::pair{"&lt;", "<"}, std::pair{"&gt;", ">"}, std::pair{"&amp;", "&"}})
    for (auto p = text.find(entity); p != std::string::npos; p = text.find(entity, p + 1))
      text.replace(p, std::string(entity).size(), c);
  return text;
}

}  // namespace

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
