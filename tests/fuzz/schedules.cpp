// An on-call schedules file: YAML → schedules, or every error with its line and column; then who
// is on call at instants around daylight-saving changes and span by span over three days.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/schedules.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tocsin;
  if (size > 64 * 1024) return 0;
  static const Directory people = [] {
    std::vector<Person> list;
    for (const char* id : {"mgagnon", "jtremblay", "swilliams"}) {
      Person p;
      p.id = id;
      p.name = id;
      list.push_back(p);
    }
    return Directory(std::move(list));
  }();
  auto r = parse_schedules(std::string(reinterpret_cast<const char*>(data), size), "fuzz.yaml",
                           "America/Montreal", people);
  if (auto* e = std::get_if<ScheduleErrors>(&r)) {
    if (e->errors.empty()) std::abort();  // refused: say why
    for (const auto& m : e->errors)
      if (m.rfind("fuzz.yaml", 0) != 0) std::abort();  // every error names its file
    return 0;
  }
  const auto& schedules = std::get<Schedules>(r);
  for (const auto& s : schedules.all()) {
    for (const char* t : {"2026-11-01T01:30", "2027-03-14T02:30", "2026-12-25T12:00"}) {
      auto at = schedules.parse_time(t);
      if (!at) std::abort();
      for (const auto& id : schedules.on_call(s, *at))
        if (!people.find(id)) std::abort();  // only people of the directory are on call
    }
    auto from = *schedules.parse_time("2026-10-31T00:00");
    auto spans = schedules.shifts(s, from, from + std::chrono::hours(72));
    for (std::size_t i = 1; i < spans.size(); ++i)  // contiguous, each span after the last
      if (spans[i].from != spans[i - 1].to || !(spans[i].from < spans[i].to)) std::abort();
  }
  return 0;
}
