#include "playbooks/engine.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <set>

#include <boost/json.hpp>

#include "core/yaml_reader.hpp"

namespace tocsin::playbooks {

std::optional<AlertRequest> alert_request(const Step& step, std::size_t index) {
  AlertRequest a;
  a.step = index;
  if (const auto* n = std::get_if<Notify>(&step.action)) {
    a.kind = "notify";
    a.audience = n->audience;
    a.channels = n->channels;
    a.template_name = n->template_name;
    a.is_public = n->is_public;
    a.allow_in_exercise = n->allow_in_exercise;
    a.expires = n->expires;
    return a;
  }
  if (const auto* s = std::get_if<Siren>(&step.action)) {
    a.kind = "siren";
    a.is_public = true;
    a.zones = s->zones;
    a.pattern = s->pattern;
    a.duration = s->duration;
    a.channels = {"siren"};
    a.allow_in_exercise = s->allow_in_exercise;
    return a;
  }
  return std::nullopt;
}

namespace json = boost::json;

namespace {
constexpr std::array<std::string_view, 7> kStatus{
    "running", "waiting", "awaiting_approval", "watching", "completed", "cancelled", "rejected"};

std::string list(const std::vector<std::string>& items) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? "," : "") + items[i];
  return out;
}

bool guard_holds(Guard g, const RunState& s) {
  switch (g) {
    case Guard::always:
      return true;
    case Guard::acknowledged:
      return s.acknowledged;
    case Guard::not_acknowledged:
      return !s.acknowledged;
    case Guard::approved:
      return s.approved;
    case Guard::severity_rose:
      return s.severity_rose;
  }
  return true;
}

using Args = std::vector<std::pair<std::string, std::string>>;

// Records one thing the run did; a step's entry reads "step N: …" in English.
void say(Effects& fx, std::string what, std::size_t step, Args args, std::string text) {
  if (step) text = "step " + std::to_string(step) + ": " + text;
  fx.timeline.push_back({std::move(what), step, std::move(args), std::move(text)});
}

std::string guard_name(Guard g) {
  switch (g) {
    case Guard::acknowledged:
      return "acknowledged";
    case Guard::not_acknowledged:
      return "not_acknowledged";
    case Guard::approved:
      return "approved";
    case Guard::severity_rose:
      return "severity_rose";
    default:
      return "always";
  }
}

bool resolved_by(const ResolveWhen& rw, const Incident& incident) {
  return std::all_of(rw.attributes.begin(), rw.attributes.end(),
                     [&](const auto& c) { return c.holds(incident.attributes); });
}

// A written reason: this many characters besides spaces, at least.
constexpr std::size_t kMinReason = 10;
bool written(const std::string& reason) {
  return std::size_t(std::count_if(reason.begin(), reason.end(),
                                   [](unsigned char c) { return !std::isspace(c); })) >= kMinReason;
}

class Runner {
 public:
  Runner(const Playbook& p, RunState& s, const Incident& i, Timestamp at, Effects& fx)
      : p_(p), s_(s), incident_(i), at_(at), fx_(fx) {}

  void note(std::string what, Args args, std::string text) {
    say(fx_, std::move(what), s_.step + 1, std::move(args), std::move(text));
  }

  // Runs steps from the current one until one parks the run or the steps run out.
  void run() {
    s_.status = RunStatus::running;
    s_.due.reset();
    while (s_.step < p_.steps.size()) {
      const Step& step = p_.steps[s_.step];
      if (!guard_holds(step.when, s_)) {
        note("step.skipped", {{"kind", step.kind()}, {"when", guard_name(step.when)}},
             step.kind() + " skipped (when: " + guard_name(step.when) + ")");
        ++s_.step;
        continue;
      }
      if (!enter(step)) return;  // parked
      ++s_.step;
    }
    s_.status = RunStatus::completed;
    say(fx_, "run.completed", 0, {}, "run completed");
  }

  void advance_past_current() {
    ++s_.step;
    run();
  }

