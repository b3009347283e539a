// The monitoring tools a city runs, as sources, against the real ones: Debian's
// prometheus-alertmanager, configured with a webhook receiver pointing at Tocsin, as an IT team
// would set it up. Alerts posted to Alertmanager become incidents; their resolution resolves them.
#include <catch2/catch.hpp>

#include <fstream>

#include <boost/json.hpp>

#include "tests/support/http_client.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/tocsin_server.hpp"
#include "tests/support/wait.hpp"

namespace json = boost::json;

using namespace tocsin::test;
using namespace std::chrono_literals;

namespace {

// A real Alertmanager whose one receiver is Tocsin's webhook, sending the token from a file.
struct Alertmanager {
  TempDir dir;
  std::uint16_t port = free_tcp_port();
  Process process;

  // `pagerduty`: its receiver speaks PagerDuty's Events API v2 to Tocsin instead of the webhook.
  Alertmanager(std::uint16_t tocsin_port, const std::string& token, bool pagerduty = false) {
    std::ofstream(dir.path() / "token") << token;
    std::ofstream config(dir.path() / "alertmanager.yml");
    config << "route:\n  receiver: tocsin\n  group_by: [alertname]\n  group_wait: 1s\n"
              "  group_interval: 1s\n  repeat_interval: 1h\n"
              "receivers:\n  - name: tocsin\n";
    if (pagerduty)
      config << "    pagerduty_configs:\n      - url: http://127.0.0.1:" << tocsin_port
             << "/api/v1/integrations/pagerduty/enqueue\n        routing_key: " << token
             << "\n        source: pumping-station-7\n"
                "        severity: '{{ .CommonLabels.severity }}'\n"
                "        class: '{{ .CommonLabels.alertname }}'\n"
                "        send_resolved: true\n";
    else
      config << "    webhook_configs:\n      - url: http://127.0.0.1:" << tocsin_port
             << "/api/v1/integrations/alertmanager\n        send_resolved: true\n"
                "        http_config:\n          authorization:\n            credentials_file: "
             << (dir.path() / "token").string() << "\n";
    config.close();
    process = Process(
        {"prometheus-alertmanager", "--config.file=" + (dir.path() / "alertmanager.yml").string(),
         "--storage.path=" + (dir.path() / "data").string(),
         "--web.listen-address=127.0.0.1:" + std::to_string(port),
         "--cluster.listen-address=", "--log.level=debug"},
        (dir.path() / "alertmanager.log").string());
    bool ready = wait_until(
        [&] {
          auto r = http_request(port, "GET", "/-/ready");
          return r && r->status == 200;
        },
        20s);
    if (!ready) throw std::runtime_error("prometheus-alertmanager did not start");
  }
  ~Alertmanager() { process.kill_and_wait(); }

  // POST /api/v2/alerts, as Prometheus does.
  void post(const json::array& alerts) const {
    auto r = http_request(port, "POST", "/api/v2/alerts", json::serialize(alerts));
    REQUIRE(r);
    REQUIRE(r->status == 200);
  }
  std::string fingerprint(const std::string& alertname) const {
    auto r = http_request(port, "GET", "/api/v2/alerts?filter=alertname%3D%22" + alertname + "%22");
    REQUIRE(r);
    auto list = json::parse(r->body);
    REQUIRE(list.as_array().size() == 1);
    return std::string(list.as_array()[0].at("fingerprint").as_string());
  }
  std::string log() const {
    std::ifstream in(dir.path() / "alertmanager.log");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
};

std::string rfc3339(std::chrono::system_clock::time_point t) {
  auto secs = std::chrono::system_clock::to_time_t(t);
  char out[32];
  std::strftime(out, sizeof out, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&secs));
  return out;
}

// The incidents of a source, in a state.
json::array incidents(const TocsinServer& server, const std::string& state,
                      const std::string& source = "alertmanager") {
  auto r = server.get("/api/v1/incidents?state=" + state);
  REQUIRE(r);
  json::array out;
  auto all = json::parse(r->body);
  for (auto& i : all.at("incidents").as_array())
    if (i.at("source") == json::value(source)) out.push_back(i);
  return out;
}

}  // namespace

