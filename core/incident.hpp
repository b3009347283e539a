#pragma once
// The Incident: what a sensor or a person reports, in CAP 1.2's vocabulary.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <boost/json/fwd.hpp>

#include "core/result.hpp"
#include "core/time.hpp"

namespace tocsin {

// CAP 1.2 <severity>, <urgency>, <certainty>, stored lower-case.
enum class Severity { unknown, minor, moderate, severe, extreme };
enum class Urgency { unknown, past, future, expected, immediate };
enum class Certainty { unknown, unlikely, possible, likely, observed };
// CAP 1.2 <status>: only `actual` is real; the others never reach the public unless a playbook
// step allows it (and then every message carries the template's exercise marking).
enum class Status { actual, exercise, test, system, draft };

std::string_view to_string(Severity v);
std::string_view to_string(Urgency v);
std::string_view to_string(Certainty v);
std::optional<Severity> parse_severity(std::string_view text);
std::optional<Urgency> parse_urgency(std::string_view text);
std::optional<Certainty> parse_certainty(std::string_view text);
std::string_view to_string(Status v);
std::optional<Status> parse_status(std::string_view text);

struct GeoPoint {
  double lat = 0;
  double lon = 0;
  bool operator==(const GeoPoint&) const = default;
};

// Where: a zone id (from config/zones), a point, a polygon, or a zone with a point or polygon.
struct Location {
  std::optional<std::string> zone;
  std::optional<GeoPoint> point;
  std::vector<GeoPoint> polygon;  // closed ring: first == last, at least 4 points
  bool empty() const { return !zone && !point && polygon.empty(); }
};

using AttributeValue = std::variant<std::string, double, bool>;
using Attributes = std::map<std::string, AttributeValue, std::less<>>;

struct Incident {
  std::string id;  // ULID, assigned by the broker
  std::string source;
  std::string type;  // dotted, e.g. flood.water_level
  Severity severity = Severity::unknown;
  Urgency urgency = Urgency::unknown;
  Certainty certainty = Certainty::unknown;
  Status status = Status::actual;
  std::string headline;
  std::string description;
  Location location;
  Attributes attributes;
  Timestamp occurred_at{};
  Timestamp received_at{};
  std::string dedup_key;
};

// An incident Tocsin raises about itself (a siren fault, a silent source): moderate, expected,
// observed, now, and keyed `type/subject` so that repeats fold into the active one.
Incident raised_by_tocsin(std::string source, std::string type, const std::string& subject,
                          std::string headline, std::string description, Attributes attributes);

// Limits on one incident report; every input has one.
// A type: dotted lower-case words (flood.water_level). An identifier (a source, a zone): letters,
// digits, '_', '-', '.', ':', '/'.
bool is_type_name(std::string_view t);
bool is_identifier(std::string_view t);

struct IncidentLimits {
  std::size_t max_bytes = 64 * 1024;
  std::size_t max_depth = 8;  // JSON nesting, counted from the top-level object
  std::size_t max_attributes = 64;
  std::size_t max_string = 1024;  // source, type, zone, attribute values, dedup_key
  std::size_t max_headline = 256;
  std::size_t max_description = 16 * 1024;
  std::size_t max_polygon_points = 1000;

  // For reading back what was stored: it passed the limits in force when it was received.
  static IncidentLimits unlimited() {
    IncidentLimits l;
    l.max_bytes = l.max_attributes = l.max_string = l.max_polygon_points = std::size_t(1) << 30;
    return l;
  }
};

// Validates and parses a JSON incident report. received_at and occurred_at default to now;
// dedup_key defaults to source + type + zone. The id is left empty for the journal to assign.
Result<Incident> parse_incident(std::string_view body, const IncidentLimits& limits);
Result<Incident> incident_from_json(const boost::json::value& value, const IncidentLimits& limits);

// parse_incident on a file's content; errors start with the file's name.
Result<Incident> read_incident_file(const std::string& path, const IncidentLimits& limits);

std::string default_dedup_key(const Incident& incident);

// The `location` and `attributes` parts of a report, validated as parse_incident does.
Result<Location> location_from_json(const boost::json::value& value, const IncidentLimits& limits);
Result<Attributes> attributes_from_json(const boost::json::value& value,
                                        const IncidentLimits& limits);

// The incident as a JSON object (the same shape the API returns and parse_incident reads,
// plus id and received_at).
boost::json::object to_json(const Incident& incident);
boost::json::object to_json(const Location& location);
boost::json::object to_json(const Attributes& attributes);

}  // namespace tocsin

namespace tocsin {

// One incident of a grouped run (group_by): what an alert about the group lists.
struct GroupMember {
  std::string id, source, type, headline, zone;
  Severity severity = Severity::unknown;
  Timestamp occurred_at{};
};
boost::json::array to_json(const std::vector<GroupMember>& group);
std::vector<GroupMember> group_from_json(const boost::json::value& v);

// An incident as the journal keeps it: the latest report plus its life so far.
struct IncidentRecord {
  Incident incident;
  std::string state = "active";  // active | resolved | cancelled
  Timestamp created_at{};
  Timestamp updated_at{};
  std::int64_t updates = 0;  // reports folded into it after the first
  std::optional<Timestamp> acknowledged_at;
  std::string acknowledged_by;
  std::string silenced_by;  // the maintenance window that keeps its playbooks from running
  std::int64_t folded = 0;  // reports storm control folded into it (counted in updates too)
  // For an alert of a grouped run: every incident the run speaks for (this one included).
  std::vector<GroupMember> group;
};

boost::json::object to_json(const IncidentRecord& record);

}  // namespace tocsin
