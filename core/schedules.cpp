#include "core/schedules.hpp"

#include <date/tz.h>

#include <algorithm>
#include <map>
#include <regex>
#include <set>

#include "core/yaml_reader.hpp"

namespace tocsin {

namespace {

using std::chrono::seconds;
constexpr std::int64_t kDay = 86400;

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  if (a % b != 0 && ((a < 0) != (b < 0))) --q;
  return q;
}

// Wall-clock seconds since 1970-01-01 00:00 on the city's clock (a zone of null: UTC).
seconds local_of(const date::time_zone* z, Timestamp t) {
  auto s = std::chrono::floor<seconds>(t);
  if (!z) return s.time_since_epoch();
  return z->to_local(s).time_since_epoch();
}

// The instant a wall-clock time names: of an hour that happens twice, the first; of one that is
// skipped (the spring-forward gap), the instant the clocks jump.
Timestamp sys_of(const date::time_zone* z, seconds local) {
  if (!z) return Timestamp(std::chrono::duration_cast<std::chrono::milliseconds>(local));
  auto st = z->to_sys(date::local_seconds{local}, date::choose::earliest);
  return std::chrono::time_point_cast<std::chrono::milliseconds>(st);
}

Timestamp boundary(const date::time_zone* z, const Rotation& r, std::int64_t n) {
  return sys_of(z, r.start + seconds(n * r.shift.count()));
}

// The index of the shift of `r` that holds `t`: estimated on the wall clock, then settled on the
// instants (a hand-off in an hour that happens twice).
std::int64_t shift_index(const date::time_zone* z, const Rotation& r, Timestamp t) {
  std::int64_t n = floor_div((local_of(z, t) - r.start).count(), r.shift.count());
  while (t < boundary(z, r, n)) --n;
  while (t >= boundary(z, r, n + 1)) ++n;
  return n;
}

const std::string* on_duty(const date::time_zone* z, const Rotation& r, Timestamp t) {
  if (r.participants.empty()) return nullptr;
  auto size = std::int64_t(r.participants.size());
  std::int64_t n = shift_index(z, r, t);
  return &r.participants[std::size_t(((n % size) + size) % size)];
}

bool covers(const ScheduleRule& rule, std::int64_t local) {
  std::int64_t day = floor_div(local, kDay);
  std::int64_t tod = local - day * kDay;
  int weekday = int(((day + 4) % 7 + 7) % 7);  // 1970-01-01 was a Thursday
  std::int64_t from = rule.from.count() * 60, to = rule.to.count() * 60;
  if (from < to) return rule.days[std::size_t(weekday)] && tod >= from && tod < to;
  return (rule.days[std::size_t(weekday)] && tod >= from) ||
         (rule.days[std::size_t((weekday + 6) % 7)] && tod < to);
}

const Rotation* rotation_of(const Schedule& s, const std::string& id) {
  for (const auto& r : s.rotations)
    if (r.id == id) return &r;
  return nullptr;
}

}  // namespace

const date::time_zone* find_time_zone(const std::string& name) {
  try {
    return date::locate_zone(name);
  } catch (const std::exception&) {
    return nullptr;
  }
}

Schedules::Schedules() : zone_(find_time_zone("UTC")) {}

Schedules::Schedules(std::vector<Schedule> schedules, const date::time_zone* zone)
    : schedules_(std::move(schedules)), zone_(zone) {}

const Schedule* Schedules::find(std::string_view id) const {
  for (const auto& s : schedules_)
    if (s.id == id) return &s;
  return nullptr;
}

