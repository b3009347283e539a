#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include "fixtures.hpp"
#include "playbooks/engine.hpp"

using namespace tocsin;
using namespace tocsin::playbooks;
using namespace tocsin::playbooks::test;
using namespace std::chrono_literals;

namespace {

const char* kFlood = R"(id: flood
match: { type: flood.* }
steps:
  - notify: { audience: { roles: [duty-officer] }, channels: [sms], template: staff }
  - wait: { for: 10m, until: acknowledged }
  - when: not_acknowledged
    notify: { audience: { groups: [eoc-managers] }, channels: [sms], template: escalation }
  - require_approval: { role: approver, count: 2, timeout: 15m, on_timeout: escalate, escalate_to: { groups: [eoc-managers] }, escalate_channels: [sms], escalate_template: escalation, max_escalations: 1 }
  - notify: { audience: { residents: { area: incident } }, channels: [sms], template: public, public: true, expires: 6h }
  - siren: { zones: [riverside], pattern: wail, duration: 3m }
  - resolve_when: { attributes: { level_m: { "<": 3.5 } } }
)";

struct Run {
  Playbook p = parse_one(kFlood);
  Incident inc = incident(
      R"({"source":"gauge-1","type":"flood.level","severity":"moderate","attributes":{"level_m":4.2}})");
  RunState s;
  Timestamp t0 = inc.received_at;

  Effects at(std::chrono::seconds d, Event::Kind k, std::string by = "",
             std::vector<std::string> roles = {}) {
    return advance(p, s, Event{k, t0 + d, std::move(by), std::move(roles)}, inc);
  }
};

}  // namespace

TEST_CASE("a run notifies, then waits for an acknowledgement until its due time") {
  Run r;
  auto fx = r.at(0s, Event::Kind::start, "gauge-1");
  REQUIRE(fx.alerts.size() == 1);
  CHECK(fx.alerts[0].template_name == "staff");
  CHECK(r.s.status == RunStatus::waiting);
  CHECK(r.s.due == r.t0 + 10min);
  CHECK(r.s.initiator == "gauge-1");

  // An early timer (a stale one) does nothing.
  auto early = r.at(5min, Event::Kind::timer);
  CHECK(early.refused == "not due");
  CHECK(r.s.status == RunStatus::waiting);

  // No acknowledgement: the escalation goes out and the approval opens.
  auto due = r.at(10min, Event::Kind::timer);
  REQUIRE(due.alerts.size() == 1);
  CHECK(due.alerts[0].template_name == "escalation");
  REQUIRE(due.approval_opened);
  CHECK(due.approval_opened->role == "approver");
  CHECK(r.s.status == RunStatus::awaiting_approval);
  CHECK(r.s.due == r.t0 + 25min);
}

TEST_CASE("an acknowledgement ends the wait and cancels the escalation step") {
  Run r;
  r.at(0s, Event::Kind::start, "gauge-1");
  auto fx = r.at(3min, Event::Kind::acknowledged, "mgagnon");
  CHECK(fx.alerts.empty());  // the not_acknowledged escalation is skipped
  CHECK(r.s.acknowledged);
  CHECK(r.s.status == RunStatus::awaiting_approval);
  CHECK(r.s.due == r.t0 + 3min + 15min);
  // The wait's old due time arrives: a stale timer.
  CHECK(r.at(10min, Event::Kind::timer).refused == "not due");
}

TEST_CASE("an escalation asked for ends the wait now, and the escalation step runs") {
  Run r;
  r.at(0s, Event::Kind::start, "gauge-1");
  auto fx = r.at(2min, Event::Kind::escalate, "mgagnon");
  REQUIRE(fx.alerts.size() == 1);  // the not_acknowledged notify, at once
  CHECK(fx.alerts[0].template_name == "escalation");
  CHECK(fx.timeline.front().what == "step.escalated_now");
  CHECK(r.s.status == RunStatus::awaiting_approval);
  // Nothing more to cut short: an approval is not a wait.
  CHECK(r.at(3min, Event::Kind::escalate, "mgagnon").refused == "not waiting");
  CHECK(r.at(10min, Event::Kind::timer).refused == "not due");
}

