#include "core/incident.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <fstream>

#include <boost/json.hpp>

#include "core/json_body.hpp"

namespace tocsin {

namespace json = boost::json;

namespace {

template <class E, std::size_t N>
std::optional<E> lookup(const std::array<std::string_view, N>& names, std::string_view text) {
  for (std::size_t i = 0; i < N; ++i) {
    const auto& n = names[i];
    if (n.size() == text.size() && std::equal(n.begin(), n.end(), text.begin(), [](char a, char b) {
          return a == std::tolower(static_cast<unsigned char>(b));
        }))
      return static_cast<E>(i);
  }
  return std::nullopt;
}

constexpr std::array<std::string_view, 5> kSeverity{"unknown", "minor", "moderate", "severe",
                                                    "extreme"};
constexpr std::array<std::string_view, 5> kUrgency{"unknown", "past", "future", "expected",
                                                   "immediate"};
constexpr std::array<std::string_view, 5> kCertainty{"unknown", "unlikely", "possible", "likely",
                                                     "observed"};

}  // namespace

std::string_view to_string(Severity v) {
  return kSeverity[static_cast<int>(v)];
}
std::string_view to_string(Urgency v) {
  return kUrgency[static_cast<int>(v)];
}
std::string_view to_string(Certainty v) {
  return kCertainty[static_cast<int>(v)];
}
constexpr std::array<std::string_view, 5> kStatus{"actual", "exercise", "test", "system", "draft"};
std::string_view to_string(Status v) {
  return kStatus[static_cast<int>(v)];
}
std::optional<Status> parse_status(std::string_view t) {
  return lookup<Status>(kStatus, t);
}
std::optional<Severity> parse_severity(std::string_view t) {
  return lookup<Severity>(kSeverity, t);
}
std::optional<Urgency> parse_urgency(std::string_view t) {
  return lookup<Urgency>(kUrgency, t);
}
std::optional<Certainty> parse_certainty(std::string_view t) {
  return lookup<Certainty>(kCertainty, t);
}

bool is_type_name(std::string_view t) {
  // Dotted segments of [a-z0-9_], e.g. flood.water_level.
  if (t.empty() || t.front() == '.' || t.back() == '.') return false;
  char prev = 0;
  for (char c : t) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
              (c == '.' && prev != '.');
    if (!ok) return false;
    prev = c;
  }
  return true;
}

bool is_identifier(std::string_view t) {
  if (t.empty()) return false;
  for (char c : t) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' ||
              c == ':' || c == '/';
    if (!ok) return false;
  }
  return true;
}

