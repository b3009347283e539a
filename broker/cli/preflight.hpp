#pragma once
// What a configuration needs besides its own file, checked as `serve` would use it: the playbook
// set with its people, zones and templates (validated as a whole), the expected sources, the
// sensors' keys, the TLS certificate and key, the audit key. `tocsin check-config` prints it all
// and `serve` refuses to start on any error; the warnings (a channel that writes to an outbox
// file, not to people) are printed and logged, and shown on /health.

#include <string>
#include <vector>

#include "broker/settings/config.hpp"

namespace tocsin {

struct Preflight {
  std::vector<std::string> errors;    // each "file:line:column: message" where it has one
  std::vector<std::string> warnings;  // nothing stops, but someone should know
};

Preflight preflight(const Config& config);

// The channels configured with the outbox provider (their messages go to a file).
std::vector<std::string> outbox_channels(const Config& config);

}  // namespace tocsin
