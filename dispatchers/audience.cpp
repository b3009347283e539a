#include "dispatchers/audience.hpp"

#include <algorithm>

namespace tocsin::dispatchers {

Contact contact_of(const Person& p) {
  return Contact{p.id, p.language, p.phone, p.email, p.channels};
}

std::vector<Contact> staff_contacts(const Directory& directory, const Audience& audience,
                                    const OnCall& on_call, std::vector<std::string>* gaps) {
  auto any_in = [](const std::vector<std::string>& have, const std::vector<std::string>& want) {
    return std::any_of(want.begin(), want.end(), [&](const std::string& w) {
      return std::find(have.begin(), have.end(), w) != have.end();
    });
  };
  std::vector<std::string> named_ids = audience.people;
  for (const auto& id : audience.on_call) {
    const Schedule* s = on_call.schedules ? on_call.schedules->find(id) : nullptr;
    if (!s) {
      if (gaps) gaps->push_back(id);
      continue;
    }
    auto people = on_call.schedules->on_call(
        *s, on_call.at,
        on_call.overrides ? on_call.overrides->of(id) : std::vector<ScheduleOverride>{});
    if (people.empty()) {
      if (gaps) gaps->push_back(id);
      people = on_call.schedules->everyone(*s);
    }
    named_ids.insert(named_ids.end(), people.begin(), people.end());
  }
  std::vector<Contact> out;
  for (const auto& p : directory.people()) {
    bool named = std::find(named_ids.begin(), named_ids.end(), p.id) != named_ids.end();
    if (named || any_in(p.roles, audience.roles) || any_in(p.groups, audience.groups))
      out.push_back(contact_of(p));
  }
  return out;
}

}  // namespace tocsin::dispatchers