std::vector<std::string> Schedules::on_call(const Schedule& s, Timestamp t,
                                            const std::vector<ScheduleOverride>& extra) const {
  std::vector<std::string> out;
  auto add = [&out](const std::string& p) {
    if (std::find(out.begin(), out.end(), p) == out.end()) out.push_back(p);
  };
  const TemporarySchedule* temporary = nullptr;
  for (const auto& ts : s.temporary)
    if (ts.from <= t && t < ts.to) temporary = &ts;
  if (temporary) {
    for (const auto& shift : temporary->shifts)
      if (shift.from <= t && t < shift.to) add(shift.person);
  } else if (s.rules.empty()) {
    for (const auto& r : s.rotations)
      if (const std::string* p = on_duty(zone_, r, t)) add(*p);
  } else {
    std::int64_t local = local_of(zone_, t).count();
    for (const auto& rule : s.rules) {
      if (!covers(rule, local)) continue;
      if (!rule.person.empty())
        add(rule.person);
      else if (const Rotation* r = rotation_of(s, rule.rotation))
        if (const std::string* p = on_duty(zone_, *r, t)) add(*p);
    }
  }
  auto apply = [&](const ScheduleOverride& o) {
    if (!(o.from <= t && t < o.to)) return;
    if (o.instead_of.empty()) return add(o.person);
    auto it = std::find(out.begin(), out.end(), o.instead_of);
    if (it == out.end() || o.person == o.instead_of)
      return;  // a replacement of someone who is not on call does nothing
    if (std::find(out.begin(), out.end(), o.person) != out.end())
      out.erase(it);
    else
      *it = o.person;
  };
  for (const auto& o : s.overrides) apply(o);
  for (const auto& o : extra) apply(o);
  return out;
}

std::vector<std::string> Schedules::everyone(const Schedule& s) const {
  std::vector<std::string> out;
  auto add = [&out](const std::string& p) {
    if (!p.empty() && std::find(out.begin(), out.end(), p) == out.end()) out.push_back(p);
  };
  for (const auto& r : s.rotations)
    for (const auto& p : r.participants) add(p);
  for (const auto& rule : s.rules) add(rule.person);
  for (const auto& ts : s.temporary)
    for (const auto& shift : ts.shifts) add(shift.person);
  return out;
}

std::vector<OnCallShift> Schedules::shifts(const Schedule& s, Timestamp from, Timestamp to,
                                           const std::vector<ScheduleOverride>& extra) const {
  std::vector<OnCallShift> out;
  if (!(from < to)) return out;
  std::vector<Timestamp> cuts{from};
  auto cut = [&](Timestamp c) {
    if (from < c && c < to) cuts.push_back(c);
  };
  const std::int64_t first_day = floor_div(local_of(zone_, from).count(), kDay) - 1;
  const std::int64_t last_day = floor_div(local_of(zone_, to).count(), kDay) + 1;
  for (const auto& r : s.rotations) {
    std::int64_t n = shift_index(zone_, r, from);
    for (int guard = 0; guard < 100000; ++guard, ++n) {
      Timestamp b = boundary(zone_, r, n);
      if (b >= to) break;
      cut(b);
    }
  }
  for (const auto& rule : s.rules)
    for (std::int64_t d = first_day; d <= last_day; ++d) {
      cut(sys_of(zone_, seconds(d * kDay + rule.from.count() * 60)));
      cut(sys_of(zone_, seconds(d * kDay + rule.to.count() * 60)));
    }
  for (const auto& ts : s.temporary) {
    cut(ts.from);
    cut(ts.to);
    for (const auto& shift : ts.shifts) {
      cut(shift.from);
      cut(shift.to);
    }
  }
  for (const auto* list : {&s.overrides, &extra})
    for (const auto& o : *list) {
      cut(o.from);
      cut(o.to);
    }
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  for (std::size_t i = 0; i < cuts.size(); ++i) {
    Timestamp end = i + 1 < cuts.size() ? cuts[i + 1] : to;
    auto people = on_call(s, cuts[i], extra);
    if (!out.empty() && out.back().people == people)
      out.back().to = end;
    else
      out.push_back({cuts[i], end, std::move(people)});
  }
  return out;
}

std::string Schedules::local_text(Timestamp t) const {
  auto s = std::chrono::floor<seconds>(t);
  if (!zone_) return date::format("%Y-%m-%d %H:%M UTC", s);
  return date::format("%Y-%m-%d %H:%M %Z", date::make_zoned(zone_, s));
}

std::optional<Timestamp> Schedules::parse_time(std::string_view text) const {
  static const std::regex local(R"(^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?$)");
  std::string s(text);
  std::smatch m;
  if (!std::regex_match(s, m, local)) return parse_rfc3339(text);
  auto num = [&m](int i) { return m[i].matched ? std::stoi(m[i].str()) : 0; };
  date::year_month_day ymd{date::year{num(1)}, date::month{unsigned(num(2))},
                           date::day{unsigned(num(3))}};
  if (!ymd.ok() || num(4) > 23 || num(5) > 59 || num(6) > 59) return std::nullopt;
  auto day = date::local_days{ymd}.time_since_epoch();
  return sys_of(zone_, std::chrono::duration_cast<seconds>(day) +
                           seconds(num(4) * 3600 + num(5) * 60 + num(6)));
}