namespace {

std::optional<Error> read_point(const json::value& v, const std::string& path, GeoPoint& out) {
  if (!v.is_object()) return field_error("wrong_type", path, "must be an object {lat, lon}");
  FieldReader r(v.get_object(), path);
  if (auto e = r.only({"lat", "lon"})) return e;
  if (auto e = r.number("lat", out.lat)) return e;
  if (auto e = r.number("lon", out.lon)) return e;
  if (out.lat < -90 || out.lat > 90)
    return field_error("out_of_range", path + ".lat", "must be between -90 and 90");
  if (out.lon < -180 || out.lon > 180)
    return field_error("out_of_range", path + ".lon", "must be between -180 and 180");
  return std::nullopt;
}

std::optional<Error> read_location(const json::value& v, const IncidentLimits& limits,
                                   Location& out) {
  const std::string path = "location";
  if (!v.is_object()) return field_error("wrong_type", path, "must be an object");
  const json::object& obj = v.get_object();
  FieldReader r(obj, path);
  if (auto e = r.only({"zone", "lat", "lon", "polygon"})) return e;

  std::string zone;
  if (auto e = r.text("zone", false, limits.max_string, zone)) return e;
  if (r.find("zone")) {
    if (!is_identifier(zone))
      return field_error("invalid_value", "location.zone",
                         "must be a zone id (letters, digits, '_', '-', '.')");
    out.zone = zone;
  }

  bool has_lat = r.find("lat"), has_lon = r.find("lon");
  if (has_lat || has_lon) {
    GeoPoint p;
    if (auto e = r.number("lat", p.lat)) return e;
    if (auto e = r.number("lon", p.lon)) return e;
    if (p.lat < -90 || p.lat > 90)
      return field_error("out_of_range", "location.lat", "must be between -90 and 90");
    if (p.lon < -180 || p.lon > 180)
      return field_error("out_of_range", "location.lon", "must be between -180 and 180");
    out.point = p;
  }

  if (const json::value* poly = r.find("polygon")) {
    if (!poly->is_array())
      return field_error("wrong_type", "location.polygon", "must be an array of {lat, lon}");
    const json::array& arr = poly->get_array();
    if (arr.size() < 4)
      return field_error("invalid_value", "location.polygon",
                         "needs at least 4 points (a closed ring: the last repeats the first)");
    if (arr.size() > limits.max_polygon_points)
      return field_error("too_long", "location.polygon",
                         "has more than " + std::to_string(limits.max_polygon_points) + " points");
    for (std::size_t i = 0; i < arr.size(); ++i) {
      GeoPoint p;
      if (auto e = read_point(arr[i], "location.polygon[" + std::to_string(i) + "]", p)) return e;
      out.polygon.push_back(p);
    }
    if (!(out.polygon.front() == out.polygon.back()))
      return field_error("invalid_value", "location.polygon",
                         "is not closed: the last point must repeat the first");
  }
  if (out.empty())
    return field_error("invalid_value", path, "needs a zone, a lat/lon point or a polygon");
  return std::nullopt;
}

std::optional<Error> read_attributes(const json::value& v, const IncidentLimits& limits,
                                     Attributes& out) {
  if (!v.is_object()) return field_error("wrong_type", "attributes", "must be an object");
  const json::object& obj = v.get_object();
  if (obj.size() > limits.max_attributes)
    return field_error("too_many", "attributes",
                       "has more than " + std::to_string(limits.max_attributes) + " entries");
  for (const auto& kv : obj) {
    std::string key(kv.key());
    std::string path = "attributes." + key;
    if (key.empty() || key.size() > 64 || !is_identifier(key))
      return field_error("invalid_value", path,
                         "attribute names are 1-64 letters, digits, '_', '-', '.'");
    const json::value& a = kv.value();
    if (a.is_string()) {
      const json::string& s = a.get_string();
      if (s.size() > limits.max_string)
        return field_error("too_long", path,
                           "is longer than " + std::to_string(limits.max_string) + " bytes");
      out.emplace(key, std::string(s));
    } else if (a.is_number()) {
      double d = a.to_number<double>();
      if (!std::isfinite(d)) return field_error("invalid_value", path, "must be finite");
      out.emplace(key, d);
    } else if (a.is_bool()) {
      out.emplace(key, a.get_bool());
    } else if (a.is_object() || a.is_array()) {
      return field_error("too_deep", path,
                         "is nested too deep: attribute values are strings, numbers or booleans");
    } else {
      return field_error("wrong_type", path, "must be a string, number or boolean");
    }
  }
  return std::nullopt;
}

}  // namespace

Result<Location> location_from_json(const json::value& value, const IncidentLimits& limits) {
  Location loc;
  if (auto e = read_location(value, limits, loc)) return *e;
  return loc;
}

Result<Attributes> attributes_from_json(const json::value& value, const IncidentLimits& limits) {
  Attributes attrs;
  if (auto e = read_attributes(value, limits, attrs)) return *e;
  return attrs;
}

Result<Incident> read_incident_file(const std::string& path, const IncidentLimits& limits) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{"unreadable", path + ": cannot be read", "file"};
  std::string body(limits.max_bytes + 1, '\0');
  in.read(body.data(), std::streamsize(body.size()));
  body.resize(std::size_t(in.gcount()));
  auto r = parse_incident(body, limits);
  if (!r) return Error{r.error().code, path + ": " + r.error().message, r.error().field};
  return r;
}

