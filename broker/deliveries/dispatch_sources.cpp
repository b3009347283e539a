#include "broker/deliveries/dispatch_sources.hpp"

#include <spdlog/spdlog.h>

#include "dispatchers/audience.hpp"

namespace tocsin {

std::vector<dispatchers::Contact> ConfiguredSources::contacts(const Alert& alert,
                                                              const IncidentRecord&) {
  auto set = library_.current();
  if (!set) return {};
  if (alert.audience.residents)
    spdlog::warn(
        "dispatch: alert {} names residents; there is no resident registry yet, so only "
        "its broadcast channels reach them",
        alert.id);
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
  return contacts;
}

std::optional<dispatchers::Contact> ConfiguredSources::contact(const std::string& id) {
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
