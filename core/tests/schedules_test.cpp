#include <catch2/catch.hpp>

#include <fstream>

#include "core/schedules.hpp"
#include "tests/support/temp_dir.hpp"

using namespace tocsin;
using tocsin::test::TempDir;

namespace {

Directory staff() {
  std::vector<Person> people;
  for (const char* id : {"ana", "ben", "chloe", "dev", "eve"}) {
    Person p;
    p.id = id;
    p.name = id;
    people.push_back(p);
  }
  return Directory(std::move(people));
}

std::variant<Schedules, ScheduleErrors> load(const TempDir& dir, const std::string& yaml,
                                             const std::string& zone = "America/Montreal") {
  auto file = dir.path() / "schedules.yaml";
  std::ofstream(file) << yaml;
  static const Directory people = staff();
  return load_schedules(file.string(), zone, people);
}

Schedules loaded(const TempDir& dir, const std::string& yaml) {
  auto r = load(dir, yaml);
  if (auto* e = std::get_if<ScheduleErrors>(&r)) FAIL(e->errors.front());
  return std::get<Schedules>(std::move(r));
}

std::vector<std::string> errors(const TempDir& dir, const std::string& yaml) {
  auto r = load(dir, yaml);
  if (auto* e = std::get_if<ScheduleErrors>(&r)) return e->errors;
  return {};
}

Timestamp utc(const char* text) {
  auto t = parse_rfc3339(text);
  REQUIRE(t);
  return *t;
}

using People = std::vector<std::string>;

}  // namespace

TEST_CASE("a weekly rotation hands off on the city's clock, an hour later in UTC after November") {
  TempDir dir;
  auto s = loaded(dir, R"(schedules:
  - id: duty
    rotations:
      - id: week
        shift: weekly
        start: 2026-10-19T08:00
        participants: [ana, ben, chloe]
)");
  const Schedule& duty = *s.find("duty");
  // 2026-10-19 08:00 EDT is 12:00 UTC: ana's week, then ben's from 2026-10-26 08:00 EDT.
  CHECK(s.on_call(duty, utc("2026-10-19T11:59:59Z")) == People{"chloe"});
  CHECK(s.on_call(duty, utc("2026-10-19T12:00:00Z")) == People{"ana"});
  CHECK(s.on_call(duty, utc("2026-10-26T12:00:00Z")) == People{"ben"});
  // Clocks fall back on 2026-11-01: ben's week ends at 08:00 EST, 13:00 UTC.
  CHECK(s.on_call(duty, utc("2026-11-02T12:59:59Z")) == People{"ben"});
  CHECK(s.on_call(duty, utc("2026-11-02T13:00:00Z")) == People{"chloe"});
  CHECK(s.on_call(duty, utc("2026-11-09T13:00:00Z")) == People{"ana"});
  CHECK(s.local_text(utc("2026-11-09T13:00:00Z")) == "2026-11-09 08:00 EST");
}

TEST_CASE("a hand-off in the hour that happens twice (November) is at its first occurrence") {
  TempDir dir;
  auto s = loaded(dir, R"(schedules:
  - id: nights
    rotations:
      - { id: daily, shift: daily, start: "2026-10-30T01:30", participants: [ana, ben] }
)");
  const Schedule& nights = *s.find("nights");
  // 2026-11-01: 01:30 EDT is 05:30 UTC; an hour later it is 01:30 EST again.
  CHECK(s.on_call(nights, utc("2026-11-01T05:29:59Z")) == People{"ben"});
  CHECK(s.on_call(nights, utc("2026-11-01T05:30:00Z")) == People{"ana"});
  CHECK(s.on_call(nights, utc("2026-11-01T06:15:00Z")) == People{"ana"});  // 01:15 EST
  CHECK(s.on_call(nights, utc("2026-11-01T06:30:00Z")) == People{"ana"});  // 01:30 EST
  CHECK(s.on_call(nights, utc("2026-11-02T06:29:59Z")) == People{"ana"});  // a 25 h shift
  CHECK(s.on_call(nights, utc("2026-11-02T06:30:00Z")) == People{"ben"});
  // The city's clock reads the first 01:30 for a local time that happens twice.
  CHECK(s.parse_time("2026-11-01T01:30") == utc("2026-11-01T05:30:00Z"));
}

TEST_CASE("a hand-off in the skipped hour (March) is when the clocks jump") {
  TempDir dir;
  auto s = loaded(dir, R"(schedules:
  - id: nights
    rotations:
      - { id: daily, shift: daily, start: "2027-03-12T02:30", participants: [ana, ben] }
)");
  const Schedule& nights = *s.find("nights");
  // 2027-03-14 02:00 EST becomes 03:00 EDT (07:00 UTC); 02:30 never happens that day.
  CHECK(s.on_call(nights, utc("2027-03-13T07:30:00Z")) == People{"ben"});
  CHECK(s.on_call(nights, utc("2027-03-14T06:59:59Z")) == People{"ben"});
  CHECK(s.on_call(nights, utc("2027-03-14T07:00:00Z")) == People{"ana"});
  CHECK(s.on_call(nights, utc("2027-03-15T06:29:59Z")) == People{"ana"});  // a 23.5 h shift
  CHECK(s.on_call(nights, utc("2027-03-15T06:30:00Z")) == People{"ben"});  // 02:30 EDT
}

