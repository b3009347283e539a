#pragma once
// Message templates: config/templates/NAME.LANG.CHANNEL.mustache (kainjow Mustache, logic-less,
// safe for templates that staff edit). Rendered per recipient language and channel.

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "core/alert.hpp"
#include "core/incident.hpp"
#include "core/result.hpp"
#include "core/template_files.hpp"
#include "core/zones.hpp"

namespace date {
class time_zone;
}

namespace tocsin::dispatchers {

using TemplateKey = TemplateFile;

class TemplateSet {
 public:
  // Every file of dir, compiled; every file that is misnamed or does not compile is an error
  // naming it (all of them are reported).
  // `zone`: the city's clock, for the times messages give (null: UTC).
  static std::variant<TemplateSet, std::vector<std::string>> load(
      const std::filesystem::path& dir, const date::time_zone* zone = nullptr);

  bool has(const TemplateKey& key) const { return sources_.count(key) > 0; }
  // What an SMS template declares with {{! alphabet: gsm|ucs2 }}; "gsm" when it does not.
  std::string alphabet(const TemplateKey& key) const;
  // Whether the template has its own exercise marking ({{#exercise}}…{{/exercise}}).
  bool marks_exercise(const TemplateKey& key) const;
  std::vector<TemplateKey> keys() const;

  // The text a recipient reading `key.language` gets on `key.channel` for this incident.
  // Numbers are written the recipient's way (4,3 in French, 4.3 in English); zone names come
  // from the zone map in the recipient's language. HTML-escaped only for *.html templates.
  Result<std::string> render(const TemplateKey& key, const IncidentRecord& incident,
                             const ZoneMap& zones, const std::string& note = "") const;

 private:
  std::map<TemplateKey, std::string> sources_;
  const date::time_zone* zone_ = nullptr;
};

// The message for one channel and language: for email, the template's first line
// "Subject: …" is the subject, the rest the text, and NAME.LANG.email.html.mustache (if there is
// one) the HTML part.
Result<Message> render_message(const TemplateSet& templates, const ZoneMap& zones,
                               const std::string& template_name, const IncidentRecord& incident,
                               const std::string& language, const std::string& channel,
                               const std::string& note = "");

// The exercise lint of one template text. What every rendering shows has no exercise wording
// (exercise, exercice, drill, simulation) and no claim to be real (not a drill, pas un exercice);
// {{#exercise}} sections (exercise only) make no claim to be real; {{^exercise}} sections (real
// alerts only) may say "not a drill". The problem, or nullopt.
std::optional<std::string> exercise_wording(const std::string& text);

// A time as a reader of `language` in Canada writes it, on the city's clock (`zone`; null or UTC:
// UTC, said so): "1er novembre 2026, 1 h 30", "November 1, 2026, 1:30 a.m." (fr-CA and en-CA). An
// hour that happens twice (the November change) is the one the instant falls in.
std::string time_text(Timestamp t, const std::string& language,
                      const date::time_zone* zone = nullptr);

}  // namespace tocsin::dispatchers
