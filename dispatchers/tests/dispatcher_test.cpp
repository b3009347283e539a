#include <catch2/catch.hpp>

#include "dispatchers/stages.hpp"
#include "dispatchers/templates.hpp"
#include "dispatchers/tests/doubles.hpp"
#include "tests/support/wait.hpp"

using namespace tocsin;
using namespace tocsin::dispatchers;
using namespace std::chrono_literals;
using channels::Addressing;
using channels::SendResult;
using tocsin::test::wait_until;

namespace {

std::vector<Person> staff() {
  return {
      Person{"marie",
             "Marie",
             {"duty-officer"},
             {"eoc"},
             "+15145550101",
             "marie@ville.example",
             "fr",
             {"sms", "email"}},
      Person{"sarah",
             "Sarah",
             {"approver"},
             {"eoc"},
             "+15145550103",
             "sarah@ville.example",
             "en",
             {"email"}},
      Person{"jean", "Jean", {"duty-officer"}, {}, "+15145550102", "", "fr", {}},
      Person{"nobody", "Nobody", {"other"}, {}, "+15145550199", "", "en", {}},
  };
}

Alert alert_to(Audience audience, std::vector<std::string> channels) {
  Alert a;
  a.id = "01ALERT0000000000000000000";
  a.incident_id = "01INCIDENT0000000000000000";
  a.kind = "notify";
  a.audience = std::move(audience);
  a.channels = std::move(channels);
  a.template_name = "flood-staff";
  a.created_at = now();
  return a;
}

ChannelPolicy fast() {
  ChannelPolicy p;
  p.rate_per_second = 1000;
  p.burst = 1000;
  p.backoff_initial = 10ms;
  p.backoff_max = 50ms;
  p.breaker_cooldown = 50ms;
  return p;
}

struct World {
  std::shared_ptr<dispatchers::test::ScriptedChannel> sms =
      std::make_shared<dispatchers::test::ScriptedChannel>();
  std::shared_ptr<dispatchers::test::ScriptedChannel> email =
      std::make_shared<dispatchers::test::ScriptedChannel>();
  std::shared_ptr<dispatchers::test::ScriptedChannel> feed =
      std::make_shared<dispatchers::test::ScriptedChannel>();
  dispatchers::test::MemoryLedger ledger;
  dispatchers::test::FixedSources sources{staff()};
  std::unique_ptr<Dispatcher> dispatcher;

  explicit World(ChannelPolicy sms_policy = fast()) {
    std::vector<ChannelSetup> setups{
        {"sms", sms, sms_policy}, {"email", email, fast()}, {"websocket", feed, fast()}};
    dispatcher = std::make_unique<Dispatcher>(std::move(setups), ledger, sources, sources);
    dispatcher->start();
  }
  bool settled(std::size_t total) {
    return wait_until(
        [&] {
          auto rows = ledger.rows();
          return rows.size() == total && std::all_of(rows.begin(), rows.end(), [](auto& d) {
                   return d.state == DeliveryState::sent || d.state == DeliveryState::failed;
                 });
        },
        5000ms);
  }
};

}  // namespace

TEST_CASE("one delivery per recipient and channel, on the channels each person prefers") {
  World w;
  Audience a;
  a.roles = {"duty-officer"};
  a.people = {"sarah"};
  w.dispatcher->dispatch(alert_to(a, {"sms", "email", "websocket"}), IncidentRecord{});
  // marie: sms + email (prefers both); sarah: email only; jean: sms (no email address);
  // the public feed: one per language.
  REQUIRE(w.settled(6));
  auto rows = w.ledger.rows();
  std::multiset<std::string> got;
  for (const auto& d : rows) got.insert(d.recipient.id + ":" + d.channel);
  CHECK(got == std::multiset<std::string>{"marie:sms", "marie:email", "sarah:email", "jean:sms",
                                          "public:websocket", "public:websocket"});
  for (const auto& c : w.sms->calls()) {
    if (c.to == "+15145550101") CHECK(c.text == "flood-staff/sms/fr");
  }
  auto sarah = w.email->calls();
  CHECK(std::any_of(sarah.begin(), sarah.end(), [](auto& c) {
    return c.to == "sarah@ville.example" && c.text == "flood-staff/email/en";
  }));
}

