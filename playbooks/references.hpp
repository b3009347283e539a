#pragma once
// What playbooks refer to, loaded from the configuration: zones, the staff directory and the
// message templates. Validated before any playbook is read.

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "core/people.hpp"
#include "core/schedules.hpp"
#include "core/zones.hpp"
#include "playbooks/playbook.hpp"

namespace tocsin::playbooks {

struct References {
  ZoneMap zones;
  Directory people;
  Schedules schedules;              // on-call; none without a schedules file
  std::set<std::string> templates;  // names: flood-public for flood-public.fr.sms.mustache
  std::set<TemplateFile> template_files;
  std::map<TemplateFile, std::string> template_texts;

  Catalog catalog() const;
};

struct ReferencePaths {
  std::filesystem::path zones;      // GeoJSON
  std::filesystem::path people;     // YAML
  std::filesystem::path templates;  // directory of NAME.LANG.CHANNEL.mustache
  std::filesystem::path schedules;  // YAML; empty: no on-call schedules
  std::string time_zone = "UTC";    // the city's: the schedules' wall clock
};

// Everything wrong, each message naming its file.
std::variant<References, std::vector<std::string>> load_references(const ReferencePaths& paths);

}  // namespace tocsin::playbooks
