#include "core/people.hpp"

#include <algorithm>
#include <regex>

#include "core/yaml_reader.hpp"

namespace tocsin {

bool Person::has_role(const std::string& role) const {
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

Directory::Directory(std::vector<Person> people) : people_(std::move(people)) {
  for (std::size_t i = 0; i < people_.size(); ++i) {
    index_[people_[i].id] = i;
    roles_.insert(people_[i].roles.begin(), people_[i].roles.end());
    groups_.insert(people_[i].groups.begin(), people_[i].groups.end());
  }
}

const Person* Directory::find(const std::string& id) const {
  auto it = index_.find(id);
  return it == index_.end() ? nullptr : &people_[it->second];
}

std::variant<Directory, DirectoryErrors> load_directory(const std::string& path) {
  YamlReader r(path);
  auto root = load_yaml_file(path, 4 << 20, r);
  if (!root) return DirectoryErrors{r.take()};
  std::vector<Person> people;
  if (r.mapping(*root, "", {"people"})) {
    auto list = r.section(*root, "", "people", true);
    if (list && !list->IsSequence()) r.error(list->Mark(), "people: must be a list");
    if (list && list->IsSequence()) {
      static const std::regex e164(R"(^\+[1-9][0-9]{6,14}$)");
      std::set<std::string> ids;
      for (std::size_t i = 0; i < list->size(); ++i) {
        const YAML::Node n = (*list)[i];
        std::string at = "people[" + std::to_string(i) + "]";
        if (!r.mapping(n, at,
                       {"id", "name", "roles", "groups", "phone", "email", "language", "channels"}))
          continue;
        Person p;
        r.string(n, at, "id", true, p.id);
        if (!p.id.empty() && !ids.insert(p.id).second)
          r.error(n["id"].Mark(), at + ".id: '" + p.id + "' is used twice");
        r.string(n, at, "name", true, p.name);
        r.string_list(n, at, "roles", false, p.roles);
        r.string_list(n, at, "groups", false, p.groups);
        if (r.string(n, at, "phone", false, p.phone) && !std::regex_match(p.phone, e164))
          r.error(n["phone"].Mark(), at + ".phone: '" + p.phone + "' is not E.164 (+15145550100)");
        if (r.string(n, at, "email", false, p.email) && p.email.find('@') == std::string::npos)
          r.error(n["email"].Mark(), at + ".email: '" + p.email + "' is not an address");
        p.language = "fr";
        r.choice(n, at, "language", p.language, {"fr", "en"});
        r.string_list(n, at, "channels", false, p.channels);
        people.push_back(std::move(p));
      }
    }
  }
  if (r.failed()) return DirectoryErrors{r.take()};
  return Directory(std::move(people));
}

}  // namespace tocsin
