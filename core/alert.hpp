#pragma once
// Alerts and deliveries: what a playbook asks to send, and each send to one recipient on one
// channel. Shared by the playbook engine (which makes alerts), the dispatcher (which turns them
// into deliveries) and the channels (which carry them).

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/fwd.hpp>

#include "core/incident.hpp"
#include "core/result.hpp"
#include "core/time.hpp"

namespace tocsin {

// Who an alert is for: staff by role, group or id, and residents (of the incident's area or of
// named zones).
struct Audience {
  std::vector<std::string> roles;
  std::vector<std::string> groups;
  std::vector<std::string> people;
  std::vector<std::string> on_call;         // schedules: whoever is on call when it is sent
  bool residents = false;                   // residents of…
  bool residents_incident_area = false;     // …the incident's area
  std::vector<std::string> resident_zones;  // …these zones
  // Residents who chose this category (resident_categories()); empty: every resident of the area.
  std::string resident_category;
  // Reaches every resident of the area whatever they chose (Canada's wireless public alerting:
  // a threat to life cannot be opted out of). Also true of a public alert whose incident is
  // extreme, decided when it is sent.
  bool life_threatening = false;

  bool empty() const {
    return roles.empty() && groups.empty() && people.empty() && on_call.empty() && !residents;
  }
  std::string describe() const;
};

// The categories a resident may choose (the sign-up page's, the import's, a step's `category`).
const std::vector<std::string>& resident_categories();

boost::json::object to_json(const Audience& a);
Audience audience_from_json(const boost::json::value& v);

// What a public alert reaches: recipients per channel, its area and its sirens. Shown to the
// approver and recorded with the approval; computed again at send time, and a difference fails
// closed. `problems` (the public-alert lint, bilingual parity) each block the send.
struct Reach {
  std::size_t step = 0;                           // the playbook step of the alert
  std::map<std::string, std::size_t> recipients;  // channel → deliveries
  std::vector<std::string> zones;                 // the area
  std::vector<std::string> sirens;                // controller ids
  std::vector<std::string> problems;

  bool same_reach(const Reach& o) const {
    return recipients == o.recipients && zones == o.zones && sirens == o.sirens;
  }
  std::string describe() const;  // "sms 120, websocket 2; zones riverside; sirens rdp-1"
};
boost::json::object to_json(const Reach& r);
Reach reach_from_json(const boost::json::value& v);

// An alert a playbook run made: a message for an audience on channels, or a siren pattern in
// zones.
struct Alert {
  std::string id;
  std::string incident_id;
  std::string run_id;
  std::string playbook_id;
  std::string kind;  // notify | siren | escalation
  Audience audience;
  std::vector<std::string> channels;
  std::string template_name;
  bool is_public = false;
  std::vector<std::string> zones;   // siren
  std::string pattern;              // siren
  std::chrono::seconds duration{};  // siren
  Timestamp created_at{};
  Status status = Status::actual;  // its incident's: anything else is an exercise, a test…
  bool allow_in_exercise = false;  // the step lets a non-actual alert reach the public
  std::size_t step = 0;            // the playbook step that made it
  std::chrono::seconds expires{};  // a public notify: how long after it is sent it stands
  std::optional<Reach> approved;   // what the approver approved it to reach
  std::string follow_up_of;        // a cancel or a correction: the public alert it follows
  std::string note;                // its text ({{note}} in the templates)…
  std::map<std::string, std::string> notes = {};  // …or that text per language (fr, en)

  // The coordinator's words for a reader of `language`.
  const std::string& note_in(const std::string& language) const {
    auto it = notes.find(language);
    return it == notes.end() ? note : it->second;
  }
};

enum class DeliveryState { queued, sending, sent, delivered, failed };
const char* to_string(DeliveryState s);
std::optional<DeliveryState> delivery_state_from(std::string_view s);

// Where one delivery goes: a person (or a resident, a siren controller, a feed) and their address
// on the delivery's channel.
struct Recipient {
  std::string id;        // person id, "public", controller id, endpoint name
  std::string address;   // E.164 phone, email address, person id for the console, ...
  std::string language;  // fr | en
};

// One send of one alert to one recipient on one channel. Its id is also its idempotency key:
// every attempt of a delivery carries it, so a provider (or a siren) can tell a repeat.
struct Delivery {
  std::string id;
  std::string alert_id;
  std::string incident_id;
  std::string channel;
  Recipient recipient;
  DeliveryState state = DeliveryState::queued;
  int attempts = 0;
  std::string last_error;
  std::string provider_ref;  // the provider's id for the message, once it has one
  std::string fallback_of;   // the delivery this one replaces on another channel
  Timestamp created_at{};
  Timestamp next_attempt_at{};
};

// The text a recipient gets, rendered from the alert's template in their language for one channel.
struct Message {
  std::string language;
  std::string subject;  // email
  std::string text;
  std::string html;      // email, optional
  std::string alphabet;  // sms: what the template declared ({{! alphabet: ucs2 }}); gsm if not
  std::string unsubscribe = {};  // email: this recipient's one-click unsubscribe URL (RFC 8058)
};

}  // namespace tocsin