TEST_CASE("12 h shifts keep their 08:00 and 20:00 hand-offs across daylight saving") {
  TempDir dir;
  auto s = loaded(dir, R"(schedules:
  - id: crews
    rotations:
      - { id: halves, shift: 12h, start: "2026-10-31T08:00", participants: [ana, ben] }
)");
  const Schedule& crews = *s.find("crews");
  // The night of the change, 20:00 EDT to 08:00 EST, is 13 hours long.
  CHECK(s.on_call(crews, utc("2026-11-01T00:00:00Z")) == People{"ben"});  // 20:00 EDT
  CHECK(s.on_call(crews, utc("2026-11-01T12:59:59Z")) == People{"ben"});  // 07:59 EST
  CHECK(s.on_call(crews, utc("2026-11-01T13:00:00Z")) == People{"ana"});  // 08:00 EST
  CHECK(s.on_call(crews, *s.parse_time("2026-11-01T19:59")) == People{"ana"});
  CHECK(s.on_call(crews, *s.parse_time("2026-11-01T20:00")) == People{"ben"});
  CHECK(s.on_call(crews, *s.parse_time("2026-11-02T07:59")) == People{"ben"});
  CHECK(s.on_call(crews, *s.parse_time("2026-11-02T08:00")) == People{"ana"});
}

TEST_CASE("rules: weekday business hours and nights and weekends are different rotations") {
  TempDir dir;
  auto s = loaded(dir, R"(schedules:
  - id: public-works
    rotations:
      - { id: days, shift: weekly, start: "2026-11-02T08:00", participants: [ana, ben] }
      - { id: nights, shift: weekly, start: "2026-11-02T08:00", participants: [chloe, dev] }
    rules:
      - { rotation: days, days: weekdays, from: "08:00", to: "17:00" }
      - { rotation: nights, days: [sun, mon, tue, wed, thu, fri], from: "17:00", to: "08:00" }
      - { rotation: nights, days: weekend }
      - { person: eve, days: [wed], from: "12:00", to: "13:00" }
)");
  const Schedule& pw = *s.find("public-works");
  auto at = [&](const char* local) { return s.on_call(pw, *s.parse_time(local)); };
  CHECK(at("2026-11-02T08:00") == People{"ana"});  // Monday
  CHECK(at("2026-11-02T16:59") == People{"ana"});
  CHECK(at("2026-11-02T17:00") == People{"chloe"});
  CHECK(at("2026-11-03T07:59") == People{"chloe"});         // Monday night, past midnight
  CHECK(at("2026-11-04T12:30") == (People{"ana", "eve"}));  // Wednesday lunch: both
  CHECK(at("2026-11-07T12:00") == People{"chloe"});         // Saturday
  CHECK(at("2026-11-09T07:00") == People{"chloe"});         // Monday before 08:00: Sunday night
  CHECK(at("2026-11-09T08:00") == People{"ben"});           // the next week's day person
  CHECK(at("2026-11-09T17:00") == People{"dev"});
}

