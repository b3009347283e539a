#pragma once
// Message templates: config/templates/NAME.LANG.CHANNEL.mustache (kainjow Mustache, logic-less,
// safe for templates that staff edit). Rendered per recipient language and channel.

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "core/incident.hpp"
#include "core/result.hpp"
#include "core/template_files.hpp"
#include "core/zones.hpp"

namespace tocsin::dispatchers {

using TemplateKey = TemplateFile;

class TemplateSet {
 public:
  // Every file of dir, compiled; every file that is misnamed or does not compile is an error
  // naming it (all of them are reported).
  static std::variant<TemplateSet, std::vector<std::string>> load(const std::filesystem::path& dir);

  bool has(const TemplateKey& key) const { return sources_.count(key) > 0; }
  std::vector<TemplateKey> keys() const;

  // The text a recipient reading `key.language` gets on `key.channel` for this incident.
  // Numbers are written the recipient's way (4,3 in French, 4.3 in English); zone names come
  // from the zone map in the recipient's language. HTML-escaped only for *.html templates.
  Result<std::string> render(const TemplateKey& key, const IncidentRecord& incident,
                             const ZoneMap& zones) const;

 private:
  std::map<TemplateKey, std::string> sources_;
};

}  // namespace tocsin::dispatchers