void OverrideBook::replace_all(std::vector<ScheduleOverride> all) {
  std::lock_guard lock(mutex_);
  all_ = std::move(all);
}

void OverrideBook::add(ScheduleOverride o) {
  std::lock_guard lock(mutex_);
  Timestamp t = now();
  std::erase_if(all_, [t](const ScheduleOverride& x) { return x.to <= t; });
  all_.push_back(std::move(o));
}

void OverrideBook::remove(const std::string& id) {
  std::lock_guard lock(mutex_);
  std::erase_if(all_, [&id](const ScheduleOverride& x) { return x.id == id; });
}

std::vector<ScheduleOverride> OverrideBook::of(const std::string& schedule) const {
  std::lock_guard lock(mutex_);
  std::vector<ScheduleOverride> out;
  for (const auto& o : all_)
    if (o.schedule == schedule) out.push_back(o);
  return out;
}

namespace {

class ScheduleReader {
 public:
  ScheduleReader(YamlReader& r, const Directory& people, const Schedules& clock)
      : r_(r), people_(people), clock_(clock) {}

  std::optional<Schedule> schedule(const YAML::Node& n, const std::string& at) {
    if (!r_.mapping(n, at, {"id", "name", "rotations", "rules", "temporary", "overrides"}))
      return std::nullopt;
    Schedule s;
    static const std::regex id(R"(^[a-z0-9][a-z0-9-]{0,63}$)");
    if (r_.string(n, at, "id", true, s.id) && !std::regex_match(s.id, id))
      r_.error(n["id"].Mark(),
               at + ".id: '" + s.id + "' must be lower-case letters, digits and '-' (64 at most)");
    r_.string(n, at, "name", false, s.name);
    if (s.name.empty()) s.name = s.id;
    each(n, at, "rotations", [&](const YAML::Node& item, const std::string& p) {
      if (auto rot = rotation(item, p)) {
        // Without an id (an error of its own), a second one is not "used twice".
        if (!rot->id.empty() && rotation_of(s, rot->id))
          r_.error(item["id"].Mark(), p + ".id: '" + rot->id + "' is used twice");
        s.rotations.push_back(std::move(*rot));
      }
    });
    each(n, at, "rules", [&](const YAML::Node& item, const std::string& p) {
      if (auto rule = this->rule(item, p, s)) s.rules.push_back(std::move(*rule));
    });
    each(n, at, "temporary", [&](const YAML::Node& item, const std::string& p) {
      if (auto ts = temporary(item, p)) s.temporary.push_back(std::move(*ts));
    });
    each(n, at, "overrides", [&](const YAML::Node& item, const std::string& p) {
      if (auto o = override_of(item, p)) s.overrides.push_back(std::move(*o));
    });
    if (s.rotations.empty() && s.rules.empty() && s.temporary.empty())
      r_.error(n.Mark(), at + ": names nobody (rotations, rules or temporary)");
    return s;
  }

 private:
  template <class F>
  void each(const YAML::Node& n, const std::string& at, const char* key, F&& f) {
    auto list = r_.section(n, at, key, false);
    if (!list) return;
    std::string path = at + "." + key;
    if (!list->IsSequence()) return r_.error(list->Mark(), path + ": must be a list");
    for (std::size_t i = 0; i < list->size(); ++i)
      f((*list)[i], path + "[" + std::to_string(i) + "]");
  }

  bool person(const YAML::Node& n, const std::string& at, const char* key, bool required,
              std::string& out) {
    if (!r_.string(n, at, key, required, out)) return false;
    if (people_.find(out)) return true;
    r_.error(n[key].Mark(), at + "." + key + ": '" + out + "' is not a person of people.yaml");
    return false;
  }

  bool instant(const YAML::Node& n, const std::string& at, const char* key, Timestamp& out) {
    std::string text;
    if (!r_.string(n, at, key, true, text)) return false;
    if (auto t = clock_.parse_time(text)) {
      out = *t;
      return true;
    }
    r_.error(n[key].Mark(), at + "." + key + ": '" + text +
                                "' is not a time such as 2026-11-02T08:00 (the city's clock) or "
                                "2026-11-02T13:00:00Z");
    return false;
  }

