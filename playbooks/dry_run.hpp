#pragma once
// `tocsin playbook test`: what a playbook would do for an incident, on a simulated clock.
// Nothing is stored and nothing is sent.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "playbooks/engine.hpp"

namespace tocsin::playbooks {

struct DryRunOptions {
  std::optional<Seconds> ack_after;      // someone acknowledges after this long
  std::optional<Seconds> approve_after;  // an approver (not the initiator) approves after this long
  // Who an alert's on-call schedules would page at that instant: one line per schedule, printed
  // under the step (unset: not shown).
  std::function<std::vector<std::string>(const Audience&, Timestamp)> on_call;
};

// One line per event: "+10m  step 3: notify groups:eoc-managers via sms (template …)".
std::vector<std::string> dry_run(const Playbook& playbook, const Incident& incident,
                                 const DryRunOptions& options);

}  // namespace tocsin::playbooks
