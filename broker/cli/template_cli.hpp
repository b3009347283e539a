#pragma once
// `tocsin template render`: what a recipient would get, and what it costs in SMS segments.

#include <iosfwd>
#include <string>

#include "broker/settings/config.hpp"

namespace tocsin {

int template_render(const Config& config, const std::string& name, const std::string& language,
                    const std::string& channel, const std::string& incident_file, std::ostream& out,
                    std::ostream& err);

}  // namespace tocsin