  bool span(const YAML::Node& n, const std::string& at, Timestamp& from, Timestamp& to) {
    const bool from_ok = instant(n, at, "from", from);  // both read: each error reported
    const bool to_ok = instant(n, at, "to", to);
    if (!from_ok || !to_ok) return false;
    if (from < to) return true;
    r_.error(n["to"].Mark(), at + ".to: must be after from");
    return false;
  }

  void time_of_day(const YAML::Node& n, const std::string& at, const char* key,
                   std::chrono::minutes& out) {
    std::string text;
    if (!r_.string(n, at, key, false, text)) return;
    static const std::regex hhmm(R"(^([01][0-9]|2[0-4]):([0-5][0-9])$)");
    std::smatch m;
    if (std::regex_match(text, m, hhmm)) {
      int minutes = std::stoi(m[1].str()) * 60 + std::stoi(m[2].str());
      if (minutes <= 24 * 60) {
        out = std::chrono::minutes(minutes);
        return;
      }
    }
    r_.error(n[key].Mark(), at + "." + key + ": '" + text + "' is not a time of day (08:00)");
  }

  std::optional<Rotation> rotation(const YAML::Node& n, const std::string& at) {
    if (!r_.mapping(n, at, {"id", "shift", "start", "participants"})) return std::nullopt;
    Rotation rot;
    r_.string(n, at, "id", true, rot.id);
    if (r_.string(n, at, "shift", true, rot.shift_text)) {
      static const std::regex length(R"(^([1-9][0-9]{0,3})([hdw])$)");
      std::smatch m;
      std::int64_t hours = 0;
      if (rot.shift_text == "weekly")
        hours = 7 * 24;
      else if (rot.shift_text == "daily")
        hours = 24;
      else if (std::regex_match(rot.shift_text, m, length))
        hours = std::stoll(m[1].str()) * (m[2] == "h" ? 1 : m[2] == "d" ? 24 : 7 * 24);
      if (hours < 1 || hours > 8 * 7 * 24)
        r_.error(n["shift"].Mark(), at + ".shift: '" + rot.shift_text +
                                        "' is not weekly, daily or a length from 1h to 8w "
                                        "(12h, 2d, 2w)");
      else
        rot.shift = seconds(hours * 3600);
    }
    Timestamp start{};
    if (instant(n, at, "start", start)) rot.start = local_of(clock_.zone(), start);
    std::vector<std::string> ids;
    if (r_.string_list(n, at, "participants", true, ids)) {
      for (const auto& id : ids)
        if (!people_.find(id))
          r_.error(n["participants"].Mark(),
                   at + ".participants: '" + id + "' is not a person of people.yaml");
      rot.participants = std::move(ids);
    }
    if (rot.shift.count() == 0)
      rot.shift = seconds(7 * kDay);  // refused: the file's errors say why
    return rot;
  }

  std::optional<ScheduleRule> rule(const YAML::Node& n, const std::string& at, const Schedule& s) {
    if (!r_.mapping(n, at, {"rotation", "person", "days", "from", "to"})) return std::nullopt;
    ScheduleRule rule;
    if (r_.string(n, at, "rotation", false, rule.rotation) && !rotation_of(s, rule.rotation))
      r_.error(n["rotation"].Mark(),
               at + ".rotation: '" + rule.rotation + "' is not a rotation of this schedule");
    person(n, at, "person", false, rule.person);
    if (n["rotation"].IsDefined() == n["person"].IsDefined())
      r_.error(n.Mark(), at + ": needs one of rotation or person");
    std::vector<std::string> days;
    if (!n["days"]) rule.days.fill(true);
    if (r_.string_list(n, at, "days", false, days)) {
      static const std::map<std::string, std::vector<int>> names{
          {"sun", {0}},       {"mon", {1}},       {"tue", {2}},
          {"wed", {3}},       {"thu", {4}},       {"fri", {5}},
          {"sat", {6}},       {"sunday", {0}},    {"monday", {1}},
          {"tuesday", {2}},   {"wednesday", {3}}, {"thursday", {4}},
          {"friday", {5}},    {"saturday", {6}},  {"weekdays", {1, 2, 3, 4, 5}},
          {"weekend", {0, 6}}};
      for (const auto& d : days) {
        auto it = names.find(d);
        if (it == names.end())
          r_.error(n["days"].Mark(),
                   at + ".days: '" + d + "' is not a day (mon … sun, weekdays, weekend)");
        else
          for (int i : it->second) rule.days[std::size_t(i)] = true;
      }
    }
    time_of_day(n, at, "from", rule.from);
    time_of_day(n, at, "to", rule.to);
    return rule;
  }