TEST_CASE("overrides replace or add someone, and a temporary schedule sets the rules aside") {
  TempDir dir;
  auto s = loaded(dir, R"(schedules:
  - id: duty
    rotations:
      - { id: week, shift: weekly, start: "2026-11-02T08:00", participants: [ana, ben] }
    overrides:
      - { person: chloe, instead_of: ana, from: "2026-11-03T18:00", to: "2026-11-04T08:00",
          reason: ana's night off }
      - { person: dev, instead_of: ben, from: "2026-11-03T18:00", to: "2026-11-04T08:00" }
    temporary:
      - from: "2026-12-24T00:00"
        to: "2026-12-27T00:00"
        shifts:
          - { person: eve, from: "2026-12-24T00:00", to: "2026-12-25T12:00" }
          - { person: dev, from: "2026-12-25T12:00", to: "2026-12-27T00:00" }
)");
  const Schedule& duty = *s.find("duty");
  auto at = [&](const char* local, const std::vector<ScheduleOverride>& extra = {}) {
    return s.on_call(duty, *s.parse_time(local), extra);
  };
  CHECK(at("2026-11-03T17:59") == People{"ana"});
  CHECK(at("2026-11-03T18:00") == People{"chloe"});  // ben is not on call: dev's does nothing
  CHECK(at("2026-11-04T08:00") == People{"ana"});
  CHECK(at("2026-12-24T10:00") == People{"eve"});
  CHECK(at("2026-12-26T10:00") == People{"dev"});
  CHECK(at("2026-12-27T00:00") == People{"ben"});
  ScheduleOverride add{
      "o1", "duty", "eve", "", *s.parse_time("2026-11-05T00:00"), *s.parse_time("2026-11-06T00:00"),
      "",   "",     {}};
  CHECK(at("2026-11-05T09:00", {add}) == (People{"ana", "eve"}));
  ScheduleOverride self{"o2",
                        "duty",
                        "ana",
                        "ana",
                        *s.parse_time("2026-11-05T00:00"),
                        *s.parse_time("2026-11-06T00:00"),
                        "",
                        "",
                        {}};
  CHECK(at("2026-11-05T09:00", {self}) == People{"ana"});
  CHECK(s.everyone(duty) == (People{"ana", "ben", "eve", "dev"}));
}

TEST_CASE("the shifts of two weeks, merged, with an override cut into them") {
  TempDir dir;
  auto s = loaded(dir, R"(schedules:
  - id: duty
    rotations:
      - { id: week, shift: weekly, start: "2026-11-02T08:00", participants: [ana, ben] }
)");
  const Schedule& duty = *s.find("duty");
  ScheduleOverride cover{"o1",
                         "duty",
                         "chloe",
                         "ben",
                         *s.parse_time("2026-11-10T18:00"),
                         *s.parse_time("2026-11-11T08:00"),
                         "",
                         "",
                         {}};
  auto list =
      s.shifts(duty, *s.parse_time("2026-11-01T00:00"), *s.parse_time("2026-11-15T00:00"), {cover});
  REQUIRE(list.size() == 5);
  CHECK(list[0].people == People{"ben"});
  CHECK(s.local_text(list[1].from) == "2026-11-02 08:00 EST");
  CHECK(list[1].people == People{"ana"});
  CHECK(list[2].people == People{"ben"});
  CHECK(list[3].people == People{"chloe"});
  CHECK(s.local_text(list[3].to) == "2026-11-11 08:00 EST");
  CHECK(list[4].people == People{"ben"});
  CHECK(s.local_text(list[4].to) == "2026-11-15 00:00 EST");
}

TEST_CASE("a schedules file with mistakes: each at its line and column, naming the field") {
  TempDir dir;
  auto e = errors(dir, R"(schedules:
  - id: duty
    rotations:
      - { id: week, shift: fortnightly, start: "2026-11-02T08:00", participants: [ana, zoe] }
      - { id: week, shift: 2w, start: "2026-11-31T08:00", participants: [] }
    rules:
      - { rotation: month, days: [mon, funday], from: "8h", to: "17:00" }
      - { rotation: week, person: ana }
    overrides:
      - { person: ana, from: "2026-11-04T08:00", to: "2026-11-03T08:00", colour: red }
  - id: duty
    name: The same id
    rotations:
      - { id: x, shift: daily, start: "2026-11-02T08:00", participants: ana }
)");
  auto has = [&](const std::string& text) {
    for (const auto& m : e)
      if (m.find(text) != std::string::npos) return true;
    return false;
  };
  CHECK(has(":4:28: schedules[0].rotations[0].shift: 'fortnightly' is not weekly, daily"));
  CHECK(has("schedules[0].rotations[0].participants: 'zoe' is not a person of people.yaml"));
  CHECK(has("schedules[0].rotations[1].id: 'week' is used twice"));
  CHECK(has("schedules[0].rotations[1].start: '2026-11-31T08:00' is not a time"));
  CHECK(has("schedules[0].rotations[1].participants: must not be empty"));
  CHECK(has(":7:21: schedules[0].rules[0].rotation: 'month' is not a rotation of this schedule"));
  CHECK(has("schedules[0].rules[0].days: 'funday' is not a day"));
  CHECK(has("schedules[0].rules[0].from: '8h' is not a time of day (08:00)"));
  CHECK(has("schedules[0].rules[1]: needs one of rotation or person"));
  CHECK(has("schedules[0].overrides[0].to: must be after from"));
  CHECK(has("unknown key 'schedules[0].overrides[0].colour'"));
  CHECK(has("schedules[1].id: 'duty' is used twice"));
  for (const auto& m : e) CHECK(m.rfind((dir.path() / "schedules.yaml").string() + ":", 0) == 0);
}

TEST_CASE("a time zone the tz database does not have is refused") {
  TempDir dir;
  auto r = load(dir, "schedules: []\n", "America/Atlantis");
  REQUIRE(std::holds_alternative<ScheduleErrors>(r));
  CHECK(std::get<ScheduleErrors>(r).errors.at(0).find("'America/Atlantis' is not a zone") !=
        std::string::npos);
}

TEST_CASE("rotations without an id are each an error, not a crash (found by fuzz_schedules)") {
  TempDir dir;
  // Minimised from the fuzzer's input: two rotations lacking an id made the "used twice" check
  // ask yaml-cpp for the place of a key that is not there, and it threw.
  auto e = errors(dir, R"(schedules:
  - id: duty
    rotations:
      - { shift: weekly, start: "2026-11-02T08:00", participants: [ana] }
      - { shift: weekly, start: "2026-11-02T08:00", participants: [ben] }
)");
  REQUIRE(e.size() == 2);
  CHECK(e[0].find("missing required key 'schedules[0].rotations[0].id'") != std::string::npos);
  CHECK(e[1].find("missing required key 'schedules[0].rotations[1].id'") != std::string::npos);
}
