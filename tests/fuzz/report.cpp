// A report body, as the ZeroMQ bus and POST /api/v1/incidents take it: JSON → a validated
// incident. What it accepts must come back out as JSON that it accepts again, unchanged.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "core/incident.hpp"
#include "core/json_text.hpp"

#include <boost/json.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tocsin;
  const IncidentLimits limits;
  auto first = parse_incident(std::string_view(reinterpret_cast<const char*>(data), size), limits);
  if (!first) {
    if (first.error().code.empty() || first.error().message.empty()) std::abort();
    return 0;
  }
  // Written back as a report: the stored form less what the broker adds (its id, when it came;
  // the dedup key, which carries the status as a prefix once read).
  auto written = to_json(first.value());
  written.erase("id");
  written.erase("received_at");
  written.erase("dedup_key");
  auto again = parse_incident(json_text(written), limits);
  if (!again) {  // accepted once, refused when written back: the writer is wrong
    std::fprintf(stderr, "written back: %s\nrefused: %s\n", json_text(written).c_str(),
                 again.error().message.c_str());
    std::abort();
  }
  if (again->source != first->source || again->type != first->type ||
      again->severity != first->severity || again->headline != first->headline ||
      again->status != first->status || again->location.zone != first->location.zone ||
      again->attributes.size() != first->attributes.size())
    std::abort();
  return 0;
}
