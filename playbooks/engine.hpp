#pragma once
// The run state machine: one run per (playbook, incident). Pure: it is given the run's state and
// an event, changes the state and says what must happen (alerts, approvals, resolving). The
// caller persists the state and the effects in one transaction and arms the timer for `due`.
// It knows no channel, no database and no clock of its own.

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/json/fwd.hpp>

#include "playbooks/playbook.hpp"

namespace tocsin::playbooks {

enum class RunStatus {
  running,            // between steps (never persisted)
  waiting,            // in a wait step, until `due` (or an acknowledgement)
  awaiting_approval,  // parked at require_approval, until enough approvals or `due`
  watching,           // at resolve_when, until an update satisfies it
  completed,          // every step done
  cancelled,          // the incident was resolved or cancelled, or an approval timed out
  rejected,           // an approver rejected the public step
};
std::string_view to_string(RunStatus s);
std::optional<RunStatus> parse_run_status(std::string_view s);
inline bool finished(RunStatus s) {
  return s == RunStatus::completed || s == RunStatus::cancelled || s == RunStatus::rejected;
}

struct RunState {
  std::size_t step = 0;  // the current step (== steps.size() when done)
  RunStatus status = RunStatus::running;
  std::optional<Timestamp> due;
  bool acknowledged = false;
  bool approved = false;
  bool severity_rose = false;
  Severity start_severity = Severity::unknown;
  std::string initiator;               // who the incident came from: never their own approver
  bool initiator_person = false;       // a signed-in person composed it (one of the two people)
  std::vector<std::string> approvers;  // for the current approval
  int escalations = 0;
  bool gathering = false;  // group_wait: waiting for the group's other incidents before step 1
  int repeats = 0;         // a notify with repeat: the pages sent again so far
};

boost::json::object to_json(const RunState& state);
RunState run_state_from_json(const boost::json::value& v);

struct Event {
  // escalate: a person asks not to wait (an SMS reply "1E"): a wait step ends at once, as if its
  // time were up, so a `when: not_acknowledged` escalation after it runs now.
  enum class Kind {
    start,
    timer,
    acknowledged,
    resolved,
    cancelled,
    updated,
    approve,
    reject,
    escalate
  };
  Kind kind;
  Timestamp at;
  std::string by;                       // a person id, or a source
  std::vector<std::string> roles = {};  // the roles of `by` (approve, reject)
  bool person = false;                  // start: `by` is a signed-in person (a composed alert)
  std::string reason = {};              // approve: why, for a break-glass release by one person
};

// What a notify, siren or escalation step asks for. The dispatcher turns it into deliveries.
struct AlertRequest {
  std::size_t step = 0;
  std::string kind;  // notify | siren | escalation
  Audience audience;
  std::vector<std::string> channels;
  std::string template_name;
  bool is_public = false;
  std::vector<std::string> zones;  // siren
  std::string pattern;             // siren
  Seconds duration{};              // siren
  bool allow_in_exercise = false;
  Seconds expires{};  // public notify
};

// The alert a notify or siren step makes (nullopt: the step makes none). The one mapping from a
// step to an alert: the engine uses it to run a step, the approval's preview to show what the
// steps after it would reach.
std::optional<AlertRequest> alert_request(const Step& step, std::size_t index);

struct ApprovalRequest {
  std::size_t step = 0;
  std::string role;
  int count = 1;  // the approvers it needs (two people release an actual public alert)
  bool distinct_from_initiator = true;
  Timestamp due{};
  bool break_glass = false;  // one approver releases it, with a written reason
};

// What the approval at `approval_step` must gather before the steps after it (up to the next
// approval) go out: two distinct people release an actual public alert or siren, counting the
// signed-in person who composed it, unless every such step says break_glass (then one approver
// may, writing why). The engine applies it; the parser checks playbooks against it beforehand.
struct Release {
  int approvers = 1;
  bool break_glass = false;  // the release is by one person: a reason, and a review after
};
Release release_for(const Playbook& playbook, std::size_t approval_step, const RunState& state,
                    const Incident& incident);

// A break-glass release: one approver's word, with their reason, to be reviewed.
struct BreakGlass {
  std::size_t step = 0;
  std::string by, reason;
};

// One thing a run did. `what` names it and `args` holds its particulars, so that a console can say
// it in its reader's language; `text` says it in English (dry runs, logs, and any older reader).
struct TimelineEntry {
  std::string what;      // e.g. "step.notify", "step.approved", "run.completed"
  std::size_t step = 0;  // the step it is about, counted from 1; 0 when none
  std::vector<std::pair<std::string, std::string>> args;
  std::string text;
};

struct Effects {
  std::vector<AlertRequest> alerts;
  std::optional<ApprovalRequest> approval_opened;
  std::optional<std::string> approval_closed;  // approved | rejected | expired | cancelled
  std::optional<BreakGlass> break_glass;       // the approval just closed was one
  bool resolve_incident = false;
  std::optional<std::string> refused;  // the event was not accepted (an approval by the initiator…)
  std::string refused_reason;          // its name: own_approval, missing_role, already_approved…
  std::vector<TimelineEntry> timeline;  // one entry per thing that happened
};

// Applies one event to a run. `incident` is the incident as it now stands.
Effects advance(const Playbook& playbook, RunState& state, const Event& event,
                const Incident& incident);

}  // namespace tocsin::playbooks
