#pragma once
// What the siren poller sees goes two ways: each controller's status into live state (Redis hash
// tocsin:siren:{id}), and a controller that stops answering or reports a fault becomes an incident
// of type siren.fault through the normal ingest path (the journal), so playbooks and people see it
// like any other. Repeated faults of one controller fold into its active incident (dedup_key).

#include <map>
#include <mutex>
#include <string>

#include "broker/journal/intake.hpp"
#include "broker/live/live_state.hpp"
#include "channels/siren/siren_channel.hpp"

namespace tocsin {

class SirenWatch : public channels::SirenObserver {
 public:
  SirenWatch(Intake& journal, LiveState& live) : journal_(journal), live_(live) {}

  // The controllers configured and the zones each covers (before polling starts).
  void controllers(std::map<std::string, std::vector<std::string>> zones_by_controller) override;
  // From the poller's thread.
  void on_status(const channels::SirenStatus& s) override;
  // {"zones": [{"zone", "controllers": [{"id", "polled", "reachable", "sounding", "fault_code",
  // "ac_power", "battery_percent", "error", "polled_at"}]}]}: what the console's board shows.
  std::string by_zone() const;
  std::size_t unreachable() const;  // controllers whose last poll did not reach them

 private:
  std::map<std::string, std::vector<std::string>> zones_;  // controller → zones
  std::map<std::string, channels::SirenStatus> last_;      // controller → its last poll
  Intake& journal_;
  LiveState& live_;
  mutable std::mutex mutex_;
  std::map<std::string, std::string> reported_;  // controller → the fault last reported ("" none)
};

}  // namespace tocsin
