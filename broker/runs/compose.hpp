#pragma once
// A manual alert composed in the console: a template sent to an audience on channels, in zones
// picked on the map, with sirens if asked. It becomes a one-off playbook (kept with its run like
// any other), so it goes through the same checks, the same two-person approval when public and
// the same dispatcher as a playbook's alert. A live public alert needs a typed confirmation.
//
// The request, as JSON:
//   {"template": "hazmat-shelter", "channels": ["sms", "websocket"],
//    "audience": {"groups": [], "roles": [], "people": [], "residents": true},
//    "zones": ["east-end"], "expires": "2h",
//    "siren": {"pattern": "hi-lo", "duration": "3m"},   (optional)
//    "confirm": "LIVE"}                                  (a live public alert: LIVE or RÉEL)

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include <boost/json/fwd.hpp>

#include "broker/runs/runs.hpp"
#include "core/alert.hpp"
#include "core/incident.hpp"
#include "core/result.hpp"
#include "dispatchers/public_lint.hpp"

namespace tocsin::compose {

constexpr std::size_t kMaxRequestBytes = 16 * 1024;

struct Request {
  std::string template_name;
  std::vector<std::string> channels;
  Audience audience;               // residents: of `zones`
  std::vector<std::string> zones;  // the area (residents, sirens)
  std::chrono::seconds expires{};  // a public alert
  std::string siren_pattern;       // empty: no sirens
  std::chrono::seconds siren_duration{};
  std::string confirm;
  // Its templates mark an exercise in their own words on every channel: only then does a
  // composed public alert about an exercise reach residents (as a playbook's would).
  bool exercise_marked = false;

  bool is_public() const { return audience.residents || !siren_pattern.empty(); }
};

// Checked against the playbook set's catalog; each error names its field.
Result<Request> parse(std::string_view body, const ActivePlaybooks& set);

// A live (actual) public alert is sent only once its composer typed the word.
bool needs_confirmation(const Request& r, Status incident_status);
bool confirmed(const Request& r);
// The words that confirm a live alert (a composed one, or an approval of one): LIVE, RÉEL, REEL.
bool is_live_word(std::string_view word);

// The one-off playbook: an approval by someone else first when public, then the notify, then
// the sirens.
std::string playbook_text(const Request& r, const std::string& by, Status incident_status);

// The one-off playbook checked like a playbook file: every problem (empty: it may run).
std::vector<std::string> check(const Request& r, const std::string& by, Status incident_status,
                               const ActivePlaybooks& set);

// The alerts its steps would make now (notify, then siren), for the preview.
std::vector<Alert> alerts(const Request& r, const IncidentRecord& incident);

// What the compose form offers: templates (with their channels), channels, groups, roles,
// people, zones (with their outlines for the map) and siren patterns.
boost::json::object options(const ActivePlaybooks& set,
                            const std::function<bool(const std::string&)>& has_channel);

// The previews of `alerts()` as the console shows them: each channel's text in French and
// English side by side (SMS with its segment count), the reach, and what would block it.
boost::json::object preview_json(const Request& r, const IncidentRecord& incident,
                                 const std::vector<dispatchers::AlertPreview>& previews);

}  // namespace tocsin::compose
