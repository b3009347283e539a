#include "dispatchers/audience.hpp"

#include <algorithm>

namespace tocsin::dispatchers {

Contact contact_of(const Person& p) {
  return Contact{p.id, p.language, p.phone, p.email, p.channels};
}

std::vector<Contact> staff_contacts(const Directory& directory, const Audience& audience) {
  auto any_in = [](const std::vector<std::string>& have, const std::vector<std::string>& want) {
    return std::any_of(want.begin(), want.end(), [&](const std::string& w) {
      return std::find(have.begin(), have.end(), w) != have.end();
    });
  };
  std::vector<Contact> out;
  for (const auto& p : directory.people()) {
    bool named =
        std::find(audience.people.begin(), audience.people.end(), p.id) != audience.people.end();
    if (named || any_in(p.roles, audience.roles) || any_in(p.groups, audience.groups))
      out.push_back(contact_of(p));
  }
  return out;
}

}  // namespace tocsin::dispatchers
