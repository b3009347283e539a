// Alerts leaving the building: playbook alerts become deliveries, sent through the configured
// channels, counted in the API and in Redis, and resumed after a crash.

#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <set>

#include <boost/json.hpp>

#include "tests/support/fake_provider.hpp"
#include "tests/support/process.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/sensor_client.hpp"
#include "tests/support/smtp_server.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/tocsin_server.hpp"
#include "tests/support/wait.hpp"

using namespace tocsin::test;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

// The sms: section for the fake provider (token in TEST_SMS_TOKEN), falling back to email, with
// more keys (each "\n    key: value") at the end.
std::string twilio_sms_yaml(const FakeProvider& provider, const std::string& more = "") {
  return provider.sms_yaml("\n    fallback: email" + more);
}

// Read once the reports acknowledged so far have run their playbooks.
long long count(const TocsinServer& s, const std::string& sql) {
  REQUIRE(s.settled());
  return query_integer(s.database(), sql);
}

}  // namespace

TEST_CASE("a flood report reaches the duty officers by SMS, email and console, in their language") {
  RedisServer redis;
  ServerOptions options(redis.url());
  options.playbooks_dir = TOCSIN_SOURCE_DIR "/config/playbooks";
  options.extra_yaml = "city:\n  time_zone: America/Montreal\n";
  TocsinServer server(options);
  server.start();
  SensorClient client(server.zmq_endpoint());
  std::ifstream in(TOCSIN_SOURCE_DIR "/docs/examples/incidents/flood.json");
  std::string body((std::istreambuf_iterator<char>(in)), {});
  std::string id = accepted_id(client, body);

  // mgagnon prefers sms, email, console; jtremblay sms and console (config/people.yaml).
  REQUIRE(wait_until(
      [&] { return count(server, "SELECT count(*) FROM deliveries WHERE state = 'sent'") == 5; },
      10s));
  auto sms = server.outbox("sms");
  REQUIRE(sms.size() == 2);
  std::map<std::string, json::object> by_phone;
  for (const auto& line : sms) {
    auto o = json::parse(line).as_object();
    by_phone[std::string(o.at("to").as_string())] = o;
  }
  REQUIRE(by_phone.count("+15145550101"));
  const auto& marie = by_phone["+15145550101"];
  CHECK(marie.at("text").as_string() ==
        "Tocsin: crue riverside, niveau 4,3 m (grave). Accusez réception dans la console.");
  CHECK(marie.at("incident").as_string() == id);
  CHECK(marie.at("idempotency_key") == marie.at("delivery"));
  auto email = server.outbox("email");
  REQUIRE(email.size() == 1);
  auto mail = json::parse(email.front()).as_object();
  CHECK(mail.at("to").as_string() == "marie.gagnon@ville.example");
  CHECK(mail.at("subject").as_string() == "Crue Berges de la rivière des Prairies : niveau 4,3 m");
  // The report's time on the city's clock (10:40 UTC is 6:40 on Montréal's daylight time).
  CHECK(std::string(mail.at("text").as_string()).find("Signalé à : 12 avril 2026, 6 h 40\n") !=
        std::string::npos);
  CHECK(server.outbox("console").size() == 2);

  std::string alert_id = *query_strings(server.database(), "SELECT id FROM alerts").begin();
  auto r = server.get("/api/v1/alerts/" + alert_id);
  REQUIRE(r);
  REQUIRE(r->status == 200);
  auto alert = json::parse(r->body).at("alert");
  CHECK(alert.at("status").as_string() == "dispatched");
  CHECK(alert.at("delivery_counts").at("sent").as_int64() == 5);
  CHECK(alert.at("delivery_total").as_int64() == 5);
  CHECK(alert.at("deliveries").as_array().size() == 5);
  CHECK(wait_until([&] { return redis.hgetall("tocsin:alert:" + alert_id)["sent"] == "5"; }, 5s));

  auto metrics = server.get("/metrics");
  REQUIRE(metrics);
  CHECK(metrics->body.find("tocsin_delivery_sent_total{channel=\"sms\"} 2") != std::string::npos);
  CHECK(server.get("/api/v1/alerts/01ARZ3NDEKTSV4RRFFQ69G5FAV")->status == 404);
}

