#include "playbooks/dry_run.hpp"

#include "core/yaml_reader.hpp"

namespace tocsin::playbooks {

std::vector<std::string> dry_run(const Playbook& playbook, const Incident& incident,
                                 const DryRunOptions& options) {
  const Timestamp t0 = incident.received_at;
  std::vector<std::string> out;
  auto record = [&](Timestamp at, const Effects& fx) {
    auto offset = std::chrono::duration_cast<Seconds>(at - t0);
    std::string stamp = "+" + format_duration(offset);
    stamp.resize(std::max<std::size_t>(stamp.size(), 8), ' ');
    std::vector<bool> shown(fx.alerts.size(), false);
    for (const auto& entry : fx.timeline) {
      out.push_back(stamp + entry.text);
      // Under the step that pages: whom its on-call schedules reach at that instant.
      for (std::size_t i = 0; options.on_call && i < fx.alerts.size(); ++i) {
        if (shown[i] || fx.alerts[i].step + 1 != entry.step) continue;
        shown[i] = true;
        for (const auto& line : options.on_call(fx.alerts[i].audience, at))
          out.push_back(std::string(stamp.size(), ' ') + "  " + line);
      }
    }
  };

  RunState state;
  Event start{Event::Kind::start, t0, incident.source, {}};
  record(t0, advance(playbook, state, start, incident));

  std::optional<Timestamp> ack_at, approve_at;
  if (options.ack_after) ack_at = t0 + *options.ack_after;
  for (int guard = 0; guard < 100 && !finished(state.status); ++guard) {
    if (state.status == RunStatus::awaiting_approval && options.approve_after && !approve_at)
      approve_at = t0 + *options.approve_after;
    // The next thing to happen: an acknowledgement, an approval, or the run's own timer.
    std::optional<Timestamp> next;
    Event::Kind kind = Event::Kind::timer;
    auto consider = [&](std::optional<Timestamp> t, Event::Kind k) {
      if (t && (!next || *t < *next)) {
        next = t;
        kind = k;
      }
    };
    consider(state.due, Event::Kind::timer);
    if (!state.acknowledged) consider(ack_at, Event::Kind::acknowledged);
    if (state.status == RunStatus::awaiting_approval) consider(approve_at, Event::Kind::approve);
    if (!next) break;
    Event e{kind, std::max(*next, t0), "", {}};
    if (kind == Event::Kind::acknowledged) e.by = "duty officer";
    if (kind == Event::Kind::approve) {
      const auto& ra = std::get<RequireApproval>(playbook.steps[state.step].action);
      const Release release = release_for(playbook, state.step, state, incident);
      e.by = release.approvers > 1
                 ? "approver " + std::to_string(state.approvers.size() + 1) + " (dry run)"
                 : "approver (dry run)";
      e.roles = {ra.role};
      if (release.break_glass) e.reason = "the reason the approver writes (dry run)";
      approve_at.reset();
      // The others approve at the same time.
      if (int(state.approvers.size()) + 1 < release.approvers) approve_at = e.at;
    }
    if (kind == Event::Kind::acknowledged) ack_at.reset();
    record(e.at, advance(playbook, state, e, incident));
  }
  if (state.status == RunStatus::watching)
    out.push_back("        (the run stays open, watching incident updates)");
  else if (state.status == RunStatus::waiting || state.status == RunStatus::awaiting_approval)
    out.push_back("        (the run stays " + std::string(to_string(state.status)) + ")");
  return out;
}

}  // namespace tocsin::playbooks