TEST_CASE("a notify with repeat pages again until acknowledged, then the run goes on") {
  Playbook p = parse_one(R"(id: page
match: { type: flood.* }
steps:
  - notify: { audience: { roles: [duty-officer] }, channels: [sms], template: staff, repeat: { every: 5m, times: 2 } }
  - notify: { audience: { groups: [eoc-managers] }, channels: [sms], template: escalation }
)");
  Incident inc = incident(R"({"source":"g","type":"flood.level","severity":"severe"})");
  const Timestamp t0 = inc.received_at;
  auto at = [&](RunState& s, std::chrono::seconds d, Event::Kind k) {
    return advance(p, s, Event{k, t0 + d, "mgagnon", {}}, inc);
  };
  // Nobody answers: the page twice more, 5 minutes apart, then the next step.
  RunState quiet;
  CHECK(at(quiet, 0s, Event::Kind::start).alerts.size() == 1);
  CHECK(quiet.status == RunStatus::waiting);
  CHECK(quiet.due == t0 + 5min);
  auto again = at(quiet, 5min, Event::Kind::timer);
  REQUIRE(again.alerts.size() == 1);
  CHECK(again.alerts[0].template_name == "staff");
  CHECK(again.timeline.front().what == "step.repeated");
  CHECK(quiet.due == t0 + 10min);
  auto last = at(quiet, 10min, Event::Kind::timer);
  REQUIRE(last.alerts.size() == 2);  // the second repeat, then step 2's notify
  CHECK(last.alerts[1].template_name == "escalation");
  CHECK(quiet.status == RunStatus::completed);
  // Survives the database: the count is in the state.
  CHECK(run_state_from_json(to_json(quiet)).repeats == 2);

  // Acknowledged after the first page: no more pages, and on at once.
  RunState answered;
  at(answered, 0s, Event::Kind::start);
  auto ack = at(answered, 2min, Event::Kind::acknowledged);
  REQUIRE(ack.alerts.size() == 1);
  CHECK(ack.alerts[0].template_name == "escalation");
  CHECK(answered.status == RunStatus::completed);
  CHECK(at(answered, 5min, Event::Kind::timer).refused);
}

TEST_CASE("approvals: the initiator and the wrong role are refused, an approver proceeds") {
  Run r;
  r.at(0s, Event::Kind::start, "mgagnon");  // a person reported it
  r.at(1min, Event::Kind::acknowledged, "jtremblay");
  REQUIRE(r.s.status == RunStatus::awaiting_approval);

  auto own = r.at(2min, Event::Kind::approve, "mgagnon", {"approver"});
  CHECK(own.refused == "mgagnon initiated this incident and cannot approve their own alert");
  CHECK(own.refused_reason == "own_approval");  // named, for the console to say in its language
  auto role = r.at(2min, Event::Kind::approve, "jtremblay", {"duty-officer"});
  CHECK(role.refused == "jtremblay does not have the role approver");
  CHECK(role.refused_reason == "missing_role");
  CHECK(r.s.status == RunStatus::awaiting_approval);

  auto first = r.at(3min, Event::Kind::approve, "swilliams", {"approver"});
  CHECK_FALSE(first.refused);
  // The history names what happened and its particulars, as well as saying it in English.
  REQUIRE_FALSE(first.timeline.empty());
  const auto& approved = first.timeline.front();
  CHECK(approved.what == "step.approved");
  CHECK(approved.step == 4);
  CHECK(approved.text == "step 4: approved by swilliams (1/2)");
  using Arg = std::pair<std::string, std::string>;
  CHECK(approved.args == std::vector<Arg>{{"by", "swilliams"}, {"count", "1"}, {"of", "2"}});
  CHECK_FALSE(first.approval_closed);
  CHECK(first.alerts.empty());
  auto again = r.at(3min, Event::Kind::approve, "swilliams", {"approver"});
  CHECK(again.refused_reason == "already_approved");

  auto ok = r.at(4min, Event::Kind::approve, "plavoie", {"approver"});
  CHECK_FALSE(ok.refused);
  CHECK(ok.approval_closed == "approved");
  CHECK_FALSE(ok.break_glass);
  REQUIRE(ok.alerts.size() == 2);
  CHECK(ok.alerts[0].is_public);
  CHECK(ok.alerts[1].kind == "siren");
  CHECK(ok.alerts[1].zones == std::vector<std::string>{"riverside"});
  CHECK(r.s.status == RunStatus::watching);
}

TEST_CASE("a rejection stops the run: nothing public goes out") {
  Run r;
  r.at(0s, Event::Kind::start, "gauge-1");
  r.at(1min, Event::Kind::acknowledged, "mgagnon");
  auto fx = r.at(2min, Event::Kind::reject, "swilliams", {"approver"});
  CHECK(fx.approval_closed == "rejected");
  CHECK(fx.alerts.empty());
  CHECK(r.s.status == RunStatus::rejected);
  CHECK(r.at(3min, Event::Kind::approve, "plavoie", {"approver"}).refused == "the run is rejected");
}