TEST_CASE("SIGKILL while deliveries are queued: after a restart every one is sent, none lost") {
  TempDir playbooks;
  std::ofstream(playbooks.path() / "bulk.yaml") << R"(id: bulk
match: { type: test.bulk }
steps:
  - notify: { audience: { roles: [duty-officer, approver, eoc-manager, hazmat-officer] }, channels: [sms, email], template: flood-staff }
)";
  ServerOptions options;
  options.playbooks_dir = playbooks.path().string();
  options.channels_yaml =
      "  sms: {provider: outbox, rate_per_second: 150, workers: 1}\n"
      "  email: {provider: outbox, rate_per_second: 150, workers: 1}\n";
  TocsinServer server(options);
  server.start();
  {
    SensorClient client(server.zmq_endpoint());
    for (int i = 0; i < 120; ++i)
      accepted_id(client, R"({"source":"bench","type":"test.bulk","severity":"severe",)"
                          R"("dedup_key":"bulk-)" +
                              std::to_string(i) + R"(","attributes":{"level_m":4.5}})");
  }
  REQUIRE(wait_until(
      [&] { return count(server, "SELECT count(*) FROM deliveries WHERE state = 'sent'") >= 50; },
      10s));
  server.kill9();
  long long total = count(server, "SELECT count(*) FROM deliveries");
  long long unfinished =
      count(server, "SELECT count(*) FROM deliveries WHERE state IN ('queued', 'sending')");
  long long pending_alerts = count(server, "SELECT count(*) FROM alerts WHERE status = 'pending'");
  INFO(total << " deliveries, " << unfinished << " unfinished, " << pending_alerts
             << " alerts not yet planned at the kill");
  CHECK(unfinished + pending_alerts * 5 >= 500);

  server.start();
  REQUIRE(wait_until(
      [&] {
        return count(server, "SELECT count(*) FROM alerts WHERE status = 'pending'") == 0 &&
               count(server, "SELECT count(*) FROM deliveries WHERE state != 'sent'") == 0;
      },
      30s));
  total = count(server, "SELECT count(*) FROM deliveries");
  CHECK(total >= 1000);
  // Every delivery reached the outbox at least once; a repeat carries the same delivery id (its
  // idempotency key), and only a delivery in flight at the kill can repeat.
  std::map<std::string, int> seen;
  for (const char* channel : {"sms", "email"})
    for (const auto& line : server.outbox(channel))
      ++seen[std::string(json::parse(line).at("idempotency_key").as_string())];
  auto ids = query_strings(server.database(), "SELECT id FROM deliveries");
  CHECK(seen.size() == ids.size());
  for (const auto& d : ids) CHECK(seen.count(d) == 1);
  int repeats = 0;
  for (const auto& [key, n] : seen) repeats += n - 1;
  // A repeat is a send whose `sent` had not committed at the kill: a few milliseconds of sends.
  CHECK(repeats <= 30);
}

