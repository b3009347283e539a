#include "core/template_files.hpp"

#include <regex>

namespace tocsin {

std::optional<TemplateFile> parse_template_file_name(std::string_view file_name) {
  static const std::regex re(R"(^([a-z0-9-]+)\.(fr|en)\.([a-z]+(?:\.[a-z]+)?)\.mustache$)");
  std::string text(file_name);
  std::smatch m;
  if (!std::regex_match(text, m, re)) return std::nullopt;
  return TemplateFile{m[1], m[2], m[3]};
}

}  // namespace tocsin
