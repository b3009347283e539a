#include "playbooks/parser.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "core/yaml_reader.hpp"
#include "core/zones.hpp"

namespace tocsin::playbooks {

namespace {

constexpr std::initializer_list<const char*> kSirenPatterns = {"wail",   "steady",    "hi-lo",
                                                               "pulsed", "all-clear", "test"};

class PlaybookReader {
 public:
  PlaybookReader(YamlReader& r, const Catalog& catalog) : r_(r), catalog_(catalog) {}

  void known(const YAML::Node& node, const std::string& what, const std::string& path,
             const std::set<std::string>& set, const std::vector<std::string>& items) {
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (set.count(items[i])) continue;
      YAML::Node at = node.IsSequence() && i < node.size() ? node[i] : node;
      r_.error(at.Mark(), path + ": unknown " + what + " '" + items[i] + "'");
    }
  }

  void zones(const YAML::Node& parent, const std::string& path, const char* key,
             std::vector<std::string>& out, bool required) {
    if (!r_.string_list(parent, path, key, required, out)) return;
    if (!catalog_.zones) return;
    std::set<std::string> ids;
    for (const auto& z : catalog_.zones->zones()) ids.insert(z.id);
    known(parent[key], "zone", YamlReader::join(path, key), ids, out);
  }

  std::optional<AttributeValue> scalar_value(const YAML::Node& n, const std::string& path) {
    if (!n.IsScalar()) {
      r_.error(n.Mark(), path + ": must be a number, a string or true/false");
      return std::nullopt;
    }
    const std::string& s = n.Scalar();
    if (n.Tag() == "!") return AttributeValue(s);  // quoted: a string
    bool b;
    if (s == "true" || s == "false") {
      YAML::convert<bool>::decode(n, b);
      return AttributeValue(b);
    }
    double d;
    if (YAML::convert<double>::decode(n, d)) return AttributeValue(d);
    return AttributeValue(s);
  }

  void conditions(const YAML::Node& node, const std::string& path,
                  std::vector<AttributeCondition>& out) {
    if (!node.IsMap()) {
      r_.error(node.Mark(), path + ": must map attribute names to tests");
      return;
    }
    for (const auto& kv : node) {
      std::string name = kv.first.Scalar();
      std::string at = path + "." + name;
      const YAML::Node test = kv.second;
      if (!test.IsMap() || test.size() != 1) {
        r_.error(test.Mark(), at + ": must be one test, e.g. { \">=\": 4.0 } or { in: [a, b] }");
        continue;
      }
      auto op_node = test.begin()->first;
      const YAML::Node value = test.begin()->second;
      AttributeCondition c;
      c.name = name;
      c.op = op_node.Scalar();
      static const std::set<std::string> ops{"==", "!=", "<", "<=", ">", ">=", "in", "exists"};
      if (!ops.count(c.op)) {
        r_.error(op_node.Mark(),
                 at + ": unknown test '" + c.op + "' (==, !=, <, <=, >, >=, in, exists)");
        continue;
      }
      if (c.op == "exists") {
        if (!value.IsScalar() || !YAML::convert<bool>::decode(value, c.exists))
          r_.error(value.Mark(), at + ".exists: must be true or false");
      } else if (c.op == "in") {
        if (!value.IsSequence() || value.size() == 0) {
          r_.error(value.Mark(), at + ".in: must be a non-empty list");
          continue;
        }
        for (const auto& v : value)
          if (auto x = scalar_value(v, at + ".in")) c.values.push_back(*x);
      } else {
        auto x = scalar_value(value, at + "." + c.op);
        if (!x) continue;
        if ((c.op != "==" && c.op != "!=") && std::holds_alternative<bool>(*x))
          r_.error(value.Mark(), at + "." + c.op + ": cannot order true/false");
        c.values.push_back(*x);
      }
      out.push_back(std::move(c));
    }
  }

