#pragma once
// On-call schedules (config/schedules.yaml): who is on call for a schedule at an instant.
//
// A schedule has rotations (participants in order, each holding a shift of the same wall-clock
// length from a first hand-off), rules that say when each rotation (or a named person) is on call
// (days of the week, a window of the day, possibly past midnight), temporary schedules that
// replace the rules for a span with explicit shifts, and overrides (a person covers, instead of
// another or with them, from one instant to another). Every time is on the city's wall clock:
// a hand-off at 08:00 stays at 08:00 across daylight-saving changes (the shift around it is an
// hour longer or shorter). The on-call set is the union of the rules in force (the GoAlert model),
// then the temporary schedule where one covers the instant, then the overrides.

#include <array>
#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/people.hpp"
#include "core/time.hpp"

namespace date {
class time_zone;
}

namespace tocsin {

struct Rotation {
  std::string id;
  std::string shift_text;                 // as written: weekly, daily, 12h, 2w
  std::chrono::seconds shift{0};          // on the wall clock
  std::chrono::seconds start{0};          // the first hand-off, local wall-clock seconds since 1970
  std::vector<std::string> participants;  // person ids, in order
};

struct ScheduleRule {
  std::string rotation;                       // one of the schedule's rotations, or…
  std::string person;                         // …one person
  std::array<bool, 7> days{};                 // Sunday = 0
  std::chrono::minutes from{0}, to{24 * 60};  // local; to <= from: until `to` the next day
};

// Someone covers from `from` to `to`: instead of `instead_of`, or in addition when empty.
struct ScheduleOverride {
  std::string id;        // the API's; empty for the file's
  std::string schedule;  // the API's: the schedule it is for
  std::string person;
  std::string instead_of;
  Timestamp from{}, to{};
  std::string reason;
  std::string by;  // who made it (API), audited
  Timestamp created_at{};
};

struct TemporaryShift {
  std::string person;
  Timestamp from{}, to{};
};

// From `from` to `to` the rules are set aside: only these shifts are on call.
struct TemporarySchedule {
  Timestamp from{}, to{};
  std::vector<TemporaryShift> shifts;
};

struct Schedule {
  std::string id;
  std::string name;
  std::vector<Rotation> rotations;
  std::vector<ScheduleRule> rules;  // none: each rotation at all times
  std::vector<TemporarySchedule> temporary;
  std::vector<ScheduleOverride> overrides;  // the file's
};

// Who is on call over a span.
struct OnCallShift {
  Timestamp from{}, to{};
  std::vector<std::string> people;
};

class Schedules {
 public:
  Schedules();  // none, in UTC
  Schedules(std::vector<Schedule> schedules, const date::time_zone* zone);

  const Schedule* find(std::string_view id) const;
  const std::vector<Schedule>& all() const { return schedules_; }
  bool empty() const { return schedules_.empty(); }

  // Who is on call at `t`, each once, in order of appearance; `extra` are overrides made through
  // the API (those of other schedules are ignored).
  std::vector<std::string> on_call(const Schedule& s, Timestamp t,
                                   const std::vector<ScheduleOverride>& extra = {}) const;
  // Everyone the schedule names: whom to page when nobody is on call (a gap).
  std::vector<std::string> everyone(const Schedule& s) const;
  // The on-call spans from `from` to `to`, consecutive equal ones merged.
  std::vector<OnCallShift> shifts(const Schedule& s, Timestamp from, Timestamp to,
                                  const std::vector<ScheduleOverride>& extra = {}) const;

  // "2026-11-01 01:30 EDT" on the city's clock.
  std::string local_text(Timestamp t) const;
  // "2026-11-01T01:30" (or with ":SS") on the city's clock (an hour that happens twice: the
  // first), or an RFC 3339 instant with its offset.
  std::optional<Timestamp> parse_time(std::string_view text) const;
  const date::time_zone* zone() const { return zone_; }

 private:
  std::vector<Schedule> schedules_;
  const date::time_zone* zone_;
};

// The overrides made through the API that have not ended, kept in memory once stored (the
// dispatcher reads them at each send); the database is their record.
class OverrideBook {
 public:
  void replace_all(std::vector<ScheduleOverride> all);
  void add(ScheduleOverride o);
  void remove(const std::string& id);
  std::vector<ScheduleOverride> of(const std::string& schedule) const;

 private:
  mutable std::mutex mutex_;
  std::vector<ScheduleOverride> all_;
};

struct ScheduleErrors {
  std::vector<std::string> errors;  // file:line:column: message
};

// The tz database's zone named `name`, or nullptr.
const date::time_zone* find_time_zone(const std::string& name);

// Reads and checks the file: every person a person of `people`, every rotation a rule names one of
// its schedule's, every span ending after it starts.
std::variant<Schedules, ScheduleErrors> load_schedules(const std::string& path,
                                                       const std::string& time_zone,
                                                       const Directory& people);
// The same from text, its errors naming `file` (the fuzz target's way in).
std::variant<Schedules, ScheduleErrors> parse_schedules(const std::string& text,
                                                        const std::string& file,
                                                        const std::string& time_zone,
                                                        const Directory& people);

}  // namespace tocsin
