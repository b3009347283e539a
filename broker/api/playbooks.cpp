// /api/v1/playbooks: the set running, and a reload.
#include "broker/api/api.hpp"

#include <boost/json.hpp>

#include "broker/api/responses.hpp"

namespace tocsin {

namespace json = boost::json;

namespace {
json::value playbook_list(const std::shared_ptr<const ActivePlaybooks>& set) {
  json::array items;
  if (set)
    for (const auto& p : set->playbooks)
      items.push_back(json::object{{"id", p.id},
                                   {"description", p.description},
                                   {"file", p.file},
                                   {"hash", p.hash},
                                   {"steps", p.steps.size()}});
  json::object o{{"playbooks", std::move(items)}};
  o["loaded_at"] = set ? json::value(format_rfc3339(set->loaded_at)) : json::value(nullptr);
  return o;
}
}  // namespace

void Api::list_playbooks(Respond respond) {
  respond(json_response(200, playbook_list(library_.current())));
}

void Api::reload_playbooks(Respond respond) {
  // Reading and validating files blocks: off the HTTP threads.
  off_thread("reloading the playbooks", std::move(respond), [this](Respond& respond) {
    auto errors = library_.reload();
    if (!errors.empty()) {
      json::array list;
      for (const auto& e : errors) list.emplace_back(e);
      return respond(json_response(
          422,
          json::object{
              {"error", json::object{{"code", "invalid_playbooks"},
                                     {"message", "the set was not loaded; the running set stays: " +
                                                     errors.front()},
                                     {"field", nullptr},
                                     {"errors", std::move(list)}}}}));
    }
    respond(json_response(200, playbook_list(library_.current())));
  });
}

}  // namespace tocsin
