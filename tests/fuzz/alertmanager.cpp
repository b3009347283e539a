// Alertmanager's webhook body (POST /api/v1/integrations/alertmanager) → reports.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "broker/ingest/monitoring.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tocsin;
  auto r = from_alertmanager(std::string_view(reinterpret_cast<const char*>(data), size),
                             AlertmanagerMapping{}, IncidentLimits{});
  if (!r && r.error().message.empty()) std::abort();
  if (r)
    for (const auto& a : *r)
      if (a.fingerprint.empty() || a.report.dedup_key != a.fingerprint) std::abort();
  return 0;
}