  void match(const YAML::Node& node, MatchSpec& m) {
    if (!r_.mapping(node, "match", {"type", "source", "severity", "zone", "attributes"})) return;
    r_.string_list(node, "match", "type", true, m.types);
    static const std::regex type_glob(R"(^[a-z0-9_*-]+(\.[a-z0-9_*-]+)*$)");
    for (std::size_t i = 0; i < m.types.size(); ++i)
      if (!std::regex_match(m.types[i], type_glob))
        r_.error(node["type"].Mark(),
                 "match.type: '" + m.types[i] + "' is not an incident type or glob (flood.*)");
    r_.string_list(node, "match", "source", false, m.sources);
    if (auto sev = r_.section(node, "match", "severity", false)) {
      if (sev->IsMap()) {
        if (r_.mapping(*sev, "match.severity", {"at_least"})) {
          std::string s;
          if (r_.string(*sev, "match.severity", "at_least", true, s)) {
            m.at_least = parse_severity(s);
            if (!m.at_least)
              r_.error((*sev)["at_least"].Mark(),
                       "match.severity.at_least: '" + s +
                           "' is not one of minor, moderate, severe, extreme");
          }
        }
      } else {
        std::vector<std::string> list;
        r_.string_list(node, "match", "severity", false, list);
        for (const auto& s : list) {
          auto v = parse_severity(s);
          if (!v)
            r_.error(sev->Mark(), "match.severity: '" + s +
                                      "' is not one of minor, moderate, severe, extreme, unknown");
          else
            m.severities.push_back(*v);
        }
      }
    }
    zones(node, "match", "zone", m.zones, false);
    if (auto attrs = r_.section(node, "match", "attributes", false))
      conditions(*attrs, "match.attributes", m.attributes);
  }

  void audience(const YAML::Node& node, const std::string& path, Audience& a) {
    if (!r_.mapping(node, path, {"roles", "groups", "people", "on_call", "residents"})) return;
    if (r_.string_list(node, path, "roles", false, a.roles))
      known(node["roles"], "role", path + ".roles", catalog_.roles, a.roles);
    if (r_.string_list(node, path, "groups", false, a.groups))
      known(node["groups"], "group", path + ".groups", catalog_.groups, a.groups);
    if (r_.string_list(node, path, "people", false, a.people))
      known(node["people"], "person", path + ".people", catalog_.people, a.people);
    if (r_.string_list(node, path, "on_call", false, a.on_call))
      known(node["on_call"], "schedule", path + ".on_call", catalog_.schedules, a.on_call);
    if (auto res = r_.section(node, path, "residents", false)) {
      a.residents = true;
      std::string rp = path + ".residents";
      if (r_.mapping(*res, rp, {"area", "zones", "category", "life_threatening"})) {
        std::string area;
        if (r_.string(*res, rp, "area", false, area)) {
          if (area == "incident")
            a.residents_incident_area = true;
          else
            r_.error((*res)["area"].Mark(), rp + ".area: must be 'incident' (or list zones)");
        }
        zones(*res, rp, "zones", a.resident_zones, false);
        if (r_.string(*res, rp, "category", false, a.resident_category)) {
          const auto& all = resident_categories();
          if (std::find(all.begin(), all.end(), a.resident_category) == all.end()) {
            std::string names;
            for (const auto& c : all) names += (names.empty() ? "" : ", ") + c;
            r_.error((*res)["category"].Mark(), rp + ".category: '" + a.resident_category +
                                                    "' is not a residents' category (" + names +
                                                    ")");
          }
        }
        r_.boolean(*res, rp, "life_threatening", a.life_threatening);
        if (!a.residents_incident_area && a.resident_zones.empty())
          r_.error(res->Mark(), rp + ": needs area: incident or zones: [...]");
      }
    }
    if (a.empty())
      r_.error(node.Mark(), path + ": names nobody (roles, groups, people, on_call, residents)");
  }

  void channels(const YAML::Node& parent, const std::string& path, std::vector<std::string>& out) {
    if (r_.string_list(parent, path, "channels", true, out))
      known(parent["channels"], "channel", path + ".channels", catalog_.channels, out);
  }

  void template_name(const YAML::Node& parent, const std::string& path, std::string& out) {
    if (r_.string(parent, path, "template", true, out) && !catalog_.templates.count(out))
      r_.error(parent["template"].Mark(), path + ".template: unknown template '" + out + "'");
  }