 private:
  // Executes a step; false when the run parks at it.
  // Exercise vs live by construction: a non-actual incident's public alert or siren is not made
  // at all unless its step allows it.
  bool held_back(bool is_public, bool allowed) {
    if (incident_.status == Status::actual || !is_public || allowed) return false;
    const std::string status(to_string(incident_.status));
    note("step.held_back", {{"status", status}},
         "held back: the incident's status is " + status +
             " and the step does not say allow_in_exercise");
    return true;
  }

  // Two people, always: an actual public alert or siren goes out only once an approval before it
  // released it, by two distinct people (its composer one of them) or by one on break glass.
  // The parser checks playbooks for this; here it holds for a run of any version.
  bool unreleased(const Step& step) {
    if (incident_.status != Status::actual || !step.reaches_public()) return false;
    std::set<std::string> people(s_.approvers.begin(), s_.approvers.end());
    if (s_.initiator_person) people.insert(s_.initiator);
    if (s_.approved && (people.size() >= 2 || step.break_glass())) return false;
    note("step.unreleased", {{"people", std::to_string(s_.approved ? people.size() : 0)}},
         "held back: a live public alert or siren needs two people's release, and has " +
             std::to_string(s_.approved ? people.size() : 0));
    return true;
  }

  bool enter(const Step& step) {
    if (unreleased(step)) return true;
    if (auto* n = std::get_if<Notify>(&step.action)) {
      if (held_back(n->is_public, n->allow_in_exercise)) return true;
      fx_.alerts.push_back(*alert_request(step, s_.step));
      note("step.notify",
           {{"public", n->is_public ? "true" : "false"},
            {"audience", n->audience.describe()},
            {"channels", list(n->channels)},
            {"template", n->template_name}},
           std::string(n->is_public ? "PUBLIC " : "") + "notify " + n->audience.describe() +
               " via " + list(n->channels) + " (template " + n->template_name + ")");
      // repeat: the run holds here, paging again at each due time until acknowledged.
      if (n->repeat_times > 0 && !s_.acknowledged) {
        s_.repeats = 0;
        s_.status = RunStatus::waiting;
        s_.due = at_ + n->repeat_every;
        return false;
      }
      return true;
    }
    if (auto* sr = std::get_if<Siren>(&step.action)) {
      if (held_back(true, sr->allow_in_exercise)) return true;
      fx_.alerts.push_back(*alert_request(step, s_.step));
      note("step.siren",
           {{"pattern", sr->pattern},
            {"zones", list(sr->zones)},
            {"duration", format_duration(sr->duration)}},
           "siren " + sr->pattern + " in " + list(sr->zones) + " for " +
               format_duration(sr->duration));
      return true;
    }
    if (auto* w = std::get_if<Wait>(&step.action)) {
      if (w->until == "acknowledged" && s_.acknowledged) {
        note("step.wait_skipped", {}, "wait skipped: already acknowledged");
        return true;
      }
      s_.status = RunStatus::waiting;
      s_.due = at_ + w->duration;
      note("step.wait", {{"duration", format_duration(w->duration)}, {"until", w->until}},
           "wait " + format_duration(w->duration) +
               (w->until.empty() ? "" : " or until " + w->until));
      return false;
    }
    if (auto* ra = std::get_if<RequireApproval>(&step.action)) {
      s_.status = RunStatus::awaiting_approval;
      s_.due = at_ + ra->timeout;
      s_.approvers.clear();
      s_.approved = false;
      const Release release = release_for(p_, s_.step, s_, incident_);
      fx_.approval_opened = ApprovalRequest{s_.step,           ra->role,
                                            release.approvers, ra->distinct_from_initiator,
                                            *s_.due,           release.break_glass};
      note("step.approval",
           {{"count", std::to_string(release.approvers)},
            {"role", ra->role},
            {"not_initiator", ra->distinct_from_initiator ? "true" : "false"},
            {"timeout", format_duration(ra->timeout)},
            {"break_glass", release.break_glass ? "true" : "false"}},
           "approval required: " + std::to_string(release.approvers) + " x " + ra->role +
               (ra->distinct_from_initiator ? " (not the initiator)" : "") + ", timeout " +
               format_duration(ra->timeout) +
               (release.break_glass ? ", break glass (one person, with a reason)" : ""));
      return false;
    }
    const auto& rw = std::get<ResolveWhen>(step.action);
    if (resolved_by(rw, incident_)) {
      fx_.resolve_incident = true;
      note("step.resolve_holds", {}, "resolve_when holds: the incident is resolved");
      return true;
    }
    s_.status = RunStatus::watching;
    note("step.watching", {}, "watching updates until the resolve_when conditions hold");
    return false;
  }