Incident raised_by_tocsin(std::string source, std::string type, const std::string& subject,
                          std::string headline, std::string description, Attributes attributes) {
  Incident i;
  i.source = std::move(source);
  i.type = std::move(type);
  i.severity = Severity::moderate;
  i.urgency = Urgency::expected;
  i.certainty = Certainty::observed;
  i.headline = std::move(headline);
  i.description = std::move(description);
  i.attributes = std::move(attributes);
  i.occurred_at = i.received_at = now();
  i.dedup_key = i.type + "/" + subject;
  return i;
}

std::string default_dedup_key(const Incident& incident) {
  return incident.source + "|" + incident.type + "|" + incident.location.zone.value_or("");
}

Result<Incident> parse_incident(std::string_view body, const IncidentLimits& limits) {
  // Parsed into a buffer on the stack: the ingest path allocates nothing for a small report.
  unsigned char buffer[8192];
  json::monotonic_resource mr(buffer, sizeof buffer);
  auto v = json_object_body(body, limits.max_bytes, limits.max_depth, &mr);
  if (!v) return v.error();
  return incident_from_json(v.value(), limits);
}

Result<Incident> incident_from_json(const json::value& v, const IncidentLimits& limits) {
  if (!v.is_object()) return Error{"wrong_type", "body: must be a JSON object", "body"};
  const json::object& obj = v.get_object();
  FieldReader r(obj, "");
  if (auto e = r.only({"source", "type", "severity", "urgency", "certainty", "status", "headline",
                       "description", "location", "attributes", "occurred_at", "dedup_key"}))
    return *e;

  Incident inc;
  if (auto e = r.text("source", true, 128, inc.source)) return *e;
  if (!is_identifier(inc.source))
    return field_error("invalid_value", "source",
                       "must be letters, digits, '_', '-', '.', ':', '/'");
  if (auto e = r.text("type", true, 128, inc.type)) return *e;
  if (!is_type_name(inc.type))
    return field_error("invalid_value", "type",
                       "must be dotted lower-case words, e.g. flood.water_level");

  std::string text;
  if (auto e = r.text("severity", true, 32, text)) return *e;
  auto severity = parse_severity(text);
  if (!severity)
    return field_error("invalid_value", "severity",
                       "'" + text + "' is not one of extreme, severe, moderate, minor, unknown");
  inc.severity = *severity;

  text.clear();
  if (auto e = r.text("urgency", false, 32, text)) return *e;
  if (!text.empty() || r.find("urgency")) {
    auto u = parse_urgency(text);
    if (!u)
      return field_error("invalid_value", "urgency",
                         "'" + text + "' is not one of immediate, expected, future, past, unknown");
    inc.urgency = *u;
  }
  text.clear();
  if (auto e = r.text("certainty", false, 32, text)) return *e;
  if (!text.empty() || r.find("certainty")) {
    auto c = parse_certainty(text);
    if (!c)
      return field_error(
          "invalid_value", "certainty",
          "'" + text + "' is not one of observed, likely, possible, unlikely, unknown");
    inc.certainty = *c;
  }

  text.clear();
  if (auto e = r.text("status", false, 32, text)) return *e;
  if (!text.empty() || r.find("status")) {
    auto st = parse_status(text);
    if (!st)
      return field_error("invalid_value", "status",
                         "'" + text + "' is not one of actual, exercise, test, system, draft");
    inc.status = *st;
  }

  if (auto e = r.text("headline", false, limits.max_headline, inc.headline)) return *e;
  if (auto e = r.text("description", false, limits.max_description, inc.description, true))
    return *e;
  if (const json::value* loc = r.find("location")) {
    if (auto e = read_location(*loc, limits, inc.location)) return *e;
  }
  if (const json::value* attrs = r.find("attributes")) {
    if (auto e = read_attributes(*attrs, limits, inc.attributes)) return *e;
  }

  inc.received_at = now();
  inc.occurred_at = inc.received_at;
  text.clear();
  if (auto e = r.text("occurred_at", false, 64, text)) return *e;
  if (!text.empty()) {
    auto t = parse_rfc3339(text);
    if (!t)
      return field_error("invalid_value", "occurred_at",
                         "must be an RFC 3339 date-time, e.g. 2026-04-01T12:30:00Z");
    inc.occurred_at = *t;
  }

  if (auto e = r.text("dedup_key", false, limits.max_string, inc.dedup_key)) return *e;
  if (inc.dedup_key.empty()) inc.dedup_key = default_dedup_key(inc);
  // An exercise never merges into a real incident, nor a real report into an exercise.
  if (inc.status != Status::actual)
    inc.dedup_key = std::string(to_string(inc.status)) + ":" + inc.dedup_key;
  return inc;
}

