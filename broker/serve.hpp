#pragma once
// `tocsin serve`: wires the components together and runs until SIGTERM or SIGINT.

#include "broker/settings/config.hpp"

namespace tocsin {

// Returns the process exit code.
int serve(const Config& config);

}  // namespace tocsin