  // Each language × channel the template is sent on has its file: a recipient never gets nothing
  // because their language or channel was forgotten.
  void template_files(const YAML::Node& at, const std::string& path, const std::string& name,
                      const std::vector<std::string>& channels) {
    if (!catalog_.require_template_files || !catalog_.templates.count(name)) return;
    std::set<std::string> used;
    for (const auto& c : channels) {
      if (catalog_.templated_channels.count(c)) used.insert(c);
      if (auto fb = catalog_.fallbacks.find(c); fb != catalog_.fallbacks.end())
        if (catalog_.templated_channels.count(fb->second)) used.insert(fb->second);
    }
    for (const auto& c : used)
      for (const char* lang : {"fr", "en"})
        if (!catalog_.template_files.count(TemplateFile{name, lang, c}))
          r_.error(at.Mark(), path + ": template '" + name + "' has no " + c + " text in " + lang +
                                  " (" + name + "." + lang + "." + c + ".mustache)");
  }

  // A step that may run for an exercise needs templates that say so: each file it renders has an
  // {{#exercise}}…{{/exercise}} section, shown only when the incident is not actual.
  void exercise_marking(const YAML::Node& at, const std::string& path, const std::string& name,
                        const std::vector<std::string>& channels) {
    if (!catalog_.require_template_files) return;
    for (const auto& c : channels) {
      if (!catalog_.templated_channels.count(c)) continue;
      for (const char* lang : {"fr", "en"}) {
        auto it = catalog_.template_texts.find(TemplateFile{name, lang, c});
        if (it != catalog_.template_texts.end() &&
            it->second.find("{{#exercise}}") == std::string::npos)
          r_.error(at.Mark(), path + ": allow_in_exercise needs an exercise marking in " + name +
                                  "." + lang + "." + c +
                                  ".mustache ({{#exercise}}EXERCISE{{/exercise}})");
      }
    }
  }