TEST_CASE(
    "alerts posted to a real Alertmanager become incidents, and their resolution resolves "
    "them",
    "[integrations]") {
  TocsinServer server;
  server.start();
  // The token Alertmanager sends: it may report as its own source only.
  auto made =
      server.post("/api/v1/tokens",
                  R"({"name":"alertmanager","scopes":["ingest"],"sources":["alertmanager"]})");
  REQUIRE(made);
  REQUIRE(made->status == 201);
  const std::string token(json::parse(made->body).at("token").as_string());
  Alertmanager am(server.http_port(), token);

  const auto now = std::chrono::system_clock::now();
  json::object alert{{"labels",
                      {{"alertname", "HighWaterLevel"},
                       {"severity", "critical"},
                       {"zone", "riverside"},
                       {"instance", "gauge-rdp-17"}}},
                     {"annotations",
                      {{"summary", "Rivière des Prairies above 4 m at Pie-IX"},
                       {"runbook_url", "https://wiki.ville.example/crue"}}},
                     {"startsAt", rfc3339(now - 30s)},
                     {"generatorURL", "http://prometheus.ville.example/graph"}};
  am.post(json::array{alert});

  json::array firing;
  bool arrived =
      wait_until([&] { return (firing = incidents(server, "active")).size() == 1; }, 30s);
  INFO(am.log());  // what Alertmanager did, if it did not arrive
  REQUIRE(arrived);
  const auto& i = firing[0];
  const std::string id(i.at("id").as_string());
  CHECK(i.at("type") == "monitoring.highwaterlevel");
  CHECK(i.at("severity") == "extreme");
  CHECK(i.at("location").at("zone") == "riverside");
  CHECK(i.at("headline") == "Rivière des Prairies above 4 m at Pie-IX");
  CHECK(i.at("attributes").at("label.instance") == "gauge-rdp-17");
  CHECK(i.at("attributes").at("annotation.runbook_url") == "https://wiki.ville.example/crue");
  CHECK(i.at("dedup_key").as_string() == am.fingerprint("HighWaterLevel"));

  // Resolved in Alertmanager (Prometheus sends the alert again, ended): resolved in Tocsin.
  alert["endsAt"] = rfc3339(now - 1s);
  am.post(json::array{alert});
  REQUIRE(wait_until([&] { return incidents(server, "resolved").size() == 1; }, 30s));
  CHECK(incidents(server, "active").empty());
  auto shown = json::parse(server.get("/api/v1/incidents/" + id)->body);
  bool resolved_by_token = false;
  for (const auto& e : shown.at("events").as_array())
    if (e.at("kind") == "resolved") resolved_by_token = e.at("actor") == "token:alertmanager";
  CHECK(resolved_by_token);
}

TEST_CASE(
    "Alertmanager's webhook refuses a token that may not report as its source, and a bad "
    "payload by its field",
    "[integrations]") {
  TocsinServer server;
  server.start();
  auto made = server.post("/api/v1/tokens",
                          R"({"name":"grafana","scopes":["ingest"],"sources":["grafana"]})");
  REQUIRE(made);
  const std::string token(json::parse(made->body).at("token").as_string());
  const std::string body =
      R"({"version":"4","status":"firing","alerts":[{"status":"firing","labels":)"
      R"({"alertname":"X"},"fingerprint":"abc"}]})";
  auto other = server.as_token(token, "POST", "/api/v1/integrations/alertmanager", body);
  REQUIRE(other);
  CHECK(other->status == 403);
  CHECK(json::parse(other->body).at("error").at("field") == "source");
  auto bad = server.post("/api/v1/integrations/alertmanager",
                         R"({"version":"4","alerts":[{"status":"firing","labels":{},)"
                         R"("fingerprint":"abc"}]})");
  REQUIRE(bad);
  CHECK(bad->status == 400);
  CHECK(json::parse(bad->body).at("error").at("field") == "alerts[0].labels.alertname");
  CHECK(incidents(server, "all").empty());
  // A resolution for an alert never seen changes nothing and is no error (Alertmanager would
  // only send it again).
  auto unknown = server.post("/api/v1/integrations/alertmanager",
                             R"({"version":"4","alerts":[{"status":"resolved","labels":)"
                             R"({"alertname":"X"},"fingerprint":"abc"}]})");
  REQUIRE(unknown);
  CHECK(unknown->status == 200);
  CHECK(json::parse(unknown->body).at("alerts").at(0).at("result") == "unknown");
}

