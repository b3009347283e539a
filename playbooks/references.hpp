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
#include "core/zones.hpp"
#include "playbooks/playbook.hpp"

namespace tocsin::playbooks {

struct References {
  ZoneMap zones;
  Directory people;
  std::set<std::string> templates;  // names: flood-public for flood-public.fr.sms.mustache
  std::set<TemplateFile> template_files;
  std::map<TemplateFile, std::string> template_texts;

  Catalog catalog() const;
};

struct ReferencePaths {
  std::filesystem::path zones;      // GeoJSON
  std::filesystem::path people;     // YAML
  std::filesystem::path templates;  // directory of NAME.LANG.CHANNEL.mustache
};

// Everything wrong, each message naming its file.
std::variant<References, std::vector<std::string>> load_references(const ReferencePaths& paths);

}  // namespace tocsin::playbooks
