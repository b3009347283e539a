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
  - require_approval: { role: approver, timeout: 15m, on_timeout: escalate, escalate_to: { groups: [eoc-managers] }, escalate_channels: [sms], escalate_template: escalation, max_escalations: 1 }
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

  auto ok = r.at(3min, Event::Kind::approve, "swilliams", {"approver"});
  CHECK_FALSE(ok.refused);
  // The history names what happened and its particulars, as well as saying it in English.
  REQUIRE_FALSE(ok.timeline.empty());
  const auto& approved = ok.timeline.front();
  CHECK(approved.what == "step.approved");
  CHECK(approved.step == 4);
  CHECK(approved.text == "step 4: approved by swilliams (1/1)");
  using Arg = std::pair<std::string, std::string>;
  CHECK(approved.args == std::vector<Arg>{{"by", "swilliams"}, {"count", "1"}, {"of", "1"}});
  CHECK(ok.approval_closed == "approved");
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
  auto copy = run_state_from_json(boost::json::value(to_json(r.s)));
  CHECK(copy.step == r.s.step);
  CHECK(copy.status == r.s.status);
  CHECK(copy.acknowledged);
  CHECK(copy.approved);
  CHECK(copy.approvers == std::vector<std::string>{"swilliams"});
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
