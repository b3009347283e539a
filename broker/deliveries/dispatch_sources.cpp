#include "broker/deliveries/dispatch_sources.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "dispatchers/audience.hpp"

namespace tocsin {

std::vector<dispatchers::Contact> ConfiguredSources::contacts(const Alert& alert,
                                                              const IncidentRecord& incident) {
  auto set = library_.current();
  if (!set) return {};
  // Whoever is on call when the alert was made: planned again after a restart, it reaches the
  // same people.
  std::vector<std::string> gaps;
  auto contacts = dispatchers::staff_contacts(
      set->references.people, alert.audience,
      {&set->references.schedules, overrides_, alert.created_at}, &gaps);
  for (const auto& id : gaps)
    spdlog::error(
        "dispatch: alert {}: nobody is on call for schedule '{}' at {}; paging everyone it names",
        alert.id, id, set->references.schedules.local_text(alert.created_at));
  if (!alert.audience.residents) return contacts;
  if (!residents_) {
    spdlog::warn(
        "dispatch: alert {} names residents, but residents are not configured (residents: in "
        "tocsin.yaml), so only its broadcast channels reach them",
        alert.id);
    return contacts;
  }
  // The area: the zones the step names, and the incident's own where it says so.
  std::vector<std::string> zones = alert.audience.resident_zones;
  // (Its most specific zone: a point in a neighbourhood is not an alert to the whole city.)
  if (alert.audience.residents_incident_area) {
    auto in = set->references.zones.zones_of(incident.incident.location);
    if (!in.empty() && std::find(zones.begin(), zones.end(), in.front()) == zones.end())
      zones.push_back(in.front());
  }
  // A threat to life reaches everyone in the area, whatever they chose.
  const bool everyone = alert.audience.life_threatening ||
                        (alert.is_public && incident.incident.severity == Severity::extreme);
  auto reached = residents_->in_zones(zones, alert.audience.resident_category, everyone);
  contacts.insert(contacts.end(), std::make_move_iterator(reached.begin()),
                  std::make_move_iterator(reached.end()));
  return contacts;
}

std::optional<dispatchers::Contact> ConfiguredSources::contact(const std::string& id) {
  if (is_resident(id)) return residents_ ? residents_->find(id) : std::nullopt;
  auto set = library_.current();
  if (!set) return std::nullopt;
  if (const Person* p = set->references.people.find(id)) return dispatchers::contact_of(*p);
  return std::nullopt;
}

Result<Message> ConfiguredSources::render(const Alert& alert, const IncidentRecord& incident,
                                          const std::string& language, const std::string& channel) {
  auto set = library_.current();
  if (!set || !set->templates)
    return Error{"no_templates", "no message templates are loaded", "template"};
  return dispatchers::render_message(*set->templates, set->references.zones, alert.template_name,
                                     incident, language, channel, alert.note_in(language));
}

}  // namespace tocsin
