#pragma once
// The monitoring tools a city already runs, as sources: Prometheus Alertmanager's webhook
// (payload version 4) mapped to incident reports. Each alert becomes a report checked by the same
// parser as any other (core/incident.hpp), so a report from Alertmanager obeys every rule and
// limit a sensor's does; a refusal names the alert and its field.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/incident.hpp"
#include "core/result.hpp"

namespace tocsin {

// The monitoring tools' four severities (PagerDuty's, and the usual Prometheus labels) as CAP's.
inline std::map<std::string, std::string> default_severities() {
  return {{"critical", "extreme"}, {"error", "severe"}, {"warning", "moderate"}, {"info", "minor"}};
}

// How an alert's labels become an incident (integrations.alertmanager in tocsin.yaml).
struct AlertmanagerMapping {
  std::string source = "alertmanager";  // the incidents' source (the token must report as it)
  std::string type_prefix = "monitoring";
  std::string type_label = "alertname";  // type: PREFIX.<the label's value, in type words>
  std::string severity_label = "severity";
  // The severity label's values as CAP severities, one step each as PagerDuty's four are;
  // another value (or none): unknown.
  std::map<std::string, std::string> severities = default_severities();
  std::string zone_label = "zone";  // the incident's zone, when the alert has the label
};

struct MonitoringAlert {
  bool resolved = false;    // "resolved": the incident of its fingerprint is resolved
  std::string fingerprint;  // Alertmanager's: the incident's dedup key
  Incident report;          // for a firing alert
};

// The webhook's body: every alert mapped, or the first refusal with its path
// ("alerts[2].labels: …"). Labels and annotations become attributes (label.NAME,
// annotation.NAME; values longer than the limit cut at a character, past max_attributes left
// out and counted in labels_left_out); annotations.summary is the headline, description the
// description; startsAt when it occurred.
Result<std::vector<MonitoringAlert>> from_alertmanager(std::string_view body,
                                                       const AlertmanagerMapping& mapping,
                                                       const IncidentLimits& limits);

// How a PagerDuty Events API v2 event becomes an incident (integrations.pagerduty).
struct PagerDutyMapping {
  std::string type_prefix = "monitoring";  // type: PREFIX.<payload.class as a type word, or alert>
  std::map<std::string, std::string> severities = default_severities();
  std::string zone_field = "zone";  // payload.custom_details' field naming the incident's zone
};

struct PagerDutyEvent {
  std::string action;       // trigger, acknowledge, resolve
  std::string routing_key;  // the token it is sent with
  std::string dedup_key;    // as given; empty: a trigger without one (the caller makes one)
  Incident report;          // for a trigger
};

// An Events API v2 event (POST /v2/enqueue's body), or every problem found, each naming its
// field ("payload.severity: …"), as PagerDuty lists them in "errors".
Result<PagerDutyEvent> from_pagerduty(std::string_view body, const PagerDutyMapping& mapping,
                                      const IncidentLimits& limits,
                                      std::vector<std::string>& problems);

// A label's value as one word of a type ("HighWaterLevel" → "highwaterlevel", "Node Down" →
// "node_down"); empty if nothing is left.
std::string type_word(std::string_view value);

}  // namespace tocsin