  const Playbook& p_;
  RunState& s_;
  const Incident& incident_;
  Timestamp at_;
  Effects& fx_;
};

}  // namespace

std::string_view to_string(RunStatus s) {
  return kStatus[static_cast<int>(s)];
}

std::optional<RunStatus> parse_run_status(std::string_view s) {
  for (std::size_t i = 0; i < kStatus.size(); ++i)
    if (kStatus[i] == s) return static_cast<RunStatus>(i);
  return std::nullopt;
}

Release release_for(const Playbook& p, std::size_t approval_step, const RunState& s,
                    const Incident& incident) {
  const auto* ra = approval_step < p.steps.size()
                       ? std::get_if<RequireApproval>(&p.steps[approval_step].action)
                       : nullptr;
  if (!ra) return {};
  Release r{ra->count, false};
  if (incident.status != Status::actual) return r;
  const auto gated = gated_public_steps(p, approval_step);
  const bool glass = std::all_of(gated.begin(), gated.end(),
                                 [&](std::size_t i) { return p.steps[i].break_glass(); });
  const int composer = s.initiator_person && ra->distinct_from_initiator ? 1 : 0;
  if (gated.empty() || ra->count + composer >= 2) return r;
  if (glass)
    r.break_glass = true;
  else
    r.approvers = 2 - composer;
  return r;
}

json::object to_json(const RunState& s) {
  json::array approvers;
  for (const auto& a : s.approvers) approvers.push_back(json::value(a));
  json::object o{{"step", s.step},
                 {"status", to_string(s.status)},
                 {"acknowledged", s.acknowledged},
                 {"approved", s.approved},
                 {"severity_rose", s.severity_rose},
                 {"start_severity", to_string(s.start_severity)},
                 {"initiator", s.initiator},
                 {"initiator_person", s.initiator_person},
                 {"approvers", std::move(approvers)},
                 {"escalations", s.escalations},
                 {"gathering", s.gathering},
                 {"repeats", s.repeats}};
  o["due"] = s.due ? json::value(to_unix_ms(*s.due)) : json::value(nullptr);
  return o;
}

RunState run_state_from_json(const json::value& v) {
  const auto& o = v.as_object();
  RunState s;
  s.step = std::size_t(o.at("step").to_number<std::int64_t>());
  s.status = parse_run_status(o.at("status").as_string()).value_or(RunStatus::cancelled);
  if (!o.at("due").is_null()) s.due = from_unix_ms(o.at("due").to_number<std::int64_t>());
  s.acknowledged = o.at("acknowledged").as_bool();
  s.approved = o.at("approved").as_bool();
  s.severity_rose = o.at("severity_rose").as_bool();
  s.start_severity = parse_severity(o.at("start_severity").as_string()).value_or(Severity::unknown);
  s.initiator = std::string(o.at("initiator").as_string());
  if (auto* p = o.if_contains("initiator_person")) s.initiator_person = p->as_bool();
  for (const auto& a : o.at("approvers").as_array()) s.approvers.emplace_back(a.as_string());
  s.escalations = int(o.at("escalations").to_number<std::int64_t>());
  if (auto* g = o.if_contains("gathering")) s.gathering = g->as_bool();
  if (auto* r = o.if_contains("repeats")) s.repeats = int(r->to_number<std::int64_t>());
  return s;
}

