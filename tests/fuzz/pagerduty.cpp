// PagerDuty's Events API v2 body (POST /api/v1/integrations/pagerduty/enqueue) → an event.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "broker/ingest/monitoring.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tocsin;
  std::vector<std::string> problems;
  auto r = from_pagerduty(std::string_view(reinterpret_cast<const char*>(data), size),
                          PagerDutyMapping{}, IncidentLimits{}, problems);
  if (!r && problems.empty()) std::abort();  // a refusal always lists why
  if (r && !problems.empty()) std::abort();
  return 0;
}