  std::optional<Step> step(const YAML::Node& node, std::size_t index) {
    std::string path = "steps[" + std::to_string(index) + "]";
    if (!r_.mapping(node, path,
                    {"when", "notify", "wait", "siren", "require_approval", "resolve_when"}))
      return std::nullopt;
    Step s;
    std::vector<std::string> actions;
    for (const auto& kv : node)
      if (kv.first.Scalar() != "when") actions.push_back(kv.first.Scalar());
    if (actions.size() != 1) {
      r_.error(node.Mark(), path +
                                ": needs exactly one action (notify, wait, siren, "
                                "require_approval, resolve_when), has " +
                                std::to_string(actions.size()));
      return std::nullopt;
    }
    std::string when;
    if (r_.string(node, path, "when", false, when)) {
      static const std::map<std::string, Guard> guards{
          {"acknowledged", Guard::acknowledged},
          {"not_acknowledged", Guard::not_acknowledged},
          {"approved", Guard::approved},
          {"severity_rose", Guard::severity_rose}};
      auto it = guards.find(when);
      if (it == guards.end())
        r_.error(node["when"].Mark(), path + ".when: '" + when +
                                          "' is not one of acknowledged, not_acknowledged, "
                                          "approved, severity_rose");
      else
        s.when = it->second;
    }
    const std::string& kind = actions.front();
    const YAML::Node body = node[kind];
    std::string bp = path + "." + kind;
    if (kind == "notify") {
      Notify n;
      if (r_.mapping(body, bp,
                     {"audience", "channels", "template", "public", "allow_in_exercise", "expires",
                      "break_glass", "repeat"})) {
        if (auto a = r_.section(body, bp, "audience", true))
          audience(*a, bp + ".audience", n.audience);
        channels(body, bp, n.channels);
        template_name(body, bp, n.template_name);
        if (body["template"])
          template_files(body["template"], bp + ".template", n.template_name, n.channels);
        r_.boolean(body, bp, "public", n.is_public);
        r_.boolean(body, bp, "allow_in_exercise", n.allow_in_exercise);
        r_.boolean(body, bp, "break_glass", n.break_glass);
        if (n.break_glass && !n.is_public)
          r_.error(body["break_glass"].Mark(),
                   bp + ".break_glass: only a public alert or a siren is released by approval");
        if (n.allow_in_exercise && body["template"])
          exercise_marking(body["template"], bp + ".template", n.template_name, n.channels);
        if (n.is_public && !n.audience.residents)
          r_.error(body.Mark(), bp + ": a public alert needs residents in its audience");
        if (n.is_public && !body["expires"])
          r_.error(body.Mark(), bp + ".expires: required for a public alert (how long it stands)");
        if (body["expires"]) {
          if (!n.is_public)
            r_.error(body["expires"].Mark(), bp + ".expires: only a public alert expires");
          r_.duration(body, bp, "expires", true, n.expires, Seconds(60), Seconds(7 * 86400));
        }
        if (n.audience.residents && !n.is_public)
          r_.error(body.Mark(), bp + ": an alert to residents must say public: true");
        if (auto rep = r_.section(body, bp, "repeat", false)) {
          const std::string rp = bp + ".repeat";
          if (n.is_public)
            r_.error(rep->Mark(), rp + ": only a staff page repeats (a public alert is sent once)");
          if (r_.mapping(*rep, rp, {"every", "times"})) {
            r_.duration(*rep, rp, "every", true, n.repeat_every, Seconds(60), Seconds(3600));
            r_.integer(*rep, rp, "times", n.repeat_times, 1, 10);
            if (!(*rep)["times"]) r_.error(rep->Mark(), "missing required key '" + rp + ".times'");
          }
        }
      }
      s.action = std::move(n);
    } else if (kind == "wait") {
      Wait w;
      if (r_.mapping(body, bp, {"for", "until"})) {
        r_.duration(body, bp, "for", true, w.duration, Seconds(1), Seconds(7 * 86400));
        r_.choice(body, bp, "until", w.until, {"acknowledged"});
      }
      s.action = w;
    } else if (kind == "siren") {
      Siren sr;
      if (r_.mapping(body, bp,
                     {"zones", "pattern", "duration", "allow_in_exercise", "break_glass"})) {
        r_.boolean(body, bp, "allow_in_exercise", sr.allow_in_exercise);
        r_.boolean(body, bp, "break_glass", sr.break_glass);
        zones(body, bp, "zones", sr.zones, true);
        if (r_.string(body, bp, "pattern", true, sr.pattern))
          r_.choice(body, bp, "pattern", sr.pattern, kSirenPatterns);
        r_.duration(body, bp, "duration", true, sr.duration, Seconds(10), Seconds(1800));
      }
      s.action = sr;
    } else if (kind == "require_approval") {
      RequireApproval ra;
      if (r_.mapping(
              body, bp,
              {"role", "count", "distinct_from_initiator", "timeout", "on_timeout", "escalate_to",
               "escalate_channels", "escalate_template", "max_escalations"})) {
        if (r_.string(body, bp, "role", true, ra.role) && !catalog_.roles.count(ra.role))
          r_.error(body["role"].Mark(), bp + ".role: unknown role '" + ra.role + "'");
        r_.integer(body, bp, "count", ra.count, 1, 10);
        r_.boolean(body, bp, "distinct_from_initiator", ra.distinct_from_initiator);
        r_.duration(body, bp, "timeout", true, ra.timeout, Seconds(60), Seconds(86400));
        r_.choice(body, bp, "on_timeout", ra.on_timeout, {"cancel", "escalate"});
        r_.integer(body, bp, "max_escalations", ra.max_escalations, 1, 10);
        if (ra.on_timeout == "escalate") {
          if (auto a = r_.section(body, bp, "escalate_to", true))
            audience(*a, bp + ".escalate_to", ra.escalate_to);
          if (r_.string_list(body, bp, "escalate_channels", true, ra.escalate_channels))
            known(body["escalate_channels"], "channel", bp + ".escalate_channels",
                  catalog_.channels, ra.escalate_channels);
          if (body["escalate_template"]) {
            if (r_.string(body, bp, "escalate_template", true, ra.escalate_template) &&
                !catalog_.templates.count(ra.escalate_template))
              r_.error(body["escalate_template"].Mark(),
                       bp + ".escalate_template: unknown template '" + ra.escalate_template + "'");
            template_files(body["escalate_template"], bp + ".escalate_template",
                           ra.escalate_template, ra.escalate_channels);
          } else {
            r_.error(body.Mark(), "missing required key '" + bp + ".escalate_template'");
          }
        }
      }
      s.action = std::move(ra);
    } else {  // resolve_when
      ResolveWhen rw;
      if (r_.mapping(body, bp, {"attributes"})) {
        if (auto a = r_.section(body, bp, "attributes", true))
          conditions(*a, bp + ".attributes", rw.attributes);
      }
      s.action = std::move(rw);
    }
    return s;
  }