TEST_CASE("SMS through the provider's API: a 429 is retried, receipts mark delivered or failed") {
  FakeProvider provider({{"+15145550101", {"429:1"}}, {"+15145550102", {"ok-undelivered"}}});
  TempDir playbooks;
  std::ofstream(playbooks.path() / "page.yaml") << R"(id: page
match: { type: test.page }
steps:
  - notify: { audience: { roles: [duty-officer] }, channels: [sms, email, webhook], template: flood-staff }
)";
  SmtpServer smtp(true, true);
  ServerOptions options;
  options.playbooks_dir = playbooks.path().string();
  options.env = {{"TEST_SMS_TOKEN", provider.token()}, {"TEST_HOOK_SECRET", "hook-secret"}};
  // The status callback URL needs the server's port, known once the server object exists: the
  // configuration names a placeholder port, rewritten below before start.
  options.channels_yaml =
      twilio_sms_yaml(provider,
                      "\n    status_callback: http://127.0.0.1:HTTP_PORT/api/v1/receipts/sms"
                      "\n    retry_initial: 1s") +
      "  webhook:\n    provider: http\n    url: " + provider.base_url() +
      "/hooks/tocsin\n    secret_env: TEST_HOOK_SECRET\n    ca_file: " + provider.ca_file() +
      "\n"
      "  email:\n    provider: smtp\n    url: " +
      smtp.url() +
      "\n    from: alertes@ville.example\n    starttls: required\n    ca_file: " + smtp.ca_file() +
      "\n";
  TocsinServer server(options);
  {
    std::ifstream in(server.config_file());
    std::string text((std::istreambuf_iterator<char>(in)), {});
    text.replace(text.find("HTTP_PORT"), 9, std::to_string(server.http_port()));
    std::ofstream(server.config_file()) << text;
  }
  server.start();
  SensorClient client(server.zmq_endpoint());
  accepted_id(client, R"({"source":"test","type":"test.page","severity":"severe",)"
                      R"("location":{"zone":"riverside"},"attributes":{"level_m":4.5}})");

  auto state_of = [&](const std::string& address) {
    auto s = query_strings(server.database(),
                           "SELECT state FROM deliveries WHERE address = '" + address + "'");
    return s.empty() ? std::string() : *s.begin();
  };
  REQUIRE(wait_until([&] { return state_of("+15145550101") == "delivered"; }, 15s));
  REQUIRE(wait_until([&] { return state_of("+15145550102") == "failed"; }, 15s));
  CHECK(count(server, "SELECT attempts FROM deliveries WHERE address = '+15145550101'") == 2);
  CHECK(*query_strings(server.database(),
                       "SELECT last_error FROM deliveries WHERE address = '+15145550102'")
             .begin() == "provider: undelivered (error 30003)");
  // The SMS the provider could not deliver goes by email instead (channels.sms.fallback).
  REQUIRE(wait_until([&] { return state_of("jean.tremblay@ville.example") == "sent"; }, 15s));
  CHECK(count(server,
              "SELECT count(*) FROM deliveries WHERE channel = 'email' AND fallback_of = "
              "(SELECT id FROM deliveries WHERE address = '+15145550102')") == 1);
  REQUIRE(
      wait_until([&] { return state_of(provider.base_url() + "/hooks/tocsin") == "sent"; }, 10s));

  // Marie also prefers email: it arrived over STARTTLS, in French.
  REQUIRE(wait_until([&] { return smtp.messages().size() == 2; }, 10s));
  auto mails = smtp.messages();
  auto mail = mails[0].at("headers").at("to").as_string() == "marie.gagnon@ville.example"
                  ? mails[0]
                  : mails[1];
  CHECK(mail.at("tls").as_bool());
  CHECK(mail.at("headers").at("to").as_string() == "marie.gagnon@ville.example");
  CHECK(mail.at("headers").at("subject").as_string() ==
        "Crue Berges de la rivière des Prairies : niveau 4,5 m");

  // Both attempts of the first SMS carried its delivery id; the token never shows in the log.
  std::set<std::string> keys;
  int to_marie = 0;
  for (const auto& r : provider.requests())
    if (r.contains("form") && r.at("form").at("To").as_string() == "+15145550101") {
      ++to_marie;
      keys.insert(std::string(r.at("headers").at("idempotency-key").as_string()));
    }
  CHECK(to_marie == 2);
  CHECK(keys.size() == 1);
  CHECK(server.log().find(provider.token()) == std::string::npos);

  // A forged receipt is refused and changes nothing.
  auto forged = server.post("/api/v1/receipts/sms",
                            "MessageSid=SM00000000000000000000000000000001&MessageStatus=failed",
                            "application/x-www-form-urlencoded");
  REQUIRE(forged);
  CHECK(forged->status == 403);
  CHECK(state_of("+15145550101") == "delivered");
  // A channel whose provider sends no receipts has no callback.
  auto no_receipts = server.post("/api/v1/receipts/email", "MessageSid=SM1&MessageStatus=failed",
                                 "application/x-www-form-urlencoded");
  REQUIRE(no_receipts);
  CHECK(no_receipts->status == 404);
  CHECK(no_receipts->body.find("channel 'email': no provider with receipts") != std::string::npos);

  // Each delivery's changes are in the audit chain: the dispatcher's (queued again after the 429,
  // sent), the provider's receipts (delivered, failed), the fallback to email; with whom they
  // were for, never their phone number or address.
  auto rows_for = [&](const std::string& address) {
    std::string id = *query_strings(server.database(),
                                    "SELECT id FROM deliveries WHERE address = '" + address + "'")
                          .begin();
    std::vector<std::string> out;
    for (const auto& r : query_strings(server.database(),
                                       "SELECT printf('%010d ', seq) || actor || ' ' || action "
                                       "FROM audit WHERE subject = '" +
                                           id + "'"))
      out.push_back(r.substr(11));  // in the chain's order
    return out;
  };
  // In this order (a receipt that overtakes "sent" may leave that row out: it then never happened).
  auto marie = rows_for("+15145550101");
  INFO(Catch::Detail::stringify(marie));
  auto at = marie.begin();
  for (const char* step : {"dispatcher delivery.sending", "dispatcher delivery.queued",
                           "dispatcher delivery.sending", "provider:sms delivery.delivered"}) {
    at = std::find(at, marie.end(), step);
    REQUIRE(at != marie.end());
    ++at;
  }
  auto failed = rows_for("+15145550102");
  REQUIRE(!failed.empty());
  CHECK(failed.back() == "provider:sms delivery.failed");
  CHECK(rows_for("jean.tremblay@ville.example").front() == "dispatcher delivery.queued");
  auto trail = server.get("/api/v1/audit?limit=1000")->body;
  CHECK(trail.find("\"action\":\"delivery.delivered\"") != std::string::npos);
  for (const char* address : {"+15145550101", "+15145550102", "jean.tremblay@ville.example"})
    CHECK(trail.find(address) == std::string::npos);
  // The auditor needs no provider's secret in their environment to verify the chain.
  auto verify =
      run_command({TOCSIN_BINARY, "audit", "verify", "--config", server.config_file()}, 20s);
  INFO(verify.output);
  CHECK(verify.exit_code == 0);
}

