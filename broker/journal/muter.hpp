#pragma once
// What keeps playbooks off an incident that is journaled all the same: a maintenance window today
// (watch/silences), an inhibition later. The journal's writer asks it inside the reports'
// transaction, as Alertmanager's pipeline asks its Muters (inhibit/inhibit.go, silence/).

#include <optional>
#include <string>

#include "broker/storage/database.hpp"
#include "core/incident.hpp"
#include "core/time.hpp"
#include "core/zones.hpp"

namespace tocsin {

struct Mute {
  std::string id;  // the window's (or rule's) id, kept as the incident's silenced_by
  std::string reason;
};

class Muter {
 public:
  virtual ~Muter() = default;
  // A new reports' transaction at `at`, on the writer's connection: what was read for the last
  // one may be stale.
  virtual void begin(db::Connection& db, Timestamp at) = 0;
  // The mute in force for this incident, if any (`zones`: the playbook set's, for a window that
  // names a zone; may be null).
  virtual std::optional<Mute> muted(const Incident& incident, const ZoneMap* zones) = 0;
};

}  // namespace tocsin