TEST_CASE("a retryable failure is retried with the same delivery id until it is sent") {
  World w;
  w.sms->script({SendResult::retryable("http_5xx", "500 Internal Server Error"),
                 SendResult::retryable("timeout", "no answer in 10 s")});
  Audience a;
  a.people = {"jean"};
  w.dispatcher->dispatch(alert_to(a, {"sms"}), IncidentRecord{});
  REQUIRE(w.settled(1));
  auto calls = w.sms->calls();
  REQUIRE(calls.size() == 3);
  CHECK(calls[0].delivery_id == calls[2].delivery_id);  // the idempotency key is kept
  CHECK(calls[2].attempt == 3);
  auto d = w.ledger.rows().front();
  CHECK(d.state == DeliveryState::sent);
  CHECK(d.attempts == 3);
  CHECK(d.provider_ref == "ref-" + d.id);
}

TEST_CASE("after max_attempts a delivery fails visibly and falls back to email") {
  auto policy = fast();
  policy.max_attempts = 2;
  policy.fallback = "email";
  World w(policy);
  w.sms->script(
      {SendResult::retryable("http_5xx", "503"), SendResult::retryable("http_5xx", "503")});
  Audience a;
  a.people = {"marie"};
  w.dispatcher->dispatch(alert_to(a, {"sms"}), IncidentRecord{});
  REQUIRE(w.settled(2));
  CHECK(w.ledger.count(DeliveryState::failed, "sms") == 1);
  CHECK(w.ledger.count(DeliveryState::sent, "email") == 1);
  for (const auto& d : w.ledger.rows()) {
    if (d.channel == "sms") CHECK(d.last_error == "503 (gave up after 2 attempts)");
    if (d.channel == "email") {
      CHECK(!d.fallback_of.empty());
      CHECK(d.recipient.address == "marie@ville.example");
    }
  }
  REQUIRE(w.email->calls().size() == 1);
  CHECK(w.email->calls()[0].text == "flood-staff/email/fr");
}

TEST_CASE("a permanent failure is not retried, and an SMS over max_segments is never cut") {
  auto policy = fast();
  policy.max_segments = 1;
  policy.fallback = "email";
  World w(policy);
  w.sources.texts_["sms"] = std::string(200, 'a');  // 2 segments of GSM-7
  Audience a;
  a.people = {"marie"};
  w.dispatcher->dispatch(alert_to(a, {"sms"}), IncidentRecord{});
  REQUIRE(w.settled(2));
  CHECK(w.sms->calls().empty());  // never sent, not even cut short
  auto rows = w.ledger.rows();
  auto sms = std::find_if(rows.begin(), rows.end(), [](auto& d) { return d.channel == "sms"; });
  REQUIRE(sms != rows.end());
  CHECK(sms->state == DeliveryState::failed);
  CHECK(sms->last_error == "the text takes 2 SMS segments, over max_segments 1; it is not cut");
  CHECK(w.ledger.count(DeliveryState::sent, "email") == 1);
}

TEST_CASE("a provider's Retry-After is honoured as the least wait") {
  World w;
  w.sms->script({SendResult::retryable("http_429", "429 Too Many Requests", 300ms)});
  Audience a;
  a.people = {"jean"};
  auto started = std::chrono::steady_clock::now();
  w.dispatcher->dispatch(alert_to(a, {"sms"}), IncidentRecord{});
  REQUIRE(w.settled(1));
  CHECK(std::chrono::steady_clock::now() - started >= 300ms);
  CHECK(w.sms->calls().size() == 2);
}

TEST_CASE("circuit breaker: opens after the threshold, lets one trial through after the cooldown") {
  CircuitBreaker cb(3, 1s);
  auto t = Clock::now();
  for (int i = 0; i < 2; ++i) cb.failed(t);
  CHECK(!cb.admit(t));
  cb.failed(t);
  CHECK(cb.admit(t + 500ms) == t + 1s);
  CHECK(!cb.admit(t + 1s));  // the trial
  CHECK(cb.admit(t + 1s));   // only one at a time
  cb.failed(t + 1100ms);     // the trial failed: open again
  CHECK(cb.admit(t + 1200ms) == t + 2100ms);
  CHECK(!cb.admit(t + 2100ms));
  cb.succeeded();
  CHECK(cb.state() == CircuitBreaker::State::closed);
  CHECK(!cb.admit(t + 2100ms));
}