TEST_CASE(
    "a siren step sounds the controllers of its zone, and a dead controller raises siren.fault") {
  TempDir sim_dir;
  auto sim_port = free_tcp_port();
  Process sim({TOCSIN_BINARY, "siren-sim", "--listen", "127.0.0.1:" + std::to_string(sim_port)},
              (sim_dir.path() / "sim.log").string());
  REQUIRE(wait_for_port(sim_port, 10s));
  auto dead_port = free_tcp_port();  // nothing listens here

  TempDir playbooks;
  std::ofstream(playbooks.path() / "sirens.yaml") << R"(id: sirens
match: { type: test.sirens }
steps:
  - require_approval: { role: approver, count: 2, timeout: 15m }
  - siren: { zones: [riverside], pattern: wail, duration: 3m }
)";
  RedisServer redis;
  ServerOptions options(redis.url());
  options.playbooks_dir = playbooks.path().string();
  options.channels_yaml =
      "  siren:\n    provider: modbus\n    poll_interval: 1s\n    timeout: 1s\n"
      "    controllers:\n"
      "      - { id: rdp-1, endpoint: \"127.0.0.1:" +
      std::to_string(sim_port) +
      "\", zones: [riverside] }\n"
      "      - { id: port-2, endpoint: \"127.0.0.1:" +
      std::to_string(dead_port) + "\", zones: [old-port] }\n";
  TocsinServer server(options);
  server.start();
  SensorClient client(server.zmq_endpoint());
  accepted_id(client, R"({"source":"test","type":"test.sirens","severity":"extreme"})");
  REQUIRE(release_pending_approvals(server, 1));

  // Only rdp-1 covers riverside; the controller confirmed the command.
  REQUIRE(wait_until(
      [&] {
        return count(server, "SELECT count(*) FROM deliveries WHERE state = 'delivered'") == 1;
      },
      10s));
  CHECK(count(server, "SELECT count(*) FROM deliveries") == 1);
  CHECK(*query_strings(server.database(), "SELECT recipient FROM deliveries").begin() == "rdp-1");
  CHECK(wait_until([&] { return redis.hgetall("tocsin:siren:rdp-1")["sounding"] == "wail"; }, 5s));

  // port-2 never answers: one siren.fault incident, not one per poll.
  REQUIRE(wait_until(
      [&] {
        return count(server, "SELECT count(*) FROM incidents WHERE type = 'siren.fault'") == 1;
      },
      10s));
  CHECK(*query_strings(server.database(),
                       "SELECT dedup_key FROM incidents WHERE type = 'siren.fault'")
             .begin() == "siren.fault/port-2");
  CHECK(redis.hgetall("tocsin:siren:port-2")["reachable"] == "0");
  CHECK(wait_until([&] { return redis.hgetall("tocsin:siren:port-2")["polled_at"] != ""; }, 3s));
  CHECK(count(server, "SELECT updates FROM incidents WHERE type = 'siren.fault'") == 0);
}

