#include "broker/cli/template_cli.hpp"

#include <fstream>
#include <ostream>
#include <sstream>

#include "channels/registry.hpp"
#include "channels/sms/segments.hpp"
#include "core/schedules.hpp"
#include "dispatchers/templates.hpp"

namespace tocsin {

int template_render(const Config& config, const std::string& name, const std::string& language,
                    const std::string& channel, const std::string& incident_file, std::ostream& out,
                    std::ostream& err) {
  if (!config.playbooks.enabled) {
    err << config.source_file << ": has no playbooks section (zones, templates)\n";
    return 1;
  }
  auto zones = load_zones(config.playbooks.zones.string());
  if (!zones) {
    err << zones.error().message << "\n";
    return 1;
  }
  auto loaded =
      dispatchers::TemplateSet::load(config.playbooks.templates, find_time_zone(config.time_zone));
  if (auto* errors = std::get_if<std::vector<std::string>>(&loaded)) {
    for (const auto& e : *errors) err << e << "\n";
    return 1;
  }
  auto incident = read_incident_file(incident_file, config.limits);
  if (!incident) {
    err << incident.error().message << "\n";
    return 1;
  }
  IncidentRecord record;
  record.incident = std::move(incident.value());
  auto text = std::get<dispatchers::TemplateSet>(loaded).render({name, language, channel}, record,
                                                                zones.value());
  if (!text) {
    err << text.error().message << "\n";
    return 1;
  }
  out << text.value() << "\n";
  if (channels::capabilities(channel).segments > 0) {
    auto s = channels::sms::count_segments(text.value());
    out << "(" << s.segments << " SMS segment" << (s.segments == 1 ? "" : "s") << ", "
        << (s.encoding == channels::sms::Encoding::gsm7 ? "GSM-7, " : "UCS-2, ") << s.units
        << (s.encoding == channels::sms::Encoding::gsm7 ? " septets" : " UTF-16 units");
    if (!s.first_non_gsm.empty()) out << "; UCS-2 because of '" << s.first_non_gsm << "'";
    out << ")\n";
  }
  return 0;
}

}  // namespace tocsin