  std::optional<TemporarySchedule> temporary(const YAML::Node& n, const std::string& at) {
    if (!r_.mapping(n, at, {"from", "to", "shifts"})) return std::nullopt;
    TemporarySchedule ts;
    bool ok = span(n, at, ts.from, ts.to);
    each(n, at, "shifts", [&](const YAML::Node& item, const std::string& p) {
      if (!r_.mapping(item, p, {"person", "from", "to"})) return;
      TemporaryShift shift;
      bool named = person(item, p, "person", true, shift.person);
      if (span(item, p, shift.from, shift.to) && ok && (shift.from < ts.from || shift.to > ts.to))
        r_.error(item.Mark(), p + ": must be within the temporary schedule's from and to");
      if (named) ts.shifts.push_back(std::move(shift));
    });
    if (!n["shifts"]) r_.error(n.Mark(), at + ".shifts: required (who is on call)");
    return ts;
  }

  std::optional<ScheduleOverride> override_of(const YAML::Node& n, const std::string& at) {
    if (!r_.mapping(n, at, {"person", "instead_of", "from", "to", "reason"})) return std::nullopt;
    ScheduleOverride o;
    person(n, at, "person", true, o.person);
    person(n, at, "instead_of", false, o.instead_of);
    span(n, at, o.from, o.to);
    r_.string(n, at, "reason", false, o.reason);
    o.by = "schedules.yaml";
    return o;
  }

  YamlReader& r_;
  const Directory& people_;
  const Schedules& clock_;
};

}  // namespace

namespace {

// The document `root` read on `zone`'s clock (a zone of null: `time_zone` is not one).
std::variant<Schedules, ScheduleErrors> read_schedules(YamlReader& r,
                                                       const std::optional<YAML::Node>& root,
                                                       const date::time_zone* zone,
                                                       const Directory& people,
                                                       const std::string& time_zone) {
  if (!zone) r.error("city.time_zone: '" + time_zone + "' is not a zone of the tz database");
  if (!root) return ScheduleErrors{r.take()};
  const Schedules clock({}, zone);
  ScheduleReader reader(r, people, clock);
  std::vector<Schedule> schedules;
  if (r.mapping(*root, "", {"schedules"})) {
    auto list = r.section(*root, "", "schedules", true);
    if (list && !list->IsSequence()) r.error(list->Mark(), "schedules: must be a list");
    if (list && list->IsSequence()) {
      std::set<std::string> ids;
      for (std::size_t i = 0; i < list->size(); ++i) {
        std::string at = "schedules[" + std::to_string(i) + "]";
        auto s = reader.schedule((*list)[i], at);
        if (!s) continue;
        if (!s->id.empty() && !ids.insert(s->id).second)
          r.error((*list)[i]["id"].Mark(), at + ".id: '" + s->id + "' is used twice");
        schedules.push_back(std::move(*s));
      }
    }
  }
  if (r.failed()) return ScheduleErrors{r.take()};
  return Schedules(std::move(schedules), zone);
}

}  // namespace

std::variant<Schedules, ScheduleErrors> load_schedules(const std::string& path,
                                                       const std::string& time_zone,
                                                       const Directory& people) {
  YamlReader r(path);
  const date::time_zone* zone = find_time_zone(time_zone);
  return read_schedules(r, zone ? load_yaml_file(path, 4 << 20, r) : std::nullopt, zone, people,
                        time_zone);
}

std::variant<Schedules, ScheduleErrors> parse_schedules(const std::string& text,
                                                        const std::string& file,
                                                        const std::string& time_zone,
                                                        const Directory& people) {
  YamlReader r(file);
  const date::time_zone* zone = find_time_zone(time_zone);
  return read_schedules(r, zone ? load_yaml_text(text, r) : std::nullopt, zone, people, time_zone);
}

}  // namespace tocsin
