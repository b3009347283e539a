#pragma once
// Audience resolution for staff: the people of config/people.yaml an alert's audience names by
// role, group or id. Residents come from their own source (a later issue) behind the same
// AudienceSource interface.

#include <vector>

#include "core/alert.hpp"
#include "core/people.hpp"
#include "core/schedules.hpp"
#include "dispatchers/dispatcher.hpp"

namespace tocsin::dispatchers {

Contact contact_of(const Person& p);

// Whom an audience's `on_call` schedules name at an instant: the schedules of the configuration
// in force and the overrides made through the API.
struct OnCall {
  const Schedules* schedules = nullptr;
  const OverrideBook* overrides = nullptr;
  Timestamp at{};
};

// Everyone the audience names among staff, each once, in directory order. A schedule with nobody
// on call at that instant (a gap) pages everyone it names rather than no one: its id goes to
// `gaps`, for the caller to log.
std::vector<Contact> staff_contacts(const Directory& directory, const Audience& audience,
                                    const OnCall& on_call = {},
                                    std::vector<std::string>* gaps = nullptr);

}  // namespace tocsin::dispatchers