TEST_CASE("backoff doubles with jitter up to its cap") {
  Backoff b(100ms, 1000ms);
  for (int i = 0; i < 50; ++i) {
    auto d1 = b.delay(1, std::nullopt), d3 = b.delay(3, std::nullopt),
         d9 = b.delay(9, std::nullopt);
    CHECK(d1 >= 50ms);
    CHECK(d1 <= 100ms);
    CHECK(d3 >= 200ms);
    CHECK(d3 <= 400ms);
    CHECK(d9 >= 500ms);
    CHECK(d9 <= 1000ms);
  }
  CHECK(b.delay(1, 5000ms) == 5000ms);
}

TEST_CASE("an exercise alert that is public never gets a delivery unless its step allows it") {
  World w;
  Audience a;
  a.people = {"jean"};
  Alert drill = alert_to(a, {"sms", "websocket"});
  drill.is_public = true;
  drill.expires = 1h;
  drill.status = Status::exercise;
  IncidentRecord riverside;
  riverside.incident.location.zone = "riverside";
  w.dispatcher->dispatch(drill, riverside);
  Alert allowed = drill;
  allowed.id = "01ALERTALLOWED000000000000";
  allowed.allow_in_exercise = true;
  w.dispatcher->dispatch(allowed, riverside);
  REQUIRE(w.settled(3));  // jean by SMS, the public feed in two languages: the allowed alert only
  for (const auto& d : w.ledger.rows()) CHECK(d.alert_id == allowed.id);
}

TEST_CASE(
    "template lint: no drill wording in what a real alert shows, no 'not a drill' in a drill") {
  CHECK(!exercise_wording("ALERTE CRUE {{incident.zone_name}}"));
  CHECK(!exercise_wording("{{#exercise}}EXERCICE — {{/exercise}}ALERTE CRUE"));
  CHECK(*exercise_wording("Exercice de crue: évacuez") ==
        "exercise wording 'exercice' outside {{#exercise}}…{{/exercise}}: a real alert would "
        "carry it");
  CHECK(*exercise_wording("{{#exercise}}THIS IS NOT A DRILL{{/exercise}} Flood") ==
        "the exercise marking says 'not a drill'");
  CHECK(!exercise_wording("{{^exercise}}This is not a drill.{{/exercise}}"));
  CHECK(*exercise_wording("This is not a drill. Flood!") ==
        "'not a drill' outside {{^exercise}}…{{/exercise}}: an exercise would say it too");
}

namespace {

Alert public_alert(std::vector<std::string> channels) {
  Audience residents;
  residents.residents = true;
  residents.residents_incident_area = true;
  Alert a = alert_to(residents, std::move(channels));
  a.is_public = true;
  a.expires = 6h;
  return a;
}

IncidentRecord in_riverside() {
  IncidentRecord r;
  r.incident.headline = "Crue";
  r.incident.location.zone = "riverside";
  return r;
}

}  // namespace

TEST_CASE("a public alert in one language only, or without an expiry or an area, is blocked") {
  World w;
  w.sources.texts_["websocket"] = "ALERTE CRUE";  // French and English render the same
  auto same = public_alert({"websocket"});
  w.dispatcher->dispatch(same, in_riverside());
  REQUIRE(wait_until([&] { return w.ledger.blocked().size() == 1; }, 5000ms));
  w.sources.texts_.clear();
  Alert no_expiry = public_alert({"websocket"});
  no_expiry.id = "01ALERTNOEXPIRY00000000000";
  no_expiry.expires = 0s;
  w.dispatcher->dispatch(no_expiry, IncidentRecord{});
  REQUIRE(wait_until([&] { return w.ledger.blocked().size() == 2; }, 5000ms));
  auto blocked = w.ledger.blocked();
  CHECK(blocked.at(same.id) ==
        std::vector<std::string>{
            "messages.websocket: French and English render to the same text (one language is "
            "missing)"});
  CHECK(blocked.at(no_expiry.id) ==
        std::vector<std::string>{"expires: required for a public alert",
                                 "area: required for a public alert (a zone, a point or a "
                                 "polygon)"});
  CHECK(w.ledger.rows().empty());  // nothing sent, nothing queued
  CHECK(w.feed->calls().empty());
}