TEST_CASE("an approval timeout escalates, then expires") {
  Run r;
  r.at(0s, Event::Kind::start, "gauge-1");
  r.at(1min, Event::Kind::acknowledged, "mgagnon");
  auto first = r.at(16min, Event::Kind::timer);
  REQUIRE(first.alerts.size() == 1);
  CHECK(first.alerts[0].kind == "escalation");
  CHECK(r.s.status == RunStatus::awaiting_approval);
  auto second = r.at(31min, Event::Kind::timer);
  CHECK(second.alerts.empty());
  CHECK(second.approval_closed == "expired");
  CHECK(r.s.status == RunStatus::cancelled);
}

TEST_CASE("resolve_when resolves the incident on an update that satisfies it") {
  Run r;
  r.at(0s, Event::Kind::start, "gauge-1");
  r.at(1min, Event::Kind::acknowledged, "mgagnon");
  r.at(2min, Event::Kind::approve, "swilliams", {"approver"});
  r.at(2min, Event::Kind::approve, "plavoie", {"approver"});
  REQUIRE(r.s.status == RunStatus::watching);
  r.inc.attributes["level_m"] = 3.8;
  CHECK_FALSE(r.at(30min, Event::Kind::updated).resolve_incident);
  r.inc.attributes["level_m"] = 3.2;
  r.inc.severity = Severity::minor;
  auto fx = r.at(60min, Event::Kind::updated);
  CHECK(fx.resolve_incident);
  CHECK(r.s.status == RunStatus::completed);
}

TEST_CASE("resolving or cancelling the incident cancels the run") {
  Run r;
  r.at(0s, Event::Kind::start, "gauge-1");
  auto fx = r.at(1min, Event::Kind::cancelled, "mgagnon");
  CHECK(r.s.status == RunStatus::cancelled);
  CHECK_FALSE(r.s.due);
  CHECK(r.at(10min, Event::Kind::timer).refused == "the run is cancelled");
}

TEST_CASE("run state survives a JSON round trip (what SQLite keeps)") {
  Run r;
  r.at(0s, Event::Kind::start, "gauge-1");
  r.at(1min, Event::Kind::acknowledged, "mgagnon");
  r.at(2min, Event::Kind::approve, "swilliams", {"approver"});
  r.at(2min, Event::Kind::approve, "plavoie", {"approver"});
  auto copy = run_state_from_json(boost::json::value(to_json(r.s)));
  CHECK(copy.step == r.s.step);
  CHECK(copy.status == r.s.status);
  CHECK(copy.acknowledged);
  CHECK(copy.approved);
  CHECK(copy.approvers == std::vector<std::string>{"swilliams", "plavoie"});
  CHECK_FALSE(copy.initiator_person);
  CHECK(copy.initiator == "gauge-1");
  CHECK(copy.due == r.s.due);
}

TEST_CASE("group_wait: a grouped run gathers first, and an acknowledgement does not skip it") {
  Run r;
  r.p = parse_one(std::string(kFlood).replace(std::string(kFlood).find("steps:"), 6,
                                              "group_by: zone\ngroup_wait: 30s\nsteps:"));
  REQUIRE(r.p.group_by == std::vector<std::string>{"zone"});
  auto fx = r.at(0s, Event::Kind::start, "gauge-1");
  CHECK(fx.alerts.empty());
  CHECK(r.s.gathering);
  CHECK(r.s.status == RunStatus::waiting);
  CHECK(r.s.due == r.t0 + 30s);
  CHECK(r.at(10s, Event::Kind::acknowledged, "mgagnon").alerts.empty());
  CHECK(r.s.status == RunStatus::waiting);
  // The state survives a restart mid-gathering.
  r.s = run_state_from_json(to_json(r.s));
  CHECK(r.s.gathering);
  auto due = r.at(30s, Event::Kind::timer);
  REQUIRE(due.alerts.size() == 1);  // the page; the acknowledged wait is skipped
  CHECK(due.alerts[0].template_name == "staff");
  CHECK_FALSE(r.s.gathering);
  CHECK(r.s.status == RunStatus::awaiting_approval);
}

