#pragma once
// How message template files are named: NAME.LANG.CHANNEL.mustache, e.g.
// flood-public.fr.sms.mustache or flood-public.en.email.html.mustache. Read by the playbook
// validator (which names exist) and by the renderer.

#include <compare>
#include <optional>
#include <string>
#include <string_view>

namespace tocsin {

struct TemplateFile {
  std::string name;      // lower-case letters, digits, '-'
  std::string language;  // fr | en
  std::string channel;   // a word, or two joined by '.' (email.html)
  auto operator<=>(const TemplateFile&) const = default;
};

// nullopt when the file name does not follow the pattern.
std::optional<TemplateFile> parse_template_file_name(std::string_view file_name);

}  // namespace tocsin