  // Steps that can never run: after a resolve_when (the run ends there), or guarded by
  // `approved` with no require_approval before them.
  void reachability(const YAML::Node& steps_node, const std::vector<Step>& steps) {
    bool approval_seen = false;
    for (std::size_t i = 0; i < steps.size(); ++i) {
      const YAML::Node n = steps_node[i];
      if (i > 0 && std::holds_alternative<ResolveWhen>(steps[i - 1].action)) {
        r_.error(n.Mark(), "steps[" + std::to_string(i) +
                               "]: unreachable: the run ends at the resolve_when before it");
        break;
      }
      if (steps[i].when == Guard::approved && !approval_seen)
        r_.error(n.Mark(),
                 "steps[" + std::to_string(i) +
                     "]: unreachable: 'when: approved' with no require_approval before it");
      approval_seen |= std::holds_alternative<RequireApproval>(steps[i].action);
    }
  }

  // Two distinct people release every public alert and siren (the Hawaii lesson): the approval
  // before it needs two approvers, or one besides the person who composed it. A step that says
  // break_glass may go out on one approver's word, who must then write why.
  void release(const YAML::Node& steps_node, const std::vector<Step>& steps, Origin origin) {
    if (origin == Origin::stored) return;
    const RequireApproval* gate = nullptr;
    std::size_t gate_index = 0;
    for (std::size_t i = 0; i < steps.size(); ++i) {
      if (const auto* ra = std::get_if<RequireApproval>(&steps[i].action)) {
        gate = ra;
        gate_index = i;
        continue;
      }
      if (!steps[i].reaches_public()) continue;
      const std::string path = "steps[" + std::to_string(i) + "]." + steps[i].kind();
      const YAML::Node n = steps_node[i][steps[i].kind()];
      if (!gate) {
        r_.error(n.Mark(), path +
                               ": reaches the public with no require_approval before it (two "
                               "people release a public alert or a siren)");
        continue;
      }
      const bool composer_counts = origin == Origin::composed && gate->distinct_from_initiator;
      const int people = gate->count + (composer_counts ? 1 : 0);
      const std::string approval = "steps[" + std::to_string(gate_index) + "].require_approval";
      if (people < 2 && !steps[i].break_glass())
        r_.error(n.Mark(), path + ": reaches the public on one person's approval (" + approval +
                               ".count: " + std::to_string(gate->count) +
                               "); say count: 2 (two people release it), or break_glass: true "
                               "(one may, with a written reason, and a review incident after)");
      if (people >= 2 && steps[i].break_glass())
        r_.error(n["break_glass"].Mark(),
                 path + ".break_glass: " + approval +
                     " already needs two people; break_glass is for a one-person release");
    }
  }

  std::optional<Playbook> playbook(const YAML::Node& root, Origin origin) {
    if (!r_.mapping(root, "", {"id", "description", "match", "group_by", "group_wait", "steps"}))
      return std::nullopt;
    Playbook p;
    if (r_.string(root, "", "id", true, p.id)) {
      static const std::regex id_re("^[a-z0-9][a-z0-9-]{0,63}$");
      if (!std::regex_match(p.id, id_re))
        r_.error(root["id"].Mark(), "id: use 1-64 lower-case letters, digits and '-'");
    }
    r_.string(root, "", "description", false, p.description);
    if (auto m = r_.section(root, "", "match", true)) match(*m, p.match);
    group(root, p);
    if (auto steps = r_.section(root, "", "steps", true)) {
      if (!steps->IsSequence() || steps->size() == 0) {
        r_.error(steps->Mark(), "steps: must be a non-empty list");
      } else {
        for (std::size_t i = 0; i < steps->size(); ++i)
          if (auto s = step((*steps)[i], i)) p.steps.push_back(std::move(*s));
        if (p.steps.size() == steps->size()) {
          reachability(*steps, p.steps);
          release(*steps, p.steps, origin);
        }
      }
    }
    return p;
  }

