#pragma once
// What the siren poller sees goes two ways: each controller's status into live state (Redis hash
// tocsin:siren:{id}), and a controller that stops answering or reports a fault becomes an incident
// of type siren.fault through the normal ingest path (the journal), so playbooks and people see it
// like any other. Repeated faults of one controller fold into its active incident (dedup_key).

#include <map>
#include <mutex>
#include <string>

#include "broker/journal.hpp"
#include "broker/live_state.hpp"
#include "channels/siren/siren_channel.hpp"

namespace tocsin {

class SirenWatch {
 public:
  SirenWatch(Journal& journal, LiveState& live) : journal_(journal), live_(live) {}

  // From the poller's thread.
  void on_status(const channels::SirenStatus& s);

 private:
  Journal& journal_;
  LiveState& live_;
  std::mutex mutex_;
  std::map<std::string, std::string> reported_;  // controller → the fault last reported ("" none)
};

}  // namespace tocsin
