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

// Prints which playbooks match the incident in `incident_file` and each one's timeline, from `at`
// (the city's clock or RFC 3339; empty: the report's own time) with whom each page to an on-call
// schedule would reach then.
int playbook_test(const Config& config, const std::string& dir, const std::string& incident_file,
                  const playbooks::DryRunOptions& options, const std::string& at, std::ostream& out,
                  std::ostream& err);

}  // namespace tocsin
