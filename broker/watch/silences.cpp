#include "broker/watch/silences.hpp"

#include <algorithm>

#include <boost/json.hpp>

#include "broker/storage/audit.hpp"
#include "core/json_text.hpp"
#include "core/yaml_reader.hpp"
#include "playbooks/playbook.hpp"

namespace tocsin {

namespace json = boost::json;

bool Silence::open_at(Timestamp t) const {
  return !expired_at && starts_at <= t && t < ends_at;
}

bool Silence::matches(const Incident& incident, const ZoneMap* zones) const {
  if (!source.empty() && !playbooks::glob_match(source, incident.source)) return false;
  if (!type.empty() && !playbooks::glob_match(type, incident.type)) return false;
  if (zone.empty()) return true;
  if (incident.location.zone == zone) return true;
  if (!zones) return false;
  auto in = zones->zones_of(incident.location);
  return std::find(in.begin(), in.end(), zone) != in.end();
}

Result<Silence> silence_from_json(const json::value& body, Timestamp now,
                                  const SilenceLimits& limits, const ZoneMap* zones) {
  const auto* o = body.if_object();
  if (!o) return Error{"invalid", "the body must be a JSON object", ""};
  for (const auto& [key, value] : *o) {
    static const char* known[] = {"source",  "type",     "zone",   "starts_at",
                                  "ends_at", "duration", "reason", "author"};
    if (std::none_of(std::begin(known), std::end(known), [&](const char* k) { return key == k; }))
      return Error{"invalid", std::string(key) + ": unknown field", std::string(key)};
    if (!value.is_string())
      return Error{"invalid", std::string(key) + ": must be a string", std::string(key)};
    if (value.as_string().size() > 1024)
      return Error{"invalid", std::string(key) + ": longer than 1024 bytes", std::string(key)};
  }
  auto text = [&](const char* key) -> std::string {
    auto* v = o->if_contains(key);
    return v ? std::string(v->as_string()) : std::string();
  };
  Silence s;
  s.source = text("source");
  s.type = text("type");
  s.zone = text("zone");
  s.reason = text("reason");
  s.author = text("author");
  s.created_at = now;
  if (s.source.empty() && s.type.empty() && s.zone.empty())
    return Error{"invalid",
                 "source: a window names a source, a type or a zone (one that matches everything "
                 "would silence the whole city)",
                 "source"};
  if (!s.zone.empty() && zones && !zones->contains(s.zone))
    return Error{"invalid", "zone: '" + s.zone + "' is not a zone of config/zones", "zone"};
  if (s.reason.empty())
    return Error{"invalid", "reason: required (why runs are held off)", "reason"};
  if (s.reason.size() > limits.max_reason)
    return Error{"invalid", "reason: longer than " + std::to_string(limits.max_reason) + " bytes",
                 "reason"};
  if (s.author.empty()) return Error{"invalid", "author: required", "author"};
  s.starts_at = now;
  if (auto start = text("starts_at"); !start.empty()) {
    auto t = parse_rfc3339(start);
    if (!t) return Error{"invalid", "starts_at: not an RFC 3339 time", "starts_at"};
    s.starts_at = *t;
  }
  auto end = text("ends_at"), duration = text("duration");
  if (end.empty() && duration.empty())
    return Error{"invalid", "ends_at: required (or duration): a window without an end is refused",
                 "ends_at"};
  if (!end.empty() && !duration.empty())
    return Error{"invalid", "duration: give ends_at or duration, not both", "duration"};
  if (!end.empty()) {
    auto t = parse_rfc3339(end);
    if (!t) return Error{"invalid", "ends_at: not an RFC 3339 time", "ends_at"};
    s.ends_at = *t;
  } else {
    auto d = parse_duration(duration);
    if (!d || d->count() <= 0)
      return Error{"invalid", "duration: not a duration such as 90m or 2h", "duration"};
    s.ends_at = s.starts_at + *d;
  }
  const char* end_field = end.empty() ? "duration" : "ends_at";
  if (s.ends_at <= s.starts_at)
    return Error{"invalid", std::string(end_field) + ": the window ends before it starts",
                 end_field};
  if (s.ends_at <= now)
    return Error{"invalid", std::string(end_field) + ": the window is already over", end_field};
  if (s.ends_at - s.starts_at > limits.max_window)
    return Error{"invalid",
                 std::string(end_field) + ": longer than max_window (" +
                     format_duration(limits.max_window) + ")",
                 end_field};
  return s;
}

json::object to_json(const Silence& s, Timestamp now) {
  json::object o{{"id", s.id},
                 {"source", s.source},
                 {"type", s.type},
                 {"zone", s.zone},
                 {"starts_at", format_rfc3339(s.starts_at)},
                 {"ends_at", format_rfc3339(s.ends_at)},
                 {"reason", s.reason},
                 {"author", s.author},
                 {"created_at", format_rfc3339(s.created_at)}};
  o["state"] = s.expired_at        ? "expired"
               : s.open_at(now)    ? "open"
               : now < s.starts_at ? "scheduled"
                                   : "ended";
  if (s.expired_at) {
    o["expired_at"] = format_rfc3339(*s.expired_at);
    o["expired_by"] = s.expired_by;
  }
  return o;
}

namespace silences {

namespace {

constexpr const char* kSelect =
    "SELECT id, source, type, zone, starts_at, ends_at, reason, author, created_at, expired_at, "
    "expired_by FROM silences ";

std::vector<Silence> read(db::Statement& st) {
  std::vector<Silence> out;
  while (st.step()) {
    Silence s;
    s.id = st.text(0);
    s.source = st.text(1);
    s.type = st.text(2);
    s.zone = st.text(3);
    s.starts_at = from_unix_ms(st.integer(4));
    s.ends_at = from_unix_ms(st.integer(5));
    s.reason = st.text(6);
    s.author = st.text(7);
    s.created_at = from_unix_ms(st.integer(8));
    if (!st.is_null(9)) {
      s.expired_at = from_unix_ms(st.integer(9));
      s.expired_by = st.text(10);
    }
    out.push_back(std::move(s));
  }
  st.reset();
  return out;
}

}  // namespace

void insert(db::Connection& db, const Silence& s) {
  auto st = db.prepare(
      "INSERT INTO silences (id, source, type, zone, starts_at, ends_at, reason, author, "
      "created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
  st.bind(1, s.id).bind(2, s.source).bind(3, s.type).bind(4, s.zone);
  st.bind(5, to_unix_ms(s.starts_at)).bind(6, to_unix_ms(s.ends_at)).bind(7, s.reason);
  st.bind(8, s.author).bind(9, to_unix_ms(s.created_at));
  st.run();
  auto detail = to_json(s, s.created_at);
  detail.erase("id");
  detail.erase("state");
  audit::append(db, {s.created_at, s.author, "silence.create", s.id, json_text(detail)});
}

Result<Silence> expire(db::Connection& db, const std::string& id, const std::string& by,
                       Timestamp at) {
  auto find = db.prepare(std::string(kSelect) + "WHERE id = ?1");
  find.bind(1, id);
  auto found = read(find);
  if (found.empty()) return Error{"not_found", "id: no window " + id, "id"};
  Silence s = found.front();
  if (s.expired_at) return Error{"conflict", "window " + id + " was already expired", "id"};
  if (at >= s.ends_at) return Error{"conflict", "window " + id + " has already ended", "id"};
  auto st = db.prepare("UPDATE silences SET expired_at = ?2, expired_by = ?3 WHERE id = ?1");
  st.bind(1, id).bind(2, to_unix_ms(at)).bind(3, by);
  st.run();
  s.expired_at = at;
  s.expired_by = by;
  audit::append(db, {at, by, "silence.expire", id,
                     json_text(json::object{{"ends_at", format_rfc3339(s.ends_at)}})});
  return s;
}

std::vector<Silence> open_at(db::Connection& db, Timestamp at) {
  auto st = db.prepare(std::string(kSelect) +
                       "WHERE ends_at > ?1 AND starts_at <= ?1 AND expired_at IS NULL");
  st.bind(1, to_unix_ms(at));
  return read(st);
}

std::vector<Silence> list(db::Connection& db, Timestamp at, bool all, std::size_t limit) {
  auto st = db.prepare(std::string(kSelect) +
                       (all ? "WHERE ?1 = ?1 " : "WHERE ends_at > ?1 AND expired_at IS NULL ") +
                       "ORDER BY created_at DESC LIMIT ?2");
  st.bind(1, to_unix_ms(at)).bind(2, std::int64_t(limit));
  return read(st);
}

}  // namespace silences

std::optional<Mute> WindowMuter::muted(const Incident& incident, const ZoneMap* zones) {
  for (const auto& s : open_)
    if (s.matches(incident, zones)) return Mute{s.id, s.reason};
  return std::nullopt;
}

}  // namespace tocsin