json::object to_json(const Location& location) {
  json::object o;
  if (location.zone) o["zone"] = *location.zone;
  if (location.point) {
    o["lat"] = location.point->lat;
    o["lon"] = location.point->lon;
  }
  if (!location.polygon.empty()) {
    json::array ring;
    ring.reserve(location.polygon.size());
    for (const auto& p : location.polygon)
      ring.push_back(json::object{{"lat", p.lat}, {"lon", p.lon}});
    o["polygon"] = std::move(ring);
  }
  return o;
}

json::object to_json(const Attributes& attributes) {
  json::object o;
  for (const auto& [k, v] : attributes) {
    std::visit([&, &key = k](const auto& x) { o[key] = x; }, v);
  }
  return o;
}

json::object to_json(const Incident& inc) {
  json::object o;
  o["id"] = inc.id;
  o["source"] = inc.source;
  o["type"] = inc.type;
  o["severity"] = to_string(inc.severity);
  o["urgency"] = to_string(inc.urgency);
  o["certainty"] = to_string(inc.certainty);
  o["status"] = to_string(inc.status);
  o["headline"] = inc.headline;
  o["description"] = inc.description;
  if (!inc.location.empty()) o["location"] = to_json(inc.location);
  o["attributes"] = to_json(inc.attributes);
  o["occurred_at"] = format_rfc3339(inc.occurred_at);
  o["received_at"] = format_rfc3339(inc.received_at);
  o["dedup_key"] = inc.dedup_key;
  return o;
}

}  // namespace tocsin

namespace tocsin {

boost::json::object to_json(const IncidentRecord& record) {
  auto o = to_json(record.incident);
  o["state"] = record.state;
  o["created_at"] = format_rfc3339(record.created_at);
  o["updated_at"] = format_rfc3339(record.updated_at);
  o["updates"] = record.updates;
  if (record.acknowledged_at) {
    o["acknowledged_at"] = format_rfc3339(*record.acknowledged_at);
    o["acknowledged_by"] = record.acknowledged_by;
  }
  if (!record.silenced_by.empty()) o["silenced_by"] = record.silenced_by;
  if (record.folded) o["folded"] = record.folded;
  return o;
}

boost::json::array to_json(const std::vector<GroupMember>& group) {
  boost::json::array out;
  for (const auto& m : group)
    out.push_back(boost::json::object{{"id", m.id},
                                      {"source", m.source},
                                      {"type", m.type},
                                      {"headline", m.headline},
                                      {"zone", m.zone},
                                      {"severity", to_string(m.severity)},
                                      {"occurred_at", to_unix_ms(m.occurred_at)}});
  return out;
}

std::vector<GroupMember> group_from_json(const boost::json::value& v) {
  std::vector<GroupMember> out;
  if (!v.is_array()) return out;
  for (const auto& e : v.as_array()) {
    const auto& o = e.as_object();
    GroupMember m;
    m.id = std::string(o.at("id").as_string());
    m.source = std::string(o.at("source").as_string());
    m.type = std::string(o.at("type").as_string());
    m.headline = std::string(o.at("headline").as_string());
    m.zone = std::string(o.at("zone").as_string());
    m.severity = parse_severity(o.at("severity").as_string()).value_or(Severity::unknown);
    m.occurred_at = from_unix_ms(o.at("occurred_at").to_number<std::int64_t>());
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace tocsin
