#include "broker/oncall/overrides.hpp"

#include <boost/json.hpp>

#include "broker/storage/audit.hpp"
#include "core/json_text.hpp"

namespace tocsin::overrides {

namespace json = boost::json;

namespace {

constexpr std::size_t kMaxReason = 500;
constexpr auto kMaxSpan = std::chrono::hours(31 * 24);

Result<std::string> text_of(const json::object& o, const char* key, bool required,
                            std::size_t max) {
  const auto* v = o.if_contains(key);
  if (!v || v->is_null()) {
    if (required) return Error{"invalid", std::string(key) + ": required", key};
    return std::string();
  }
  if (!v->is_string()) return Error{"invalid", std::string(key) + ": must be a string", key};
  if (v->as_string().size() > max)
    return Error{"too_large", std::string(key) + ": " + std::to_string(max) + " bytes at most",
                 key};
  return std::string(v->as_string());
}

Result<std::string> person_of(const json::object& o, const char* key, bool required,
                              const Directory& people) {
  auto id = text_of(o, key, required, 64);
  if (!id || id->empty()) return id;
  if (!people.find(*id))
    return Error{"invalid", std::string(key) + ": '" + *id + "' is not a person of people.yaml",
                 key};
  return id;
}

}  // namespace

Result<ScheduleOverride> from_json(const json::value& body, const Schedules& schedules,
                                   const Schedule& schedule, const Directory& people,
                                   Timestamp now) {
  if (!body.is_object()) return Error{"invalid", "the body must be a JSON object", ""};
  const auto& o = body.as_object();
  for (const auto& kv : o) {
    std::string_view k = kv.key();
    if (k != "person" && k != "instead_of" && k != "from" && k != "to" && k != "reason" &&
        k != "by")
      return Error{"invalid",
                   std::string(k) +
                       ": unknown field (person, instead_of, from, to, "
                       "reason)",
                   std::string(k)};
  }
  ScheduleOverride out;
  out.schedule = schedule.id;
  auto person = person_of(o, "person", true, people);
  if (!person) return person.error();
  out.person = *person;
  auto instead = person_of(o, "instead_of", false, people);
  if (!instead) return instead.error();
  out.instead_of = *instead;
  if (out.instead_of == out.person)
    return Error{"invalid", "instead_of: is the person who covers", "instead_of"};
  auto when = [&](const char* key, bool required, Timestamp fallback) -> Result<Timestamp> {
    auto text = text_of(o, key, required, 64);
    if (!text) return text.error();
    if (text->empty()) return fallback;
    if (auto t = schedules.parse_time(*text)) return *t;
    return Error{"invalid",
                 std::string(key) + ": '" + *text +
                     "' is not a time such as 2026-11-02T08:00 (the city's clock) or RFC 3339",
                 key};
  };
  auto from = when("from", false, now);
  if (!from) return from.error();
  auto to = when("to", true, now);
  if (!to) return to.error();
  out.from = *from;
  out.to = *to;
  if (out.to <= out.from) return Error{"invalid", "to: must be after from", "to"};
  if (out.to <= now) return Error{"invalid", "to: has already passed", "to"};
  if (out.to - out.from > kMaxSpan) return Error{"invalid", "to: 31 days after from at most", "to"};
  auto reason = text_of(o, "reason", false, kMaxReason);
  if (!reason) return reason.error();
  out.reason = *reason;
  auto by = text_of(o, "by", true, 256);
  if (!by) return by.error();
  out.by = *by;
  out.created_at = now;
  return out;
}

json::object to_json(const ScheduleOverride& o, const Schedules& schedules) {
  return json::object{
      {"id", o.id},
      {"schedule", o.schedule},
      {"person", o.person},
      {"instead_of", o.instead_of.empty() ? json::value() : json::value(o.instead_of)},
      {"from", format_rfc3339(o.from)},
      {"to", format_rfc3339(o.to)},
      {"from_local", schedules.local_text(o.from)},
      {"to_local", schedules.local_text(o.to)},
      {"reason", o.reason},
      {"by", o.by},
      {"created_at", format_rfc3339(o.created_at)}};
}

void insert(db::Connection& db, const ScheduleOverride& o) {
  auto st = db.prepare(
      "INSERT INTO schedule_overrides (id, schedule, person, instead_of, starts_at, ends_at, "
      "reason, author, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
  st.bind(1, o.id).bind(2, o.schedule).bind(3, o.person).bind(4, o.instead_of);
  st.bind(5, to_unix_ms(o.from)).bind(6, to_unix_ms(o.to)).bind(7, o.reason).bind(8, o.by);
  st.bind(9, to_unix_ms(o.created_at));
  st.run();
  json::object detail{{"schedule", o.schedule},     {"person", o.person},
                      {"instead_of", o.instead_of}, {"from", format_rfc3339(o.from)},
                      {"to", format_rfc3339(o.to)}, {"reason", o.reason}};
  audit::append(db, {o.created_at, o.by, "schedule.override", o.id, json_text(detail)});
}

namespace {

const char* kSelect =
    "SELECT id, schedule, person, instead_of, starts_at, ends_at, reason, author, created_at "
    "FROM schedule_overrides ";

std::vector<ScheduleOverride> read(db::Statement& st) {
  std::vector<ScheduleOverride> out;
  while (st.step()) {
    ScheduleOverride o;
    o.id = st.text(0);
    o.schedule = st.text(1);
    o.person = st.text(2);
    o.instead_of = st.text(3);
    o.from = from_unix_ms(st.integer(4));
    o.to = from_unix_ms(st.integer(5));
    o.reason = st.text(6);
    o.by = st.text(7);
    o.created_at = from_unix_ms(st.integer(8));
    out.push_back(std::move(o));
  }
  return out;
}

}  // namespace

Result<ScheduleOverride> cancel(db::Connection& db, const std::string& schedule,
                                const std::string& id, const std::string& by, Timestamp at) {
  auto find = db.prepare(std::string(kSelect) + "WHERE id = ?1 AND schedule = ?2");
  find.bind(1, id).bind(2, schedule);
  auto found = read(find);
  if (found.empty())
    return Error{"not_found", "id: no override " + id + " of schedule " + schedule, "id"};
  auto check = db.prepare("SELECT cancelled_at IS NOT NULL FROM schedule_overrides WHERE id = ?1");
  check.bind(1, id);
  check.step();
  if (check.integer(0)) return Error{"conflict", "override " + id + " was already cancelled", "id"};
  if (found.front().to <= at) return Error{"conflict", "override " + id + " has ended", "id"};
  auto st = db.prepare(
      "UPDATE schedule_overrides SET cancelled_at = ?2, cancelled_by = ?3 WHERE id = ?1");
  st.bind(1, id).bind(2, to_unix_ms(at)).bind(3, by);
  st.run();
  audit::append(db, {at, by, "schedule.override.cancel", id,
                     json_text(json::object{{"schedule", schedule}})});
  return found.front();
}

std::vector<ScheduleOverride> current(db::Connection& db, Timestamp at) {
  auto st = db.prepare(std::string(kSelect) +
                       "WHERE cancelled_at IS NULL AND ends_at > ?1 ORDER BY created_at, id");
  st.bind(1, to_unix_ms(at));
  return read(st);
}

}  // namespace tocsin::overrides
