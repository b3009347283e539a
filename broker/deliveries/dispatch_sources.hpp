#pragma once
// What the dispatcher reads from the configuration in force: staff from people.yaml, message
// templates and zone names; and residents of the alert's area from the resident registry. Follows
// reloads: each alert is planned with the set current then.

#include "broker/residents/registry.hpp"
#include "broker/runs/playbook_library.hpp"
#include "core/schedules.hpp"
#include "dispatchers/dispatcher.hpp"

namespace tocsin {

class ConfiguredSources : public dispatchers::AudienceSource, public dispatchers::MessageRenderer {
 public:
  // `overrides`: the on-call overrides made through the API (null: none); `residents`: the
  // resident registry (null: residents are not configured, and only broadcast channels reach them).
  explicit ConfiguredSources(const PlaybookLibrary& library,
                             const OverrideBook* overrides = nullptr,
                             ResidentDirectory* residents = nullptr)
      : library_(library), overrides_(overrides), residents_(residents) {}

  // dispatchers::AudienceSource
  std::vector<dispatchers::Contact> contacts(const Alert& alert,
                                             const IncidentRecord& incident) override;
  std::optional<dispatchers::Contact> contact(const std::string& id) override;
  // dispatchers::MessageRenderer
  Result<Message> render(const Alert& alert, const IncidentRecord& incident,
                         const std::string& language, const std::string& channel) override;

 private:
  const PlaybookLibrary& library_;
  const OverrideBook* overrides_;
  ResidentDirectory* residents_;
};

}  // namespace tocsin
