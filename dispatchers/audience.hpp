#pragma once
// Audience resolution for staff: the people of config/people.yaml an alert's audience names by
// role, group or id. Residents come from their own source (a later issue) behind the same
// AudienceSource interface.

#include <vector>

#include "core/alert.hpp"
#include "core/people.hpp"
#include "dispatchers/dispatcher.hpp"

namespace tocsin::dispatchers {

Contact contact_of(const Person& p);

// Everyone the audience names among staff, each once, in directory order.
std::vector<Contact> staff_contacts(const Directory& directory, const Audience& audience);

}  // namespace tocsin::dispatchers
