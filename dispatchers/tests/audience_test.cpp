#include <catch2/catch.hpp>

#include <fstream>

#include <boost/json.hpp>

#include "dispatchers/audience.hpp"
#include "tests/support/temp_dir.hpp"

using namespace tocsin;

namespace {

Directory staff() {
  std::vector<Person> people;
  for (auto [id, role] : {std::pair{"ana", "duty-officer"}, std::pair{"ben", "duty-officer"},
                          std::pair{"chloe", "approver"}}) {
    Person p;
    p.id = id;
    p.name = id;
    p.roles = {role};
    p.phone = "+1514555010" + std::to_string(people.size());
    people.push_back(p);
  }
  return Directory(std::move(people));
}

std::vector<std::string> ids(const std::vector<dispatchers::Contact>& contacts) {
  std::vector<std::string> out;
  for (const auto& c : contacts) out.push_back(c.id);
  return out;
}

}  // namespace

TEST_CASE("an on-call audience reaches whoever is on call then, and the override's person") {
  test::TempDir dir;
  std::ofstream(dir.path() / "schedules.yaml") << R"(schedules:
  - id: duty
    rotations:
      - { id: week, shift: weekly, start: "2026-11-02T08:00", participants: [ana, ben] }
  - id: holidays
    temporary:
      - from: "2026-12-24T00:00"
        to: "2026-12-26T00:00"
        shifts: [{ person: chloe, from: "2026-12-24T00:00", to: "2026-12-25T00:00" }]
)";
  const Directory people = staff();
  auto loaded =
      load_schedules((dir.path() / "schedules.yaml").string(), "America/Montreal", people);
  REQUIRE(std::holds_alternative<Schedules>(loaded));
  const auto& schedules = std::get<Schedules>(loaded);
  Audience audience;
  audience.on_call = {"duty"};
  Timestamp week1 = *schedules.parse_time("2026-11-03T03:00");
  // Only the one on call, not everyone with the role.
  CHECK(ids(dispatchers::staff_contacts(people, audience, {&schedules, nullptr, week1})) ==
        std::vector<std::string>{"ana"});
  OverrideBook book;
  book.add({"o1", "duty", "chloe", "ana", week1 - std::chrono::hours(1),
            week1 + std::chrono::hours(1), "", "tests", week1});
  CHECK(ids(dispatchers::staff_contacts(people, audience, {&schedules, &book, week1})) ==
        std::vector<std::string>{"chloe"});
  book.remove("o1");
  CHECK(ids(dispatchers::staff_contacts(people, audience, {&schedules, &book, week1})) ==
        std::vector<std::string>{"ana"});
  // With a role too: the union, once each, in directory order.
  audience.roles = {"approver"};
  CHECK(ids(dispatchers::staff_contacts(people, audience, {&schedules, nullptr, week1})) ==
        (std::vector<std::string>{"ana", "chloe"}));

  // A gap (nobody on call) pages everyone the schedule names, and says so.
  Audience gap;
  gap.on_call = {"holidays"};
  std::vector<std::string> gaps;
  auto christmas = *schedules.parse_time("2026-12-25T10:00");
  CHECK(ids(dispatchers::staff_contacts(people, gap, {&schedules, nullptr, christmas}, &gaps)) ==
        std::vector<std::string>{"chloe"});
  CHECK(gaps == std::vector<std::string>{"holidays"});
}

TEST_CASE("an audience's on_call survives the alert's JSON") {
  Audience a;
  a.on_call = {"duty-officer"};
  a.roles = {"approver"};
  auto back = audience_from_json(to_json(a));
  CHECK(back.on_call == a.on_call);
  CHECK(back.roles == a.roles);
  CHECK(a.describe() == "roles:approver; on-call:duty-officer");
  CHECK_FALSE(back.empty());
}
