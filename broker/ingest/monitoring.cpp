#include "broker/ingest/monitoring.hpp"

#include <algorithm>
#include <cctype>

#include <boost/json.hpp>

#include "core/json_body.hpp"
#include "core/json_text.hpp"

namespace tocsin {

namespace json = boost::json;

namespace {

Error at(const std::string& path, const std::string& code, const std::string& what) {
  return Error{code, path + ": " + what, path};
}

// At most `limit` bytes, cut before a UTF-8 character that would not fit whole; control
// characters (other than new lines where allowed) become spaces.
std::string fitted(std::string_view s, std::size_t limit, bool newlines = false) {
  std::string out;
  for (unsigned char c : s.substr(0, std::min(s.size(), limit + 4)))
    out += (c < 0x20 && !(newlines && (c == '\n' || c == '\t'))) || c == 0x7f ? ' ' : char(c);
  if (out.size() <= limit) return out;
  std::size_t end = limit;
  while (end > 0 && (static_cast<unsigned char>(out[end]) & 0xC0) == 0x80) --end;
  out.resize(end);
  return out;
}

const json::object* object_at(const json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  return v && v->is_object() ? &v->get_object() : nullptr;
}

std::string text_at(const json::object* o, std::string_view key) {
  const auto* v = o ? o->if_contains(key) : nullptr;
  return v && v->is_string() ? std::string(v->get_string()) : "";
}

}  // namespace

std::string type_word(std::string_view value) {
  std::string out;
  for (unsigned char c : value) {
    if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    if (ok)
      out += char(c);
    else if (!out.empty() && out.back() != '_')
      out += '_';
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  return out.substr(0, 64);
}

Result<std::vector<MonitoringAlert>> from_alertmanager(std::string_view body,
                                                       const AlertmanagerMapping& mapping,
                                                       const IncidentLimits& limits) {
  auto parsed = json_object_body(body, std::max<std::size_t>(limits.max_bytes, 1 << 20), 8);
  if (!parsed) return parsed.error();
  const json::object& root = parsed.value().get_object();
  if (text_at(&root, "version") != "4")
    return at("version", "invalid_value",
              "'" + text_at(&root, "version") + "' is not 4, the webhook payload this reads");
  const auto* alerts = root.if_contains("alerts");
  if (!alerts || !alerts->is_array())
    return at("alerts", alerts ? "wrong_type" : "missing_field", "must be an array of alerts");
  if (alerts->get_array().size() > 1000)
    return at("alerts", "too_many", "more than 1000 alerts in one notification");

  std::vector<MonitoringAlert> out;
  std::size_t n = 0;
  for (const auto& item : alerts->get_array()) {
    const std::string path = "alerts[" + std::to_string(n++) + "]";
    if (!item.is_object()) return at(path, "wrong_type", "must be an object");
    const json::object& a = item.get_object();
    MonitoringAlert m;
    const std::string status = text_at(&a, "status");
    if (status != "firing" && status != "resolved")
      return at(path + ".status", "invalid_value", "'" + status + "' is not firing or resolved");
    m.resolved = status == "resolved";
    m.fingerprint = text_at(&a, "fingerprint");
    if (m.fingerprint.empty() || m.fingerprint.size() > 128 || !is_identifier(m.fingerprint))
      return at(path + ".fingerprint", "invalid_value", "must be Alertmanager's fingerprint");
    const json::object* labels = object_at(a, "labels");
    const json::object* annotations = object_at(a, "annotations");
    if (!labels) return at(path + ".labels", "missing_field", "must be an object of labels");
    for (const auto* group : {labels, annotations})
      for (const auto& kv : group ? *group : json::object())
        if (!kv.value().is_string())
          return at(path + (group == labels ? ".labels." : ".annotations.") + std::string(kv.key()),
                    "wrong_type", "must be a string");

    const std::string word = type_word(text_at(labels, mapping.type_label));
    if (word.empty())
      return at(path + ".labels." + mapping.type_label, "missing_field",
                "names the incident's type (integrations.alertmanager.type_label)");
    json::object report{{"source", mapping.source},
                        {"type", mapping.type_prefix + "." + word},
                        {"dedup_key", m.fingerprint}};
    auto severity = mapping.severities.find(text_at(labels, mapping.severity_label));
    report["severity"] = severity == mapping.severities.end() ? "unknown" : severity->second;
    std::string headline = text_at(annotations, "summary");
    if (headline.empty()) {
      headline = text_at(labels, mapping.type_label);
      if (std::string instance = text_at(labels, "instance"); !instance.empty())
        headline += " (" + instance + ")";
    }
    report["headline"] = fitted(headline, limits.max_headline);
    if (std::string d = text_at(annotations, "description"); !d.empty())
      report["description"] = fitted(d, limits.max_description, true);
    if (std::string zone = text_at(labels, mapping.zone_label); !zone.empty())
      report["location"] = json::object{{"zone", zone}};
    if (std::string starts = text_at(&a, "startsAt"); !starts.empty())
      report["occurred_at"] = starts;

    json::object attributes;
    std::size_t left_out = 0;
    for (const auto* group : {labels, annotations}) {
      if (!group) continue;
      for (const auto& kv : *group) {
        if (group == annotations && (kv.key() == "summary" || kv.key() == "description")) continue;
        std::string key = (group == labels ? "label." : "annotation.") + std::string(kv.key());
        // Room kept for labels_left_out and generator_url.
        if (attributes.size() + 2 >= limits.max_attributes || key.size() > 64) {
          ++left_out;
          continue;
        }
        attributes[key] = fitted(kv.value().get_string(), limits.max_string);
      }
    }
    if (left_out) attributes["labels_left_out"] = double(left_out);
    if (std::string url = text_at(&a, "generatorURL"); !url.empty())
      attributes["generator_url"] = fitted(url, limits.max_string);
    report["attributes"] = std::move(attributes);

    auto incident = parse_incident(json_text(report), limits);
    if (!incident) {
      Error e = incident.error();
      e.message = path + " (as a report): " + e.message;
      e.field = path + (e.field.empty() ? "" : "." + e.field);
      return e;
    }
    m.report = std::move(incident.value());
    out.push_back(std::move(m));
  }
  return out;
}

namespace {

// A free-form text (a custom_details key, PagerDuty's source) as an identifier: at most `max`
// bytes, letters and digits kept, and the `allowed` others; any other byte '_'
// ("ping time" → "ping_time").
std::string identifier_from(std::string_view text, std::size_t max, std::string_view allowed) {
  std::string out;
  for (unsigned char c : text.substr(0, max))
    out += std::isalnum(c) || allowed.find(char(c)) != std::string_view::npos ? char(c) : '_';
  return out;
}

// PagerDuty's examples write offsets without a colon ("…58.315+0000"); RFC 3339 wants one.
std::string with_colon_offset(std::string t) {
  if (t.size() > 5) {
    auto sign = t[t.size() - 5];
    if ((sign == '+' || sign == '-') && t.find('T') != std::string::npos &&
        std::all_of(t.end() - 4, t.end(), [](char c) { return c >= '0' && c <= '9'; }))
      t.insert(t.size() - 2, ":");
  }
  return t;
}

}  // namespace

Result<PagerDutyEvent> from_pagerduty(std::string_view body, const PagerDutyMapping& mapping,
                                      const IncidentLimits& limits,
                                      std::vector<std::string>& problems) {
  auto parsed = json_object_body(body, std::max<std::size_t>(limits.max_bytes, 512 * 1024), 8);
  if (!parsed) {
    problems.push_back(parsed.error().message);
    return parsed.error();
  }
  const json::object& root = parsed.value().get_object();
  std::string first_field;
  auto problem = [&](const std::string& field, const std::string& what) {
    problems.push_back(field + ": " + what);
    if (first_field.empty()) first_field = field;
  };
  auto refused = [&] { return Error{"invalid", problems.front(), first_field}; };
  PagerDutyEvent e;
  e.routing_key = text_at(&root, "routing_key");
  if (e.routing_key.empty()) problem("routing_key", "required (the integration key)");
  e.action = text_at(&root, "event_action");
  if (e.action != "trigger" && e.action != "acknowledge" && e.action != "resolve")
    problem("event_action", "'" + e.action + "' is not trigger, acknowledge or resolve");
  if (const auto* d = root.if_contains("dedup_key"); d && !d->is_string())
    problem("dedup_key", "must be a string");
  e.dedup_key = text_at(&root, "dedup_key");
  if (e.dedup_key.size() > 255) problem("dedup_key", "longer than 255 characters");
  if (e.action != "trigger" && e.dedup_key.empty() && !e.action.empty())
    problem("dedup_key", "required to " + e.action);

  const json::object* payload = object_at(root, "payload");
  if (e.action == "trigger") {
    if (!payload) problem("payload", "required to trigger");
    std::string summary = text_at(payload, "summary"), source = text_at(payload, "source"),
                severity = text_at(payload, "severity");
    if (payload && summary.empty()) problem("payload.summary", "required");
    if (summary.size() > 1024) problem("payload.summary", "longer than 1024 characters");
    if (payload && source.empty()) problem("payload.source", "required");
    auto cap = mapping.severities.find(severity);
    if (payload && cap == mapping.severities.end())
      problem("payload.severity", "'" + severity + "' is not critical, error, warning or info");
    if (!problems.empty()) return refused();

    json::object report{{"source", identifier_from(source, 128, "_-.:/")},
                        {"type", mapping.type_prefix + "." +
                                     [&] {
                                       std::string w = type_word(text_at(payload, "class"));
                                       return w.empty() ? std::string("alert") : w;
                                     }()},
                        {"severity", cap->second},
                        {"headline", fitted(summary, limits.max_headline)}};
    if (summary.size() > limits.max_headline) report["description"] = fitted(summary, 16384, true);
    if (std::string t = text_at(payload, "timestamp"); !t.empty())
      report["occurred_at"] = with_colon_offset(t);
    json::object attributes;
    if (source != std::string_view(report["source"].as_string()))
      attributes["pagerduty.source"] = fitted(source, limits.max_string);
    for (const char* k : {"component", "group", "class"})
      if (std::string v = text_at(payload, k); !v.empty())
        attributes[std::string("pagerduty.") + k] = fitted(v, limits.max_string);
    if (const json::object* details = object_at(*payload, "custom_details")) {
      for (const auto& kv : *details) {
        if (kv.key() == mapping.zone_field && kv.value().is_string()) {
          report["location"] = json::object{{"zone", kv.value().get_string()}};
          continue;
        }
        if (attributes.size() + 1 >= limits.max_attributes) break;
        std::string key = "detail." + identifier_from(kv.key(), 48, "_-.");
        const auto& v = kv.value();
        if (v.is_number() || v.is_bool())
          attributes[key] = v;
        else
          attributes[key] =
              fitted(v.is_string() ? std::string(v.get_string()) : json_text(v), limits.max_string);
      }
    }
    report["attributes"] = std::move(attributes);
    if (!e.dedup_key.empty()) report["dedup_key"] = e.dedup_key;
    auto incident = parse_incident(json_text(report), limits);
    if (!incident) {
      Error err = incident.error();
      problems.push_back("payload (as a report): " + err.message);
      err.message = problems.back();
      err.field = "payload";
      return err;
    }
    e.report = std::move(incident.value());
  }
  if (!problems.empty()) return refused();
  return e;
}

}  // namespace tocsin