TEST_CASE("a public alert whose reach changed since its approval fails closed") {
  World w;
  auto a = public_alert({"websocket"});
  Reach approved = w.dispatcher->reach(a, in_riverside());
  CHECK(approved.problems.empty());
  CHECK(approved.recipients == std::map<std::string, std::size_t>{{"websocket", 2}});
  CHECK(approved.zones == std::vector<std::string>{"riverside"});
  // The feed now reaches a third audience (the bilingual page) that nobody approved.
  w.feed->broadcast.push_back(Recipient{"public", "feed", kBothLanguages});
  a.approved = approved;
  w.dispatcher->dispatch(a, in_riverside());
  REQUIRE(wait_until([&] { return w.ledger.blocked().size() == 1; }, 5000ms));
  CHECK(w.ledger.blocked().at(a.id) ==
        std::vector<std::string>{
            "reach: approved websocket 2; zones riverside, now websocket 3; zones riverside"});
  CHECK(w.feed->calls().empty());

  // Approved as it is now: it goes out, the bilingual page getting French then English.
  Alert again = public_alert({"websocket"});
  again.id = "01ALERTAGAIN00000000000000";
  again.approved = w.dispatcher->reach(again, in_riverside());
  w.dispatcher->dispatch(again, in_riverside());
  REQUIRE(w.settled(3));
  std::set<std::string> texts;
  for (const auto& c : w.feed->calls()) texts.insert(c.text);
  CHECK(texts == std::set<std::string>{"flood-staff/websocket/fr", "flood-staff/websocket/en",
                                       "flood-staff/websocket/fr\n\nflood-staff/websocket/en"});
}

TEST_CASE("the public-alert lint names each problem") {
  PublicDraft d;
  d.sent = from_unix_ms(1'800'000'000'000);
  d.expires = d.sent - 1min;
  d.onset = d.sent - 10min;
  d.headline = std::string(161, 'x');
  d.area = {"riverside"};
  d.max_segments = 1;
  d.messages["sms"]["fr"] = Message{"fr", "", "Montez à l’étage\x07", "", ""};
  d.messages["sms"]["en"] = Message{"en", "", std::string(200, 'a'), "", ""};
  d.messages["email"]["fr"] = Message{"fr", "Crue", "Texte", "", ""};
  d.messages["email"]["en"] = Message{"en", " ", "Text", "", ""};
  auto problems = lint_public_alert(d);
  std::vector<std::string> expected{
      "expires: 2027-01-15T08:00:00.000Z is not after the send time 2027-01-15T08:00:00.000Z",
      "onset: 2027-01-15T07:50:00.000Z is before the send time 2027-01-15T08:00:00.000Z",
      "headline: 161 characters, over the limit of 160",
      "messages.email.en: empty subject",
      "messages.email.fr: missing: a public alert goes out in French and English or not at all",
  };
  for (const auto& p : problems) INFO(p);
  CHECK(std::find(problems.begin(), problems.end(), expected[1]) != problems.end());
  CHECK(std::find(problems.begin(), problems.end(), expected[2]) != problems.end());
  CHECK(std::find(problems.begin(), problems.end(), expected[3]) != problems.end());
  auto has = [&](const std::string& needle) {
    return std::any_of(problems.begin(), problems.end(),
                       [&](const std::string& p) { return p.find(needle) != std::string::npos; });
  };
  CHECK(has("expires: "));
  CHECK(has("messages.sms.fr: control character U+0007"));
  CHECK(has("messages.sms.fr: typographic quote '’'"));
  CHECK(has("messages.sms.en: 2 SMS segments, over max_segments 1"));
  CHECK_FALSE(has("messages.sms.fr: 'é'"));  // é is in the GSM alphabet
  d.messages["sms"]["fr"].text = "Montez à l'étage, fenêtres fermées";
  auto outside = lint_public_alert(d);
  CHECK(std::any_of(outside.begin(), outside.end(), [](const auto& p) {
    return p == "messages.sms.fr: 'ê' is outside the GSM alphabet the template declared";
  }));
  d.messages["sms"]["fr"].alphabet = "ucs2";
  auto declared = lint_public_alert(d);
  CHECK(std::none_of(declared.begin(), declared.end(),
                     [](const auto& p) { return p.find("GSM alphabet") != std::string::npos; }));
}
