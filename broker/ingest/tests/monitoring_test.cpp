#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include "broker/ingest/monitoring.hpp"
#include "core/time.hpp"

using namespace tocsin;

namespace {

// Alertmanager's webhook body (version 4) around the given alerts.
std::string notification(const std::string& alerts) {
  return R"({"version":"4","groupKey":"{}:{alertname=\"HighWaterLevel\"}","truncatedAlerts":0,)"
         R"("status":"firing","receiver":"tocsin","groupLabels":{},"commonLabels":{},)"
         R"("commonAnnotations":{},"externalURL":"http://am:9093","alerts":[)" +
         alerts + "]}";
}

const char* kFiring =
    R"({"status":"firing","labels":{"alertname":"HighWaterLevel","severity":"critical",)"
    R"("zone":"riverside","instance":"gauge-rdp-17"},"annotations":{"summary":"Rivière des )"
    R"(Prairies above 4 m","description":"Level 4.4 m\nrising","runbook_url":"https://wiki/flood"},)"
    R"("startsAt":"2026-12-01T21:05:00.123456789Z","endsAt":"0001-01-01T00:00:00Z",)"
    R"("generatorURL":"http://prometheus/graph","fingerprint":"c6b3e6f5a1d2b7e8"})";

Error refusal(const std::string& body) {
  auto r = from_alertmanager(body, AlertmanagerMapping{}, IncidentLimits{});
  REQUIRE(!r);
  return r.error();
}

}  // namespace

TEST_CASE("a firing Alertmanager alert is a report: labels to type, severity, zone") {
  auto r = from_alertmanager(notification(kFiring), AlertmanagerMapping{}, IncidentLimits{});
  REQUIRE(r);
  REQUIRE(r->size() == 1);
  const auto& a = (*r)[0];
  CHECK_FALSE(a.resolved);
  CHECK(a.fingerprint == "c6b3e6f5a1d2b7e8");
  const Incident& i = a.report;
  CHECK(i.source == "alertmanager");
  CHECK(i.type == "monitoring.highwaterlevel");
  CHECK(i.severity == Severity::extreme);
  CHECK(i.location.zone == "riverside");
  CHECK(i.headline == "Rivière des Prairies above 4 m");
  CHECK(i.description == "Level 4.4 m\nrising");
  CHECK(i.dedup_key == "c6b3e6f5a1d2b7e8");
  CHECK(format_rfc3339(i.occurred_at) == "2026-12-01T21:05:00.123Z");
  CHECK(std::get<std::string>(i.attributes.at("label.instance")) == "gauge-rdp-17");
  CHECK(std::get<std::string>(i.attributes.at("annotation.runbook_url")) == "https://wiki/flood");
  CHECK(std::get<std::string>(i.attributes.at("generator_url")) == "http://prometheus/graph");
  CHECK(i.attributes.count("annotation.summary") == 0);  // it is the headline
}

TEST_CASE("the mapping is the configuration's: prefix, labels, severities") {
  AlertmanagerMapping m;
  m.source = "prometheus-eoc";
  m.type_prefix = "it";
  m.type_label = "service";
  m.severity_label = "priority";
  m.severities = {{"P1", "extreme"}};
  m.zone_label = "district";
  auto r = from_alertmanager(
      notification(R"({"status":"resolved","labels":{"alertname":"x","service":"Radio Link Down",)"
                   R"("priority":"P1","district":"east-end"},"fingerprint":"ab12"})"),
      m, IncidentLimits{});
  REQUIRE(r);
  const auto& a = (*r)[0];
  CHECK(a.resolved);
  CHECK(a.report.source == "prometheus-eoc");
  CHECK(a.report.type == "it.radio_link_down");
  CHECK(a.report.severity == Severity::extreme);
  CHECK(a.report.location.zone == "east-end");
  CHECK(a.report.headline == "Radio Link Down");  // no summary: the type's label
  // A severity the map does not name is unknown, not a refusal.
  auto other = from_alertmanager(
      notification(
          R"({"status":"firing","labels":{"service":"db","priority":"P9"},"fingerprint":"f"})"),
      m, IncidentLimits{});
  REQUIRE(other);
  CHECK((*other)[0].report.severity == Severity::unknown);
}

TEST_CASE("a label value too long is cut at a character, labels past the limit counted") {
  std::string labels = R"("alertname":"Disk","long":")";
  for (int i = 0; i < 600; ++i) labels += "é";  // 1200 bytes
  labels += "\"";
  for (int i = 0; i < 80; ++i) labels += ",\"l" + std::to_string(i) + "\":\"v\"";
  auto r = from_alertmanager(
      notification(R"({"status":"firing","labels":{)" + labels + R"(},"fingerprint":"aa"})"),
      AlertmanagerMapping{}, IncidentLimits{});
  REQUIRE(r);
  const auto& attrs = (*r)[0].report.attributes;
  CHECK(attrs.size() <= 64);
  const auto& cut = std::get<std::string>(attrs.at("label.long"));
  CHECK(cut.size() == 1024);  // 512 whole "é"
  CHECK(std::get<double>(attrs.at("labels_left_out")) > 0);
}