TEST_CASE(
    "a real Alertmanager speaking PagerDuty's Events API v2 triggers and resolves an "
    "incident",
    "[integrations]") {
  TocsinServer server;
  server.start();
  auto made = server.post("/api/v1/tokens", R"({"name":"pumps","scopes":["ingest"],)"
                                            R"("sources":["pumping-station-*"]})");
  REQUIRE(made);
  REQUIRE(made->status == 201);
  const std::string token(json::parse(made->body).at("token").as_string());
  Alertmanager am(server.http_port(), token, true);
  const auto now = std::chrono::system_clock::now();
  json::object alert{{"labels", {{"alertname", "Pump Pressure Low"}, {"severity", "warning"}}},
                     {"annotations", {{"summary", "Pressure low at pumping station 7"}}},
                     {"startsAt", rfc3339(now - 30s)}};
  am.post(json::array{alert});
  json::array firing;
  bool arrived = wait_until(
      [&] { return (firing = incidents(server, "active", "pumping-station-7")).size() == 1; }, 30s);
  INFO(am.log());
  REQUIRE(arrived);
  CHECK(firing[0].at("type") == "monitoring.pump_pressure_low");
  CHECK(firing[0].at("severity") == "moderate");
  alert["endsAt"] = rfc3339(now - 1s);
  am.post(json::array{alert});
  REQUIRE(wait_until([&] { return incidents(server, "resolved", "pumping-station-7").size() == 1; },
                     30s));
}

TEST_CASE(
    "PagerDuty's documented events: a key made for a trigger without one, acknowledge, "
    "resolve, and refusals as PagerDuty words them",
    "[integrations]") {
  TocsinServer server;
  server.start();
  auto made = server.post("/api/v1/tokens", R"({"name":"nagios","scopes":["ingest"],)"
                                            R"("sources":["srv01.example.com"]})");
  REQUIRE(made);
  const std::string key(json::parse(made->body).at("token").as_string());
  auto enqueue = [&](const std::string& body) {
    auto r = http_request(server.http_port(), "POST", "/api/v1/integrations/pagerduty/enqueue",
                          body);  // no Authorization: the routing key is the credential
    REQUIRE(r);
    return std::make_pair(r->status, json::parse(r->body));
  };
  auto [status, answer] = enqueue(
      R"({"routing_key":")" + key +
      R"(","event_action":"trigger","payload":{"summary":"DISK CRITICAL - free space: / 3%",)"
      R"("source":"srv01.example.com","severity":"critical","timestamp":"2026-12-01T08:42:58.315+0000",)"
      R"("custom_details":{"free space":"3%","zone":"downtown"}}})");
  CHECK(status == 202);
  CHECK(answer.at("status") == "success");
  CHECK(answer.at("message") == "Event processed");
  const std::string dedup(answer.at("dedup_key").as_string());
  CHECK(dedup.size() == 26);  // made for it: a ULID
  auto active = incidents(server, "active", "srv01.example.com");
  REQUIRE(active.size() == 1);
  CHECK(active[0].at("severity") == "extreme");
  CHECK(active[0].at("location").at("zone") == "downtown");
  CHECK(active[0].at("dedup_key") == json::value(dedup));
  CHECK(active[0].at("occurred_at") == "2026-12-01T08:42:58.315Z");

  std::tie(status, answer) = enqueue(R"({"routing_key":")" + key + R"(","dedup_key":")" + dedup +
                                     R"(","event_action":"acknowledge"})");
  CHECK(status == 202);
  auto shown = json::parse(
      server.get("/api/v1/incidents/" + std::string(active[0].at("id").as_string()))->body);
  CHECK(shown.at("acknowledged_by") == "token:nagios");
  std::tie(status, answer) = enqueue(R"({"routing_key":")" + key + R"(","dedup_key":")" + dedup +
                                     R"(","event_action":"resolve"})");
  CHECK(status == 202);
  CHECK(incidents(server, "resolved", "srv01.example.com").size() == 1);
  // Resolving again: dropped, and accepted, as PagerDuty does.
  std::tie(status, answer) = enqueue(R"({"routing_key":")" + key + R"(","dedup_key":")" + dedup +
                                     R"(","event_action":"resolve"})");
  CHECK(status == 202);

  std::tie(status, answer) =
      enqueue(R"({"routing_key":")" + key +
              R"(","event_action":"trigger","payload":{"summary":"x","severity":"fatal"}})");
  CHECK(status == 400);
  CHECK(answer.at("status") == "invalid event");
  CHECK(answer.at("errors").as_array().size() == 2);
  CHECK(answer.at("error").at("field") == "payload.source");
  std::tie(status, answer) =
      enqueue(R"({"routing_key":"0000","event_action":"trigger","payload":{"summary":"x",)"
              R"("source":"srv01.example.com","severity":"info"}})");
  CHECK(status == 400);
  CHECK(answer.at("error").at("field") == "routing_key");
  std::tie(status, answer) =
      enqueue(R"({"routing_key":")" + key +
              R"(","event_action":"trigger","payload":{"summary":"x","source":"srv02.example.com",)"
              R"("severity":"info"}})");
  CHECK(status == 403);
  CHECK(answer.at("error").at("field") == "payload.source");
  CHECK(incidents(server, "all", "srv02.example.com").empty());
}
