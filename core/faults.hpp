#pragma once
// Named fault points, for tests of what happens when a part fails where nothing real can be made
// to fail on demand (a bug's exception in a handler, in a playbook's run). Off unless the
// environment variable TOCSIN_FAULTS names them when the process starts:
//
//   TOCSIN_FAULTS=journal.playbooks=1,api.handler   (the first time only; every time)
//
// Off, a point costs one load of a flag that is false.

#include <atomic>
#include <stdexcept>
#include <string>
#include <string_view>

namespace tocsin::faults {

// What a fault point throws: a plain std::runtime_error, as an unexpected bug's would be.
class Injected : public std::runtime_error {
 public:
  explicit Injected(const std::string& point)
      : std::runtime_error("fault injected at " + point + " (TOCSIN_FAULTS)") {}
};

namespace detail {
extern std::atomic<bool> any;  // TOCSIN_FAULTS named at least one point
bool fires(std::string_view point);
}  // namespace detail

// Throws Injected when TOCSIN_FAULTS names `point` (and its count is not spent).
inline void point(std::string_view point) {
  if (detail::any.load(std::memory_order_relaxed) && detail::fires(point))
    throw Injected(std::string(point));
}

// Reads TOCSIN_FAULTS; throws std::invalid_argument naming a malformed entry. Called once at
// start (serve), before any thread.
void configure_from_environment();

}  // namespace tocsin::faults