Effects advance(const Playbook& p, RunState& s, const Event& e, const Incident& incident) {
  Effects fx;
  Runner runner(p, s, incident, e.at, fx);
  if (finished(s.status) && e.kind != Event::Kind::start) {
    fx.refused = "the run is " + std::string(to_string(s.status));
    fx.refused_reason = "run_finished";
    return fx;
  }
  const Step* current = s.step < p.steps.size() ? &p.steps[s.step] : nullptr;

  switch (e.kind) {
    case Event::Kind::start:
      s = RunState{};
      s.start_severity = incident.severity;
      s.initiator = e.by;
      s.initiator_person = e.person;
      say(fx, "run.started", 0,
          {{"type", std::string(incident.type)},
           {"severity", std::string(to_string(incident.severity))}},
          "run started for " + std::string(incident.type) + " (" +
              std::string(to_string(incident.severity)) + ")");
      if (p.group_wait.count() > 0) {
        s.gathering = true;
        s.status = RunStatus::waiting;
        s.due = e.at + p.group_wait;
        say(fx, "run.gathering", 0,
            {{"group_by", list(p.group_by)}, {"wait", format_duration(p.group_wait)}},
            "gathering incidents with the same " + list(p.group_by) + " for " +
                format_duration(p.group_wait));
        break;
      }
      runner.run();
      break;

    case Event::Kind::acknowledged:
      s.acknowledged = true;
      say(fx, "run.acknowledged", 0, {{"by", e.by}}, "acknowledged by " + e.by);
      if (s.status == RunStatus::waiting && !s.gathering && current) {
        const auto* w = std::get_if<Wait>(&current->action);
        // A wait until acknowledged ends, and so does a notify that repeats until then.
        if ((w && w->until == "acknowledged") || std::get_if<Notify>(&current->action))
          runner.advance_past_current();
      }
      break;

    case Event::Kind::escalate:
      if (s.status != RunStatus::waiting || s.gathering || !current ||
          !std::get_if<Wait>(&current->action)) {
        fx.refused = "not waiting";  // nothing to cut short: an approval, a watch, the end
        fx.refused_reason = "not_waiting";
        break;
      }
      say(fx, "step.escalated_now", s.step + 1, {{"by", e.by}},
          "escalated by " + e.by + ": wait over");
      runner.advance_past_current();
      break;

    case Event::Kind::resolved:
    case Event::Kind::cancelled:
      if (s.status == RunStatus::awaiting_approval) fx.approval_closed = "cancelled";
      s.status = RunStatus::cancelled;
      s.due.reset();
      {
        const std::string how = e.kind == Event::Kind::resolved ? "resolved" : "cancelled";
        say(fx, "run.incident_closed", 0, {{"how", how}, {"by", e.by}},
            "incident " + how + " by " + e.by + ": run cancelled");
      }
      break;

    case Event::Kind::updated:
      if (incident.severity > s.start_severity) s.severity_rose = true;
      if (s.status == RunStatus::watching && current &&
          resolved_by(std::get<ResolveWhen>(current->action), incident)) {
        fx.resolve_incident = true;
        say(fx, "step.resolve_holds", s.step + 1, {},
            "resolve_when holds: the incident is resolved");
        runner.advance_past_current();
      }
      break;

    case Event::Kind::timer:
      if (!s.due || e.at < *s.due) {
        fx.refused = "not due";  // a stale timer: the run moved on
        fx.refused_reason = "not_due";
        break;
      }
      if (s.status == RunStatus::waiting && s.gathering) {
        s.gathering = false;
        say(fx, "run.gathered", 0, {}, "group_wait over: the group's steps start");
        runner.run();
      } else if (s.status == RunStatus::waiting && current &&
                 std::get_if<Notify>(&current->action)) {
        const auto& n = std::get<Notify>(current->action);
        ++s.repeats;
        fx.alerts.push_back(*alert_request(*current, s.step));
        say(fx, "step.repeated", s.step + 1,
            {{"count", std::to_string(s.repeats)}, {"of", std::to_string(n.repeat_times)}},
            "not acknowledged: notify " + n.audience.describe() + " again (" +
                std::to_string(s.repeats) + "/" + std::to_string(n.repeat_times) + ")");
        if (s.repeats < n.repeat_times)
          s.due = *s.due + n.repeat_every;  // from the missed due time: no drift
        else
          runner.advance_past_current();
      } else if (s.status == RunStatus::waiting) {
        say(fx, "step.wait_over", s.step + 1, {}, "wait over");
        runner.advance_past_current();
      } else if (s.status == RunStatus::awaiting_approval && current) {
        const auto& ra = std::get<RequireApproval>(current->action);
        if (ra.on_timeout == "escalate" && s.escalations < ra.max_escalations) {
          ++s.escalations;
          s.due = *s.due + ra.timeout;  // from the missed due time: no drift
          fx.alerts.push_back(AlertRequest{s.step,
                                           "escalation",
                                           ra.escalate_to,
                                           ra.escalate_channels,
                                           ra.escalate_template,
                                           false,
                                           {},
                                           {},
                                           {}});
          say(fx, "step.escalated", s.step + 1,
              {{"audience", ra.escalate_to.describe()},
               {"channels", list(ra.escalate_channels)},
               {"wait", format_duration(ra.timeout)}},
              "approval timed out: escalate to " + ra.escalate_to.describe() + " via " +
                  list(ra.escalate_channels) + ", wait " + format_duration(ra.timeout) + " more");
        } else {
          s.status = RunStatus::cancelled;
          s.due.reset();
          fx.approval_closed = "expired";
          say(fx, "step.approval_expired", s.step + 1,
              {{"escalations", std::to_string(s.escalations)}},
              "approval timed out" +
                  (s.escalations ? " after " + std::to_string(s.escalations) + " escalations"
                                 : std::string()) +
                  ": run cancelled, nothing public sent");
        }
      } else {
        fx.refused = "not due";
        fx.refused_reason = "not_due";
      }
      break;

    case Event::Kind::approve:
    case Event::Kind::reject: {
      if (s.status != RunStatus::awaiting_approval || !current) {
        fx.refused = "no approval is pending for this run";
        fx.refused_reason = "not_pending";
        break;
      }
      const auto& ra = std::get<RequireApproval>(current->action);
      if (std::find(e.roles.begin(), e.roles.end(), ra.role) == e.roles.end()) {
        fx.refused = e.by + " does not have the role " + ra.role;
        fx.refused_reason = "missing_role";
        break;
      }
      if (ra.distinct_from_initiator && e.by == s.initiator) {
        fx.refused = e.by + " initiated this incident and cannot approve their own alert";
        fx.refused_reason = "own_approval";
        break;
      }
      if (e.kind == Event::Kind::reject) {
        s.status = RunStatus::rejected;
        s.due.reset();
        fx.approval_closed = "rejected";
        say(fx, "step.rejected", s.step + 1, {{"by", e.by}},
            "rejected by " + e.by + ": run stopped, nothing public sent");
        break;
      }
      if (std::find(s.approvers.begin(), s.approvers.end(), e.by) != s.approvers.end()) {
        fx.refused = e.by + " has already approved";
        fx.refused_reason = "already_approved";
        break;
      }
      const Release release = release_for(p, s.step, s, incident);
      const bool releases = int(s.approvers.size()) + 1 >= release.approvers;
      if (releases && release.break_glass && !written(e.reason)) {
        fx.refused =
            "note: a break-glass release by one person needs a written reason (why it cannot "
            "wait for a second person), " +
            std::to_string(kMinReason) + " characters or more";
        fx.refused_reason = "reason_required";
        break;
      }
      s.approvers.push_back(e.by);
      say(fx, "step.approved", s.step + 1,
          {{"by", e.by},
           {"count", std::to_string(s.approvers.size())},
           {"of", std::to_string(release.approvers)}},
          "approved by " + e.by + " (" + std::to_string(s.approvers.size()) + "/" +
              std::to_string(release.approvers) + ")");
      if (releases) {
        s.approved = true;
        fx.approval_closed = "approved";
        if (release.break_glass) {
          fx.break_glass = BreakGlass{s.step, e.by, e.reason};
          say(fx, "step.break_glass", s.step + 1, {{"by", e.by}, {"reason", e.reason}},
              "break glass: released by " + e.by + " alone (" + e.reason +
                  "); a review incident is raised");
        }
        runner.advance_past_current();
      }
      break;
    }
  }
  return fx;
}

}  // namespace tocsin::playbooks