TEST_CASE("end to end: the shipped flood playbook over real peers, from report to siren") {
  FakeProvider provider;
  SmtpServer smtp;
  TempDir sim_dir;
  auto sim_port = free_tcp_port();
  Process sim({TOCSIN_BINARY, "siren-sim", "--listen", "127.0.0.1:" + std::to_string(sim_port)},
              (sim_dir.path() / "sim.log").string());
  REQUIRE(wait_for_port(sim_port, 10s));

  ServerOptions options;
  options.playbooks_dir = TOCSIN_SOURCE_DIR "/config/playbooks";
  options.env = {{"TEST_SMS_TOKEN", provider.token()}};
  options.channels_yaml =
      twilio_sms_yaml(provider) + "  email:\n    provider: smtp\n    url: " + smtp.url() +
      "\n    from: alertes@ville.example\n    starttls: off\n"
      "  console: {provider: outbox}\n  websocket: {provider: live}\n  cap: {provider: outbox}\n"
      "  siren:\n    provider: modbus\n    controllers:\n      - { id: rdp-1, endpoint: "
      "\"127.0.0.1:" +
      std::to_string(sim_port) + "\", zones: [riverside] }\n";
  TocsinServer server(options);
  server.start();
  SensorClient client(server.zmq_endpoint());
  std::ifstream in(TOCSIN_SOURCE_DIR "/docs/examples/incidents/flood.json");
  std::string id = accepted_id(client, std::string((std::istreambuf_iterator<char>(in)), {}));

  auto in_state = [&](const std::string& channel, const std::string& state) {
    return count(server, "SELECT count(*) FROM deliveries WHERE channel = '" + channel +
                             "' AND state = '" + state + "'");
  };
  // Step 1: the duty officers, on their channels.
  REQUIRE(wait_until([&] { return in_state("sms", "sent") == 2 && in_state("email", "sent") == 1; },
                     15s));
  CHECK(provider.requests().size() == 2);
  REQUIRE(wait_until([&] { return smtp.messages().size() == 1; }, 10s));

  // Acknowledged: the escalation is skipped, the public alert waits for a second person.
  REQUIRE(server.post("/api/v1/incidents/" + id + "/ack", "{}")->status == 200);
  std::string approval;
  REQUIRE(wait_until(
      [&] {
        auto a = json::parse(server.get("/api/v1/approvals?state=pending")->body).at("approvals");
        if (a.as_array().empty()) return false;
        approval = std::string(a.as_array()[0].at("id").as_string());
        return true;
      },
      10s));
  CHECK(in_state("siren", "delivered") == 0);
  REQUIRE(approve_by_two(server, approval, signed_in_person(server, "swilliams"),
                         signed_in_person(server, "plavoie"))
              ->status == 200);

  // Approved: the public feed in each language and in both together, then the riverside siren,
  // confirmed.
  REQUIRE(wait_until([&] { return in_state("websocket", "sent") == 3; }, 10s));
  REQUIRE(wait_until([&] { return in_state("siren", "delivered") == 1; }, 10s));
  CHECK(count(server, "SELECT count(*) FROM deliveries WHERE state = 'failed'") == 0);
  CHECK(count(server, "SELECT count(*) FROM alerts WHERE status != 'dispatched'") == 0);
  // The public notify and the siren: both public, both after the approval.
  CHECK(count(server, "SELECT count(*) FROM alerts WHERE public = 1") == 2);

  // The board's view: the siren alert's controller and its state, the deliveries per channel,
  // and each zone's controllers as last polled (sounding the pattern it was sent).
  auto incident = json::parse(server.get("/api/v1/incidents/" + id)->body);
  bool siren_seen = false;
  for (const auto& a : incident.at("alerts").as_array()) {
    if (a.at("kind") == "siren") {
      siren_seen = true;
      CHECK(a.at("controllers").at(0).at("controller") == "rdp-1");
      CHECK(a.at("controllers").at(0).at("state") == "delivered");
      CHECK(a.at("channel_counts").at("siren").at("delivered") == 1);
    } else if (a.at("public") == true) {
      CHECK(a.at("channel_counts").at("websocket").at("sent") == 3);
    }
  }
  CHECK(siren_seen);
  REQUIRE(wait_until(
      [&] {
        auto z = json::parse(server.get("/api/v1/sirens")->body).at("zones").as_array();
        return z.size() == 1 && z[0].at("zone") == "riverside" &&
               z[0].at("controllers").at(0).at("id") == "rdp-1" &&
               z[0].at("controllers").at(0).at("polled") == true &&
               z[0].at("controllers").at(0).at("reachable") == true &&
               z[0].at("controllers").at(0).at("sounding") == "wail";
      },
      30s));
}
