#pragma once
// `tocsin playbook check` and `tocsin playbook test`.

#include <iosfwd>
#include <optional>
#include <string>

#include "broker/settings/config.hpp"
#include "playbooks/dry_run.hpp"

namespace tocsin {

// Prints every error; returns the exit code (0 valid, 1 not).
int playbook_check(const Config& config, const std::string& dir, std::ostream& out,
                   std::ostream& err);

// Prints which playbooks match the incident in `incident_file` and each one's timeline.
int playbook_test(const Config& config, const std::string& dir, const std::string& incident_file,
                  const playbooks::DryRunOptions& options, std::ostream& out, std::ostream& err);

}  // namespace tocsin