TEST_CASE("a refused notification names the alert and its field") {
  auto e = refusal(R"({"version":"3","alerts":[]})");
  CHECK(e.field == "version");
  e = refusal(R"({"version":"4"})");
  CHECK(e.field == "alerts");
  e = refusal(
      notification(std::string(kFiring) +
                   R"(,{"status":"pending","labels":{"alertname":"x"},"fingerprint":"b"})"));
  CHECK(e.field == "alerts[1].status");
  CHECK(e.message == "alerts[1].status: 'pending' is not firing or resolved");
  e = refusal(notification(R"({"status":"firing","labels":{"job":"x"},"fingerprint":"b"})"));
  CHECK(e.field == "alerts[0].labels.alertname");
  e = refusal(notification(R"({"status":"firing","labels":{"alertname":7},"fingerprint":"b"})"));
  CHECK(e.field == "alerts[0].labels.alertname");
  e = refusal(notification(R"({"status":"firing","labels":{"alertname":"x"}})"));
  CHECK(e.field == "alerts[0].fingerprint");
  // Through the report's own rules: a zone label that is no zone id.
  e = refusal(notification(
      R"({"status":"firing","labels":{"alertname":"x","zone":"old port"},"fingerprint":"b"})"));
  CHECK(e.field == "alerts[0].location.zone");
  CHECK(e.message.rfind("alerts[0] (as a report): location.zone:", 0) == 0);
  CHECK(refusal("[1,2]").code == "wrong_type");
  CHECK(refusal("{\"version\":").code == "not_json");
}

TEST_CASE("a label's value as a type word") {
  CHECK(type_word("HighWaterLevel") == "highwaterlevel");
  CHECK(type_word("Node Down!") == "node_down");
  CHECK(type_word("  --x--  ") == "--x--");
  CHECK(type_word("é") == "");
  CHECK(type_word(std::string(100, 'a')).size() == 64);
}

namespace {

Result<PagerDutyEvent> pagerduty(const std::string& body, std::vector<std::string>& problems) {
  return from_pagerduty(body, PagerDutyMapping{}, IncidentLimits{}, problems);
}

}  // namespace

TEST_CASE("PagerDuty's own trigger example is a report") {
  // The trigger payload of PagerDuty's developer documentation (Send an Alert Event).
  const char* example = R"({
    "payload": {
      "summary": "Example alert on host1.example.com",
      "timestamp": "2015-07-17T08:42:58.315+0000",
      "source": "monitoringtool:cloudvendor:central-region-dc-01:852559987:cluster/api-stats-prod-003",
      "severity": "info",
      "component": "postgres",
      "group": "prod-datapipe",
      "class": "deploy",
      "custom_details": { "ping time": "1500ms", "load avg": 0.75 }
    },
    "routing_key": "samplekeyhere",
    "dedup_key": "samplekeyhere",
    "images": [{ "src": "https://www.pagerduty.com/logo.png", "href": "https://example.com/", "alt": "Example text" }],
    "links": [{ "href": "https://example.com/", "text": "Link text" }],
    "event_action": "trigger",
    "client": "Sample Monitoring Service",
    "client_url": "https://monitoring.example.com"
  })";
  std::vector<std::string> problems;
  auto e = pagerduty(example, problems);
  REQUIRE(e);
  CHECK(problems.empty());
  CHECK(e->action == "trigger");
  CHECK(e->routing_key == "samplekeyhere");
  const Incident& i = e->report;
  CHECK(i.source ==
        "monitoringtool:cloudvendor:central-region-dc-01:852559987:cluster/api-stats-prod-003");
  CHECK(i.type == "monitoring.deploy");
  CHECK(i.severity == Severity::minor);
  CHECK(i.headline == "Example alert on host1.example.com");
  CHECK(i.dedup_key == "samplekeyhere");
  CHECK(format_rfc3339(i.occurred_at) == "2015-07-17T08:42:58.315Z");
  CHECK(std::get<std::string>(i.attributes.at("pagerduty.component")) == "postgres");
  CHECK(std::get<std::string>(i.attributes.at("detail.ping_time")) == "1500ms");
  CHECK(std::get<double>(i.attributes.at("detail.load_avg")) == 0.75);
}

TEST_CASE("PagerDuty's acknowledge and resolve name the alert by its dedup key") {
  std::vector<std::string> problems;
  auto ack = pagerduty(
      R"({"routing_key":"k","dedup_key":"srv01/HTTP","event_action":"acknowledge"})", problems);
  REQUIRE(ack);
  CHECK(ack->action == "acknowledge");
  CHECK(ack->dedup_key == "srv01/HTTP");
  auto none = pagerduty(R"({"routing_key":"k","event_action":"resolve"})", problems);
  REQUIRE(!none);
  CHECK(none.error().field == "dedup_key");
}

TEST_CASE("an invalid PagerDuty event lists every problem, each naming its field") {
  std::vector<std::string> problems;
  auto e = pagerduty(R"({"event_action":"trigger","payload":{"severity":"fatal"}})", problems);
  REQUIRE(!e);
  CHECK(e.error().field == "routing_key");
  CHECK(problems == std::vector<std::string>{
                        "routing_key: required (the integration key)", "payload.summary: required",
                        "payload.source: required",
                        "payload.severity: 'fatal' is not critical, error, warning or info"});
  problems.clear();
  auto zone = pagerduty(
      R"({"routing_key":"k","event_action":"trigger","payload":{"summary":"s","source":"x",)"
      R"("severity":"error","custom_details":{"zone":"old port"}}})",
      problems);
  REQUIRE(!zone);
  CHECK(zone.error().field == "payload");
  CHECK(problems.back().rfind("payload (as a report): location.zone:", 0) == 0);
}
