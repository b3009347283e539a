#include "playbooks/references.hpp"

#include "core/template_files.hpp"

#include <fstream>
#include <iterator>

namespace tocsin::playbooks {

Catalog References::catalog() const {
  Catalog c;
  c.templates = templates;
  c.template_files = template_files;
  c.template_texts = template_texts;
  c.require_template_files = true;
  c.roles = people.roles();
  c.groups = people.groups();
  for (const auto& p : people.people()) c.people.insert(p.id);
  for (const auto& s : schedules.all()) c.schedules.insert(s.id);
  c.zones = &zones;
  return c;
}

std::variant<References, std::vector<std::string>> load_references(const ReferencePaths& paths) {
  References refs;
  std::vector<std::string> errors;
  auto zones = load_zones(paths.zones.string());
  if (zones)
    refs.zones = std::move(zones.value());
  else
    errors.push_back(zones.error().message);
  auto people = load_directory(paths.people.string());
  if (auto* d = std::get_if<Directory>(&people))
    refs.people = std::move(*d);
  else
    for (auto& e : std::get<DirectoryErrors>(people).errors) errors.push_back(std::move(e));
  // No schedules file: none, on the city's clock all the same (playbook test --at reads it).
  if (const auto* zone = find_time_zone(paths.time_zone))
    refs.schedules = Schedules({}, zone);
  else
    errors.push_back("city.time_zone: '" + paths.time_zone + "' is not a zone of the tz database");
  if (!paths.schedules.empty() && std::holds_alternative<Directory>(people)) {
    auto schedules = load_schedules(paths.schedules.string(), paths.time_zone, refs.people);
    if (auto* s = std::get_if<Schedules>(&schedules))
      refs.schedules = std::move(*s);
    else
      for (auto& e : std::get<ScheduleErrors>(schedules).errors) errors.push_back(std::move(e));
  }
  std::error_code ec;
  if (!std::filesystem::is_directory(paths.templates, ec)) {
    errors.push_back(paths.templates.string() + ": is not a directory");
  } else {
    for (const auto& e : std::filesystem::directory_iterator(paths.templates, ec)) {
      if (auto t = parse_template_file_name(e.path().filename().string())) {
        refs.templates.insert(t->name);
        refs.template_files.insert(*t);
        if (e.file_size(ec) <= 64 * 1024) {
          std::ifstream in(e.path(), std::ios::binary);
          refs.template_texts[*t] = std::string(std::istreambuf_iterator<char>(in), {});
        }
      } else
        errors.push_back(e.path().string() +
                         ": not named NAME.LANG.CHANNEL.mustache (LANG fr or en)");
    }
  }
  if (!errors.empty()) return errors;
  return refs;
}

}  // namespace tocsin::playbooks