 private:
  // group_by + group_wait: incidents that match within the wait, with the same values of
  // group_by, share one run (one page, one public alert listing them).
  void group(const YAML::Node& root, Playbook& p) {
    if (root["group_by"]) {
      std::string one;
      if (root["group_by"].IsScalar()) {
        if (r_.string(root, "", "group_by", true, one)) p.group_by.push_back(one);
      } else
        r_.string_list(root, "", "group_by", true, p.group_by);
      for (const auto& key : p.group_by)
        if (key != "zone" && key != "source" && key != "type")
          r_.error(root["group_by"].Mark(),
                   "group_by: '" + key + "' is not one of zone, source, type");
      if (!root["group_wait"])
        r_.error(root["group_by"].Mark(),
                 "group_wait: required with group_by (how long the first incident waits for "
                 "others)");
    }
    if (root["group_wait"]) {
      if (!root["group_by"])
        r_.error(root["group_wait"].Mark(), "group_wait: without group_by it groups nothing");
      r_.duration(root, "", "group_wait", true, p.group_wait, std::chrono::seconds(1),
                  std::chrono::hours(1));
    }
  }

  YamlReader& r_;
  const Catalog& catalog_;
};

void check_unique_ids(PlaybookSet& set) {
  std::map<std::string, std::string> first;
  for (const auto& p : set.playbooks) {
    auto [it, inserted] = first.emplace(p.id, p.file);
    if (!inserted)
      set.errors.push_back(p.file + ": id '" + p.id + "' is already used by " + it->second);
  }
}

}  // namespace

PlaybookSet parse_playbook(const std::string& text, const std::string& file, const Catalog& catalog,
                           Origin origin) {
  PlaybookSet out;
  YamlReader r(file);
  if (text.size() > kMaxPlaybookBytes) {
    r.error("is larger than " + std::to_string(kMaxPlaybookBytes) + " bytes");
    out.errors = r.take();
    return out;
  }
  auto root = load_yaml_text(text, r);
  if (root) {
    PlaybookReader reader(r, catalog);
    // yaml-cpp throws on a node it cannot give (a key that is itself a mapping, found by
    // tests/fuzz/playbook): an error at its place, never an exception out of a reload.
    try {
      if (auto p = reader.playbook(*root, origin); p && !r.failed()) {
        p->file = file;
        p->text = text;
        p->hash = content_hash(text);
        out.playbooks.push_back(std::move(*p));
      }
    } catch (const YAML::Exception& e) {
      r.error(e.mark, "cannot be read here: " + e.msg);
    }
  }
  out.errors = r.take();
  return out;
}

PlaybookSet load_playbooks(const std::filesystem::path& dir, const Catalog& catalog) {
  PlaybookSet out;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    out.errors.push_back(dir.string() + ": is not a directory");
    return out;
  }
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    if (e.is_regular_file() && (e.path().extension() == ".yaml" || e.path().extension() == ".yml"))
      files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    std::string name = f.string();
    auto size = std::filesystem::file_size(f, ec);
    if (ec || size > kMaxPlaybookBytes) {
      out.errors.push_back(name + ": is larger than " + std::to_string(kMaxPlaybookBytes) +
                           " bytes");
      continue;
    }
    std::ifstream in(f, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    auto one = parse_playbook(ss.str(), name, catalog);
    for (auto& p : one.playbooks) out.playbooks.push_back(std::move(p));
    for (auto& e : one.errors) out.errors.push_back(std::move(e));
  }
  check_unique_ids(out);
  if (!out.ok()) out.playbooks.clear();  // validated as a whole: all or nothing
  return out;
}

}  // namespace tocsin::playbooks
