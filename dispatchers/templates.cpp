#include "dispatchers/templates.hpp"

#include <date/tz.h>

#include <cctype>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>

#include <kainjow/mustache.hpp>

#include "channels/registry.hpp"
#include "core/json_body.hpp"

namespace tocsin::dispatchers {

namespace mustache = kainjow::mustache;

namespace {

constexpr std::size_t kMaxTemplateBytes = 64 * 1024;

std::string number_text(double v, const std::string& language) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  std::string s = buf;
  if (language == "fr")
    for (char& c : s)
      if (c == '.') c = ',';
  return s;
}

// CAP severities, as a resident reads them.
std::string severity_text(Severity s, const std::string& language) {
  static const char* fr[] = {"inconnue", "mineure", "modérée", "grave", "extrême"};
  static const char* en[] = {"unknown", "minor", "moderate", "severe", "extreme"};
  return (language == "fr" ? fr : en)[static_cast<int>(s)];
}

}  // namespace

std::optional<std::string> exercise_wording(const std::string& text) {
  auto lower = [](std::string s) {
    for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
    return s;
  };
  // What shows for an exercise only ({{#exercise}}), for a real alert only ({{^exercise}}), and
  // always (the rest, which an exercise shows too).
  std::string always, exercise, real_only;
  std::size_t at = 0;
  while (at < text.size()) {
    auto open = std::min(text.find("{{#exercise}}", at), text.find("{{^exercise}}", at));
    if (open == std::string::npos) {
      always += text.substr(at);
      break;
    }
    always += text.substr(at, open - at);
    auto close = text.find("{{/exercise}}", open);
    if (close == std::string::npos) break;  // the compiler reports the unclosed section
    (text[open + 2] == '#' ? exercise : real_only) += text.substr(open + 13, close - open - 13);
    at = close + 13;
  }
  static const char* claims_real[] = {"not a drill", "not an exercise", "pas un exercice",
                                      "pas une simulation"};
  static const char* drill[] = {"exercise", "exercice", "drill", "simulation"};
  auto find_any = [](const std::string& t, const auto& words) -> const char* {
    for (const char* w : words)
      if (t.find(w) != std::string::npos) return w;
    return nullptr;
  };
  auto strip = [&](std::string t) {
    for (const char* w : claims_real)
      for (auto p = t.find(w); p != std::string::npos; p = t.find(w)) t.erase(p, std::strlen(w));
    return t;
  };
  std::string a = lower(always), e = lower(exercise), r = lower(real_only);
  if (const char* w = find_any(a, claims_real))
    return std::string("'") + w +
           "' outside {{^exercise}}…{{/exercise}}: an exercise would say it too";
  if (const char* w = find_any(a, drill))
    return std::string("exercise wording '") + w +
           "' outside {{#exercise}}…{{/exercise}}: a real alert would carry it";
  if (const char* w = find_any(strip(r), drill))
    return std::string("exercise wording '") + w + "' in {{^exercise}}…{{/exercise}}";
  if (const char* w = find_any(e, claims_real))
    return std::string("the exercise marking says '") + w + "'";
  return std::nullopt;
}

std::variant<TemplateSet, std::vector<std::string>> TemplateSet::load(
    const std::filesystem::path& dir, const date::time_zone* zone) {
  TemplateSet set;
  set.zone_ = zone;
  std::vector<std::string> errors;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec))
    return std::vector<std::string>{dir.string() + ": is not a directory"};
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    std::string file = entry.path().string();
    auto key = parse_template_file_name(entry.path().filename().string());
    if (!key) {
      errors.push_back(file + ": not named NAME.LANG.CHANNEL.mustache (LANG fr or en)");
      continue;
    }
    if (entry.file_size(ec) > kMaxTemplateBytes) {
      errors.push_back(file + ": is larger than " + std::to_string(kMaxTemplateBytes) + " bytes");
      continue;
    }
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    if (!is_valid_utf8(text)) {
      errors.push_back(file + ": is not valid UTF-8");
      continue;
    }
    mustache::mustache compiled(text);
    if (!compiled.is_valid()) {
      errors.push_back(file + ": " + compiled.error_message());
      continue;
    }
    if (auto wrong = exercise_wording(text)) {
      errors.push_back(file + ": " + *wrong);
      continue;
    }
    set.sources_[*key] = std::move(text);
  }
  if (!errors.empty()) return errors;
  return set;
}

