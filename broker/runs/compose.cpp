#include "broker/runs/compose.hpp"

#include <yaml-cpp/yaml.h>

#include <boost/json.hpp>

#include "channels/registry.hpp"
#include "channels/sms/segments.hpp"
#include "core/json_body.hpp"
#include "core/yaml_reader.hpp"
#include "playbooks/parser.hpp"

namespace tocsin::compose {

namespace json = boost::json;

namespace {

constexpr std::initializer_list<const char*> kPatterns = {"wail",   "steady",    "hi-lo",
                                                          "pulsed", "all-clear", "test"};
constexpr std::size_t kMaxList = 64;

// A list of known names; nullopt (and `err` set) if it is not one.
std::optional<std::vector<std::string>> names(const json::value& v, const std::string& field,
                                              const std::set<std::string>& known, const char* what,
                                              Error& err) {
  if (!v.is_array() || v.as_array().size() > kMaxList) {
    err =
        field_error("wrong_type", field, "must be a list of at most 64 " + std::string(what) + "s");
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (const auto& e : v.as_array()) {
    if (!e.is_string()) {
      err = field_error("wrong_type", field, "each entry must be a string");
      return std::nullopt;
    }
    std::string s(e.as_string());
    if (!known.count(s)) {
      err = field_error("invalid", field, "unknown " + std::string(what) + " '" + s + "'");
      return std::nullopt;
    }
    if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(std::move(s));
  }
  return out;
}

std::optional<std::chrono::seconds> duration(const json::value& v, const std::string& field,
                                             std::chrono::seconds min, std::chrono::seconds max,
                                             Error& err) {
  std::optional<std::chrono::seconds> d;
  if (v.is_string()) d = parse_duration(std::string(v.as_string()));
  if (!d || *d < min || *d > max) {
    err = field_error("invalid", field,
                      "must be a duration from " + format_duration(min) + " to " +
                          format_duration(max) + " (90s, 10m, 2h)");
    return std::nullopt;
  }
  return d;
}

void emit_list(YAML::Emitter& y, const char* key, const std::vector<std::string>& v) {
  y << YAML::Key << key << YAML::Value << YAML::Flow << YAML::BeginSeq;
  for (const auto& s : v) y << s;
  y << YAML::EndSeq;
}

}  // namespace

Result<Request> parse(std::string_view body, const ActivePlaybooks& set) {
  auto v = json_object_body(body, kMaxRequestBytes);
  if (!v) return v.error();
  const auto& o = v.value().get_object();
  const auto& cat = set.catalog;
  Error err;
  Request r;
  FieldReader fields(o);
  if (auto e =
          fields.only({"template", "channels", "audience", "zones", "expires", "siren", "confirm"}))
    return *e;

  if (auto e = fields.text("template", true, 128, r.template_name)) return *e;
  if (!cat.templates.count(r.template_name))
    return field_error("invalid", "template", "unknown template '" + r.template_name + "'");

  std::set<std::string> allowed;
  for (const auto& c : cat.channels)
    if (!channels::capabilities(c).sounds) allowed.insert(c);  // sirens: asked for with `siren`
  auto* c = o.if_contains("channels");
  if (!c) return field_error("missing_field", "channels", "is required");
  auto ch = names(*c, "channels", allowed, "channel", err);
  if (!ch) return err;
  if (ch->empty()) return field_error("invalid", "channels", "pick at least one channel");
  r.channels = std::move(*ch);

  auto* a = o.if_contains("audience");
  if (!a) return field_error("missing_field", "audience", "is required");
  if (!a->is_object()) return field_error("wrong_type", "audience", "must be an object");
  for (const auto& kv : a->as_object()) {
    std::string f = "audience." + std::string(kv.key());
    if (kv.key() == "groups" || kv.key() == "roles" || kv.key() == "people") {
      const auto& known = kv.key() == "groups"  ? cat.groups
                          : kv.key() == "roles" ? cat.roles
                                                : cat.people;
      auto list =
          names(kv.value(), f, known, kv.key() == "people" ? "person" : "group or role", err);
      if (!list) return err;
      (kv.key() == "groups"  ? r.audience.groups
       : kv.key() == "roles" ? r.audience.roles
                             : r.audience.people) = std::move(*list);
    } else if (kv.key() == "residents") {
      if (!kv.value().is_bool()) return field_error("wrong_type", f, "must be true or false");
      r.audience.residents = kv.value().as_bool();
    } else {
      return field_error("unknown_field", f, "is not a known field");
    }
  }
  if (r.audience.empty())
    return field_error("invalid", "audience", "names nobody (groups, roles, people, residents)");

  if (auto* z = o.if_contains("zones")) {
    std::set<std::string> zones;
    if (cat.zones)
      for (const auto& zone : cat.zones->zones()) zones.insert(zone.id);
    auto list = names(*z, "zones", zones, "zone", err);
    if (!list) return err;
    r.zones = std::move(*list);
  }
  if (auto* s = o.if_contains("siren")) {
    if (!s->is_object()) return field_error("wrong_type", "siren", "must be an object");
    if (auto e = FieldReader(s->as_object(), "siren").only({"pattern", "duration"})) return *e;
    auto* p = s->as_object().if_contains("pattern");
    if (!p || !p->is_string() ||
        std::find(kPatterns.begin(), kPatterns.end(), std::string_view(p->as_string())) ==
            kPatterns.end())
      return field_error("invalid", "siren.pattern",
                         "must be one of wail, steady, hi-lo, pulsed, all-clear, test");
    r.siren_pattern = p->as_string();
    auto* d = s->as_object().if_contains("duration");
    if (!d) return field_error("missing_field", "siren.duration", "is required");
    auto dur =
        duration(*d, "siren.duration", std::chrono::seconds(10), std::chrono::minutes(30), err);
    if (!dur) return err;
    r.siren_duration = *dur;
  }
  if ((r.audience.residents || !r.siren_pattern.empty()) && r.zones.empty())
    return field_error("invalid", "zones",
                       "pick the area on the map (residents and sirens need zones)");

  if (auto* e = o.if_contains("expires")) {
    if (!r.audience.residents)
      return field_error("invalid", "expires", "only an alert to residents (public) expires");
    auto d = duration(*e, "expires", std::chrono::minutes(1), std::chrono::hours(7 * 24), err);
    if (!d) return err;
    r.expires = *d;
  } else if (r.audience.residents) {
    return field_error("missing_field", "expires",
                       "is required for a public alert (how long it stands)");
  }
  r.exercise_marked = true;
  for (const auto& c : r.channels)
    for (const char* lang : {"fr", "en"}) {
      auto it = cat.template_texts.find(TemplateFile{r.template_name, lang, c});
      if (it != cat.template_texts.end() && it->second.find("{{#exercise}}") == std::string::npos)
        r.exercise_marked = false;
    }
  if (auto* f = o.if_contains("confirm")) {
    if (!f->is_string() || f->as_string().size() > 64)
      return field_error("wrong_type", "confirm", "must be a string of at most 64 bytes");
    r.confirm = f->as_string();
  }
  return r;
}

bool needs_confirmation(const Request& r, Status incident_status) {
  return r.is_public() && incident_status == Status::actual;
}

bool is_live_word(std::string_view word) {
  return word == "LIVE" || word == "RÉEL" || word == "REEL";
}

bool confirmed(const Request& r) {
  return is_live_word(r.confirm);
}

std::string playbook_text(const Request& r, const std::string& by, Status incident_status) {
  bool exercise = incident_status != Status::actual;
  YAML::Emitter y;
  y << YAML::BeginMap;
  y << YAML::Key << "id" << YAML::Value << "composed";
  y << YAML::Key << "description" << YAML::Value
    << "Composed in the console by " + by + (exercise ? " (exercise)" : " (LIVE)");
  y << YAML::Key << "match" << YAML::Value << YAML::Flow << YAML::BeginMap;
  emit_list(y, "type", {"manual.composed"});  // never matched: started directly
  y << YAML::EndMap;
  y << YAML::Key << "steps" << YAML::Value << YAML::BeginSeq;
  if (r.is_public()) {
    // Two people: whoever composed it cannot also approve it.
    y << YAML::BeginMap << YAML::Key << "require_approval" << YAML::Value << YAML::Flow
      << YAML::BeginMap;
    y << YAML::Key << "role" << YAML::Value << "approver";
    y << YAML::Key << "distinct_from_initiator" << YAML::Value << true;
    y << YAML::Key << "timeout" << YAML::Value << "15m";
    y << YAML::Key << "on_timeout" << YAML::Value << "cancel";
    y << YAML::EndMap << YAML::EndMap;
  }
  y << YAML::BeginMap << YAML::Key << "notify" << YAML::Value << YAML::BeginMap;
  y << YAML::Key << "audience" << YAML::Value << YAML::Flow << YAML::BeginMap;
  if (!r.audience.groups.empty()) emit_list(y, "groups", r.audience.groups);
  if (!r.audience.roles.empty()) emit_list(y, "roles", r.audience.roles);
  if (!r.audience.people.empty()) emit_list(y, "people", r.audience.people);
  if (r.audience.residents) {
    y << YAML::Key << "residents" << YAML::Value << YAML::Flow << YAML::BeginMap;
    emit_list(y, "zones", r.zones);
    y << YAML::EndMap;
  }
  y << YAML::EndMap;
  emit_list(y, "channels", r.channels);
  y << YAML::Key << "template" << YAML::Value << r.template_name;
  if (r.audience.residents) {
    y << YAML::Key << "public" << YAML::Value << true;
    y << YAML::Key << "expires" << YAML::Value << format_duration(r.expires);
    // Held back for an exercise unless its templates say it is one (as a playbook's would be).
    if (exercise && r.exercise_marked) y << YAML::Key << "allow_in_exercise" << YAML::Value << true;
  }
  y << YAML::EndMap << YAML::EndMap;
  if (!r.siren_pattern.empty()) {
    y << YAML::BeginMap << YAML::Key << "siren" << YAML::Value << YAML::Flow << YAML::BeginMap;
    emit_list(y, "zones", r.zones);
    y << YAML::Key << "pattern" << YAML::Value << r.siren_pattern;
    y << YAML::Key << "duration" << YAML::Value << format_duration(r.siren_duration);
    y << YAML::EndMap << YAML::EndMap;
  }
  y << YAML::EndSeq << YAML::EndMap;
  return std::string(y.c_str()) + "\n";
}

std::vector<std::string> check(const Request& r, const std::string& by, Status incident_status,
                               const ActivePlaybooks& set) {
  auto parsed = playbooks::parse_playbook(playbook_text(r, by, incident_status), "composed",
                                          set.catalog, playbooks::Origin::composed);
  std::vector<std::string> out;
  for (auto e : parsed.errors) {
    // "composed:LINE:COLUMN: steps[1].notify…": the lines are ours, not the composer's.
    if (e.rfind("composed:", 0) == 0) {
      auto colon = e.find(": ");
      if (colon != std::string::npos) e = e.substr(colon + 2);
    }
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<Alert> alerts(const Request& r, const IncidentRecord& incident) {
  std::vector<Alert> out;
  std::size_t step = r.is_public() ? 1 : 0;
  Alert n;
  n.incident_id = incident.incident.id;
  n.playbook_id = "composed";
  n.kind = "notify";
  n.audience = r.audience;
  if (r.audience.residents) n.audience.resident_zones = r.zones;
  n.channels = r.channels;
  n.template_name = r.template_name;
  n.is_public = r.audience.residents;
  n.created_at = now();
  n.status = incident.incident.status;
  n.allow_in_exercise = incident.incident.status != Status::actual && r.exercise_marked;
  n.step = step;
  n.expires = r.expires;
  out.push_back(n);
  if (!r.siren_pattern.empty()) {
    Alert s;
    s.incident_id = incident.incident.id;
    s.playbook_id = "composed";
    s.kind = "siren";
    s.channels = {"siren"};
    s.is_public = true;
    s.zones = r.zones;
    s.pattern = r.siren_pattern;
    s.duration = r.siren_duration;
    s.created_at = n.created_at;
    s.status = incident.incident.status;
    s.step = step + 1;
    out.push_back(s);
  }
  return out;
}

json::object options(const ActivePlaybooks& set,
                     const std::function<bool(const std::string&)>& has_channel) {
  const auto& cat = set.catalog;
  json::array templates;
  for (const auto& name : cat.templates) {
    json::array chans;
    for (const auto& c : cat.channels) {
      if (channels::capabilities(c).sounds) continue;
      bool both = !cat.templated_channels.count(c) ||
                  (cat.template_files.count(TemplateFile{name, "fr", c}) &&
                   cat.template_files.count(TemplateFile{name, "en", c}));
      if (both && (!has_channel || has_channel(c))) chans.emplace_back(c);
    }
    templates.push_back(json::object{{"name", name}, {"channels", std::move(chans)}});
  }
  json::array texts;  // the channels a composed alert names (sirens have their own field)
  bool sirens = false;
  for (const auto& c : cat.channels) {
    if (has_channel && !has_channel(c)) continue;
    if (channels::capabilities(c).sounds)
      sirens = true;
    else
      texts.emplace_back(c);
  }
  auto list = [](const std::set<std::string>& s) {
    json::array a;
    for (const auto& e : s) a.emplace_back(e);
    return a;
  };
  json::array people;
  for (const auto& p : set.references.people.people())
    people.push_back(json::object{{"id", p.id}, {"name", p.name}});
  json::array zones;
  for (const auto& z : set.references.zones.zones()) {
    json::array polygons;
    for (const auto& ring : z.polygons) {
      json::array points;
      for (const auto& pt : ring) points.push_back(json::array{pt.lon, pt.lat});
      polygons.push_back(std::move(points));
    }
    zones.push_back(json::object{{"id", z.id},
                                 {"name_fr", z.name_fr},
                                 {"name_en", z.name_en},
                                 {"polygons", std::move(polygons)}});
  }
  json::array patterns;
  for (const char* p : kPatterns) patterns.emplace_back(p);
  // What a person may report: the types the playbooks match (a glob as its prefix, "chem.").
  std::set<std::string> types;
  for (const auto& p : set.playbooks)
    for (const auto& t : p.match.types) types.insert(t.substr(0, t.find('*')));
  return json::object{{"templates", std::move(templates)},
                      {"incident_types", list(types)},
                      {"channels", std::move(texts)},
                      {"groups", list(cat.groups)},
                      {"roles", list(cat.roles)},
                      {"people", std::move(people)},
                      {"zones", std::move(zones)},
                      {"sirens", sirens || !has_channel},
                      {"siren_patterns", std::move(patterns)}};
}

json::object preview_json(const Request& r, const IncidentRecord& incident,
                          const std::vector<dispatchers::AlertPreview>& previews) {
  json::object messages;
  json::object recipients;
  json::array problems, sirens, area;
  for (const auto& p : previews) {
    for (const auto& [channel, n] : p.reach.recipients)
      recipients[channel] =
          (recipients.contains(channel) ? recipients[channel].as_int64() : 0) + std::int64_t(n);
    for (const auto& s : p.reach.sirens) sirens.emplace_back(s);
    for (const auto& [channel, langs] : p.draft.messages) {
      json::object per;
      for (const auto& [lang, m] : langs) {
        json::object one{{"text", m.text}};
        if (!m.subject.empty()) one["subject"] = m.subject;
        if (channels::capabilities(channel).segments > 0) {
          auto seg = channels::sms::count_segments(m.text);
          one["segments"] = seg.segments;
          one["encoding"] = seg.encoding == channels::sms::Encoding::gsm7 ? "gsm7" : "ucs2";
          one["units"] = seg.units;
          if (!seg.first_non_gsm.empty()) one["first_non_gsm"] = seg.first_non_gsm;
        }
        per[lang] = std::move(one);
      }
      messages[channel] = std::move(per);
    }
  }
  if (!previews.empty()) {
    const auto& notify = previews.front();
    for (const auto& z : notify.draft.area) area.emplace_back(z);
    // The lint on every channel named (not only those someone is reached on yet).
    auto lint = notify.reach.problems;
    if (r.audience.residents) lint = dispatchers::lint_public_alert(notify.draft);
    for (const auto& e : notify.draft.render_errors)
      if (std::find(lint.begin(), lint.end(), e) == lint.end()) lint.push_back(e);
    for (const auto& p : lint) problems.emplace_back(p);
  }
  Status st = incident.incident.status;
  // About an exercise, a public alert whose templates do not mark it goes nowhere public.
  bool held_back = st != Status::actual && r.is_public() &&
                   (!r.siren_pattern.empty() || (r.audience.residents && !r.exercise_marked));
  json::array words;
  if (needs_confirmation(r, st)) words = json::array{"LIVE", "RÉEL"};
  return json::object{{"incident", incident.incident.id},
                      {"status", to_string(st)},
                      {"live", st == Status::actual},
                      {"public", r.is_public()},
                      {"needs_approval", r.is_public()},
                      {"held_back", held_back},
                      {"confirmation", std::move(words)},
                      {"messages", std::move(messages)},
                      {"reach", json::object{{"recipients", std::move(recipients)},
                                             {"zones", std::move(area)},
                                             {"sirens", std::move(sirens)}}},
                      {"problems", std::move(problems)}};
}

}  // namespace tocsin::compose