namespace {
// A run of a playbook as an open run keeps it (Origin::stored: not checked for the two-person
// rule at load, so that a version from before the rule still runs, and is held to it here).
struct Stored {
  Playbook p;
  Incident inc = incident(R"({"source":"gauge-1","type":"flood.level","severity":"severe"})");
  RunState s;
  Effects at(Event e) {
    e.at = inc.received_at + 1min;
    return advance(p, s, e, inc);
  }
  explicit Stored(const std::string& steps) {
    auto set = parse_playbook("id: old\nmatch: { type: flood.* }\nsteps:\n" + steps, "run:x",
                              test_catalog(), Origin::stored);
    INFO((set.errors.empty() ? std::string() : set.errors.front()));
    REQUIRE(set.ok());
    p = set.playbooks.front();
  }
};
const std::string kPublicStep =
    "  - notify: { audience: { residents: { area: incident } }, channels: [sms], template: "
    "public, public: true, expires: 6h";
const std::string kOneApprover = "  - require_approval: { role: approver, timeout: 15m }\n";
}  // namespace

TEST_CASE("a sensor's live public alert needs two approvers, whatever the approval's count says") {
  Stored r(kOneApprover + kPublicStep + " }\n");
  r.at({Event::Kind::start, {}, "gauge-1"});
  auto opened = r.at({Event::Kind::timer, {}, ""});  // nothing due: still awaiting
  REQUIRE(r.s.status == RunStatus::awaiting_approval);
  auto first = r.at({Event::Kind::approve, {}, "swilliams", {"approver"}});
  CHECK_FALSE(first.refused);
  CHECK_FALSE(first.approval_closed);
  CHECK(first.alerts.empty());
  auto second = r.at({Event::Kind::approve, {}, "plavoie", {"approver"}});
  CHECK(second.approval_closed == "approved");
  REQUIRE(second.alerts.size() == 1);
  CHECK(second.alerts[0].is_public);

  // An exercise keeps its playbook's count: one approver releases the drill.
  Stored drill(kOneApprover + kPublicStep + ", allow_in_exercise: true }\n");
  drill.inc.status = Status::exercise;
  drill.at({Event::Kind::start, {}, "gauge-1"});
  auto drilled = drill.at({Event::Kind::approve, {}, "swilliams", {"approver"}});
  CHECK(drilled.approval_closed == "approved");
  CHECK(drilled.alerts.size() == 1);
}

TEST_CASE("a live public step with no approval before it is held back, not sent") {
  Stored r(kPublicStep + " }\n  - siren: { zones: [riverside], pattern: wail, duration: 1m }\n");
  auto fx = r.at({Event::Kind::start, {}, "gauge-1"});
  CHECK(fx.alerts.empty());
  REQUIRE(fx.timeline.size() >= 3);
  CHECK(fx.timeline[1].what == "step.unreleased");
  CHECK(fx.timeline[2].what == "step.unreleased");
  CHECK(r.s.status == RunStatus::completed);
}

TEST_CASE("break glass: one approver releases it, with a written reason, and it is to review") {
  Stored r(kOneApprover + kPublicStep + ", break_glass: true }\n");
  auto started = r.at({Event::Kind::start, {}, "gauge-1"});
  REQUIRE(started.approval_opened);
  CHECK(started.approval_opened->count == 1);
  CHECK(started.approval_opened->break_glass);
  Event bare{Event::Kind::approve, {}, "swilliams", {"approver"}};
  bare.reason = "   urgent   ";  // spaces do not make a reason
  auto refused = r.at(bare);
  CHECK(refused.refused_reason == "reason_required");
  CHECK(r.s.approvers.empty());
  Event written = bare;
  written.reason = "chlorine cloud moving toward the school, no second approver reachable";
  auto ok = r.at(written);
  CHECK(ok.approval_closed == "approved");
  REQUIRE(ok.break_glass);
  CHECK(ok.break_glass->by == "swilliams");
  CHECK(ok.break_glass->reason == written.reason);
  CHECK(ok.alerts.size() == 1);
}

TEST_CASE("a composed alert: its signed-in author and one approver are the two people") {
  Stored r(kOneApprover + kPublicStep + " }\n");
  Event start{Event::Kind::start, {}, "mgagnon"};
  start.person = true;
  auto started = r.at(start);
  REQUIRE(started.approval_opened);
  CHECK(started.approval_opened->count == 1);
  CHECK(r.s.initiator_person);
  CHECK(r.at({Event::Kind::approve, {}, "mgagnon", {"approver"}}).refused_reason == "own_approval");
  auto ok = r.at({Event::Kind::approve, {}, "swilliams", {"approver"}});
  CHECK(ok.approval_closed == "approved");
  CHECK(ok.alerts.size() == 1);
  CHECK(run_state_from_json(to_json(r.s)).initiator_person);
}