std::string TemplateSet::alphabet(const TemplateKey& key) const {
  auto it = sources_.find(key);
  if (it == sources_.end()) return "gsm";
  return it->second.find("{{! alphabet: ucs2 }}") != std::string::npos ? "ucs2" : "gsm";
}

bool TemplateSet::marks_exercise(const TemplateKey& key) const {
  auto it = sources_.find(key);
  return it != sources_.end() && it->second.find("{{#exercise}}") != std::string::npos;
}

std::vector<TemplateKey> TemplateSet::keys() const {
  std::vector<TemplateKey> out;
  for (const auto& [k, v] : sources_) out.push_back(k);
  return out;
}

Result<std::string> TemplateSet::render(const TemplateKey& key, const IncidentRecord& record,
                                        const ZoneMap& zones, const std::string& note) const {
  auto it = sources_.find(key);
  if (it == sources_.end())
    return Error{"missing_template",
                 "template: no " + key.name + "." + key.language + "." + key.channel + ".mustache",
                 "template"};
  const Incident& inc = record.incident;
  const std::string& lang = key.language;

  mustache::data attributes{mustache::data::type::object};
  for (const auto& [name, value] : inc.attributes) {
    if (auto* d = std::get_if<double>(&value))
      attributes.set(name, number_text(*d, lang));
    else if (auto* b = std::get_if<bool>(&value))
      attributes.set(name, *b ? mustache::data::type::bool_true : mustache::data::type::bool_false);
    else
      attributes.set(name, std::get<std::string>(value));
  }
  std::string zone = inc.location.zone.value_or("");
  std::string zone_name = zone;
  if (auto zones_of = zones.zones_of(inc.location); !zones_of.empty()) {
    if (zone.empty()) zone = zones_of.front();
    if (const Zone* z = zones.find(zone)) zone_name = lang == "fr" ? z->name_fr : z->name_en;
  }
  mustache::data incident;
  incident.set("id", inc.id);
  incident.set("type", inc.type);
  incident.set("severity", severity_text(inc.severity, lang));
  incident.set("headline", inc.headline);
  incident.set("description", inc.description);
  incident.set("zone", zone);
  incident.set("zone_name", zone_name);
  incident.set("occurred_at", format_rfc3339(inc.occurred_at));
  incident.set("occurred_at_text", time_text(inc.occurred_at, lang, zone_));
  incident.set("attributes", attributes);
  incident.set("status", std::string(to_string(inc.status)));
  mustache::data context;
  context.set("incident", incident);
  context.set("note", note);  // a cancel's or a correction's own words
  // A grouped run's alert: {{#group}}{{source}} {{headline}}{{/group}}, {{group_count}}.
  mustache::data group{mustache::data::type::list};
  for (const auto& m : record.group) {
    mustache::data item;
    item.set("id", m.id);
    item.set("source", m.source);
    item.set("type", m.type);
    item.set("headline", m.headline);
    item.set("severity", severity_text(m.severity, lang));
    std::string name = m.zone;
    if (const Zone* z = zones.find(m.zone)) name = lang == "fr" ? z->name_fr : z->name_en;
    item.set("zone_name", name);
    group.push_back(item);
  }
  context.set("group", group);
  context.set("group_count", std::to_string(record.group.empty() ? 1 : record.group.size()));
  context.set("grouped", record.group.size() > 1 ? mustache::data::type::bool_true
                                                 : mustache::data::type::bool_false);
  // {{#exercise}}…{{/exercise}}: the marking every message of a non-actual incident carries.
  context.set("exercise", inc.status == Status::actual ? mustache::data::type::bool_false
                                                       : mustache::data::type::bool_true);

  mustache::mustache tmpl(it->second);
  if (key.channel.find("html") == std::string::npos)
    tmpl.set_custom_escape([](const std::string& s) { return s; });  // plain text: as is
  std::string text = tmpl.render(context);
  if (!tmpl.is_valid())
    return Error{"template_error", key.name + ": " + tmpl.error_message(), "template"};
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

std::string time_text(Timestamp t, const std::string& language, const date::time_zone* zone) {
  using namespace std::chrono;
  // A city on UTC says so: its readers are elsewhere (and a test server has no city).
  const bool utc = !zone || zone->name() == "UTC" || zone->name() == "Etc/UTC";
  const char* suffix = utc ? " UTC" : "";
  const auto instant = floor<minutes>(t);
  const auto local = zone ? date::zoned_time<minutes>(zone, instant).get_local_time()
                          : date::local_time<minutes>(instant.time_since_epoch());
  const auto day = floor<date::days>(local);
  const date::year_month_day ymd{day};
  const date::hh_mm_ss<minutes> clock{duration_cast<minutes>(local - day)};
  const int d = int(unsigned(ymd.day())), month = int(unsigned(ymd.month())) - 1,
            year = int(ymd.year()), hour = int(clock.hours().count()),
            minute = int(clock.minutes().count());
  static const char* fr[] = {"janvier", "février", "mars",      "avril",   "mai",      "juin",
                             "juillet", "août",    "septembre", "octobre", "novembre", "décembre"};
  static const char* en[] = {"January", "February", "March",     "April",   "May",      "June",
                             "July",    "August",   "September", "October", "November", "December"};
  char buf[96];
  if (language == "fr")
    std::snprintf(buf, sizeof buf, "%d%s %s %d, %d h %02d%s", d, d == 1 ? "er" : "", fr[month],
                  year, hour, minute, suffix);
  else
    std::snprintf(buf, sizeof buf, "%s %d, %d, %d:%02d %s%s", en[month], d, year,
                  hour % 12 == 0 ? 12 : hour % 12, minute, hour < 12 ? "a.m." : "p.m.", suffix);
  return buf;
}

Result<Message> render_message(const TemplateSet& templates, const ZoneMap& zones,
                               const std::string& template_name, const IncidentRecord& incident,
                               const std::string& language, const std::string& channel,
                               const std::string& note) {
  auto text = templates.render({template_name, language, channel}, incident, zones, note);
  if (!text) return text.error();
  Message m;
  m.language = language;
  m.text = std::move(text.value());
  const channels::Capabilities& can = channels::capabilities(channel);
  if (can.segments > 0) m.alphabet = templates.alphabet({template_name, language, channel});
  // Exercise vs live by construction: a message about a non-actual incident says so, in the
  // template's own words or, when it has none (a staff page), in a prefix.
  Status status = incident.incident.status;
  bool marked = templates.marks_exercise({template_name, language, channel});
  std::string prefix;
  if (status != Status::actual && !marked) {
    static const std::map<Status, std::pair<const char*, const char*>> kWords{
        {Status::exercise, {"EXERCICE", "EXERCISE"}},
        {Status::test, {"TEST", "TEST"}},
        {Status::system, {"SYSTÈME", "SYSTEM"}},
        {Status::draft, {"BROUILLON", "DRAFT"}}};
    const auto& w = kWords.at(status);
    prefix = std::string(language == "fr" ? w.first : w.second) + ": ";  // GSM-safe
  }
  if (can.subject) {
    constexpr std::string_view kSubject = "Subject:";
    if (m.text.compare(0, kSubject.size(), kSubject) != 0)
      return Error{"template_error",
                   template_name + "." + language +
                       ".email.mustache: the first line must be "
                       "'Subject: …'",
                   "template"};
    auto eol = m.text.find('\n');
    m.subject =
        m.text.substr(kSubject.size(), eol == std::string::npos ? eol : eol - kSubject.size());
    while (!m.subject.empty() && m.subject.front() == ' ') m.subject.erase(0, 1);
    m.text = eol == std::string::npos ? "" : m.text.substr(eol + 1);
    while (!m.text.empty() && m.text.front() == '\n') m.text.erase(0, 1);
    TemplateKey html{template_name, language, "email.html"};
    if (templates.has(html)) {
      auto h = templates.render(html, incident, zones, note);
      if (!h) return h.error();
      m.html = std::move(h.value());
    }
  }
  if (!prefix.empty()) {
    m.text = prefix + m.text;
    if (!m.subject.empty()) m.subject = prefix + m.subject;
  }
  return m;
}

}  // namespace tocsin::dispatchers
