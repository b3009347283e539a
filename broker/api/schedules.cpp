// /api/v1/schedules: who is on call, now, at another time or over the coming days, and the
// overrides made here (added and cancelled, audited).
#include "broker/api/api.hpp"

#include <spdlog/spdlog.h>
#include <boost/json.hpp>

#include "broker/api/responses.hpp"
#include "broker/oncall/overrides.hpp"
#include "core/ulid.hpp"

namespace tocsin {

namespace json = boost::json;

namespace {

constexpr int kMaxDays = 62;

// Staff as the on-call answers show them: id and name, never a contact.
json::array people_json(const std::vector<std::string>& ids, const Directory& people) {
  json::array out;
  for (const auto& id : ids) {
    const Person* p = people.find(id);
    out.push_back(json::object{{"id", id}, {"name", p ? p->name : id}});
  }
  return out;
}

// The set in force and its schedule `id` (null when there is none: the caller answers 404).
struct Found {
  std::shared_ptr<const ActivePlaybooks> set;
  const Schedule* schedule = nullptr;
};
Found find_schedule(const PlaybookLibrary& library, const std::string& id) {
  Found f{library.current()};
  if (f.set) f.schedule = f.set->references.schedules.find(id);
  return f;
}

ApiResponse no_schedule(const std::string& id) {
  return Api::error(
      404, Error{"not_found", "schedule: no schedule '" + id + "' in schedules.yaml", "schedule"});
}

// The query's time `key` (the city's clock or RFC 3339), `fallback` when absent.
Result<Timestamp> query_time(const std::map<std::string, std::string>& q, const char* key,
                             const Schedules& schedules, Timestamp fallback) {
  auto it = q.find(key);
  if (it == q.end() || it->second.empty()) return fallback;
  if (it->second.size() <= 64)
    if (auto t = schedules.parse_time(it->second)) return *t;
  return Error{"invalid",
               std::string(key) +
                   ": not a time such as 2026-11-02T08:00 (the city's clock) or RFC "
                   "3339",
               key};
}

// When who is on call at `t` changes next ("until"), if within the days an answer looks ahead.
void add_until(json::object& o, const Schedules& schedules, const Schedule& s, Timestamp t,
               const std::vector<ScheduleOverride>& extra) {
  const Timestamp horizon = t + std::chrono::hours(24 * kMaxDays);
  auto spans = schedules.shifts(s, t, horizon, extra);
  if (spans.empty() || !(spans.front().to < horizon)) return;
  o["until"] = format_rfc3339(spans.front().to);
  o["until_local"] = schedules.local_text(spans.front().to);
}

}  // namespace

void Api::list_schedules(Respond respond) {
  auto set = library_.current();
  json::array out;
  if (set) {
    const auto& schedules = set->references.schedules;
    Timestamp t = now();
    for (const auto& s : schedules.all()) {
      auto extra = overrides_ ? overrides_->of(s.id) : std::vector<ScheduleOverride>{};
      json::object o{
          {"id", s.id},
          {"name", s.name},
          {"on_call", people_json(schedules.on_call(s, t, extra), set->references.people)},
          {"people", people_json(schedules.everyone(s), set->references.people)}};
      add_until(o, schedules, s, t, extra);
      out.push_back(std::move(o));
    }
  }
  respond(
      json_response(200, json::object{{"time_zone", time_zone_}, {"schedules", std::move(out)}}));
}

void Api::who_is_on_call(const std::string& id, const std::map<std::string, std::string>& query,
                         Respond respond) {
  auto [set, s] = find_schedule(library_, id);
  if (!s) return respond(no_schedule(id));
  const auto& schedules = set->references.schedules;
  auto at = query_time(query, "at", schedules, now());
  if (!at) return respond(error(400, at.error()));
  auto extra = overrides_ ? overrides_->of(id) : std::vector<ScheduleOverride>{};
  auto people = schedules.on_call(*s, *at, extra);
  json::object out{{"schedule", id},
                   {"name", s->name},
                   {"at", format_rfc3339(*at)},
                   {"at_local", schedules.local_text(*at)},
                   {"on_call", people_json(people, set->references.people)},
                   {"gap", people.empty()}};
  add_until(out, schedules, *s, *at, extra);
  respond(json_response(200, out));
}

void Api::schedule_shifts(const std::string& id, const std::map<std::string, std::string>& query,
                          Respond respond) {
  auto [set, s] = find_schedule(library_, id);
  if (!s) return respond(no_schedule(id));
  const auto& schedules = set->references.schedules;
  auto from = query_time(query, "from", schedules, now());
  if (!from) return respond(error(400, from.error()));
  if (auto d = query.find("days"); d != query.end()) {
    auto n = query_int(query, "days", 0, 1000);
    if (n < 1 || n > kMaxDays || d->second.find_first_not_of("0123456789") != std::string::npos)
      return respond(error(
          400,
          Error{"invalid", "days: a whole number from 1 to " + std::to_string(kMaxDays), "days"}));
  }
  auto days = query_int(query, "days", 7, kMaxDays);
  auto extra = overrides_ ? overrides_->of(id) : std::vector<ScheduleOverride>{};
  json::array out;
  for (const auto& span : schedules.shifts(*s, *from, *from + std::chrono::hours(24 * days), extra))
    out.push_back(json::object{{"from", format_rfc3339(span.from)},
                               {"to", format_rfc3339(span.to)},
                               {"from_local", schedules.local_text(span.from)},
                               {"to_local", schedules.local_text(span.to)},
                               {"on_call", people_json(span.people, set->references.people)}});
  respond(json_response(
      200, json::object{{"schedule", id}, {"time_zone", time_zone_}, {"shifts", std::move(out)}}));
}

void Api::list_overrides(const std::string& id, Respond respond) {
  auto [set, s] = find_schedule(library_, id);
  if (!s) return respond(no_schedule(id));
  json::array out;
  Timestamp t = now();
  if (overrides_)
    for (const auto& o : overrides_->of(id))
      if (o.to > t) out.push_back(overrides::to_json(o, set->references.schedules));
  respond(json_response(200, json::object{{"overrides", std::move(out)}}));
}

void Api::create_override(const std::string& id, const ApiRequest& request, Respond respond) {
  auto [set, s] = find_schedule(library_, id);
  if (!s) return respond(no_schedule(id));
  if (!overrides_)
    return respond(error(503, Error{"unavailable", "overrides are not kept by this server", ""}));
  auto body = json_body(request);
  if (!body) return respond(error(status_for(body.error()), body.error()));
  if (auto refused = stamp_actor(request, body.value(), "by")) return respond(error(403, *refused));
  auto parsed = overrides::from_json(body.value(), set->references.schedules, *s,
                                     set->references.people, now());
  if (!parsed) return respond(error(400, parsed.error()));
  auto o = std::make_shared<ScheduleOverride>(std::move(parsed.value()));
  o->id = UlidGenerator().next();
  journal_.write(
      [o](db::Connection& db) { overrides::insert(db, *o); },
      [this, o, set, respond = std::move(respond)](bool ok) {
        if (!ok)
          return respond(
              error(503, Error{"storage_unavailable", "the override could not be stored", ""}));
        overrides_->add(*o);
        spdlog::info("schedule {}: override {} by {}: {} {} from {} to {}", o->schedule, o->id,
                     o->by, o->person,
                     o->instead_of.empty() ? "added" : "instead of " + o->instead_of,
                     format_rfc3339(o->from), format_rfc3339(o->to));
        auto r = json_response(201, overrides::to_json(*o, set->references.schedules));
        r.headers["Location"] = "/api/v1/schedules/" + o->schedule + "/overrides/" + o->id;
        respond(std::move(r));
      });
}

void Api::cancel_override(const std::string& id, const std::string& override_id,
                          const ApiRequest& request, Respond respond) {
  auto [set, s] = find_schedule(library_, id);
  if (!s) return respond(no_schedule(id));
  if (!overrides_)
    return respond(error(503, Error{"unavailable", "overrides are not kept by this server", ""}));
  auto actor = actor_of(request);
  if (!actor) return respond(error(status_for(actor.error()), actor.error()));
  auto result = std::make_shared<Result<ScheduleOverride>>(Error{"storage_unavailable", "", ""});
  journal_.write(
      [result, id, override_id, by = actor->by](db::Connection& db) {
        *result = overrides::cancel(db, id, override_id, by, now());
      },
      [this, result, set, respond = std::move(respond)](bool ok) {
        if (!ok)
          return respond(
              error(503, Error{"storage_unavailable", "the override could not be cancelled", ""}));
        if (!*result)
          return respond(error(result->error().code == "not_found" ? 404 : 409, result->error()));
        overrides_->remove(result->value().id);
        spdlog::info("schedule {}: override {} cancelled", result->value().schedule,
                     result->value().id);
        respond(json_response(200, overrides::to_json(result->value(), set->references.schedules)));
      });
}

}  // namespace tocsin
