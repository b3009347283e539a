#pragma once
// The one entrance of the system of record: every write the server makes goes through an Intake,
// in order and durably, and each caller is answered once its change committed (or failed). The
// journal (journal.hpp: SQLite, one writer thread) implements it; ingest, the API, the watches,
// the timers and the delivery ledger know only this interface, so a second backend (PostgreSQL)
// replaces the journal without touching them.

#include <functional>
#include <string>
#include <vector>

#include "broker/runs/runs.hpp"
#include "broker/storage/database.hpp"
#include "core/incident.hpp"
#include "core/result.hpp"

namespace tocsin {

struct Accepted {
  std::string incident_id;
  bool created = false;     // false: folded into the active incident with the same dedup_key
  bool folded = false;      // storm control: over a rate limit, folded into a recent incident
  std::string silenced_by;  // created in a maintenance window: no playbook runs for it
};

using AcceptCallback = std::function<void(Result<Accepted>)>;

// A person's (or a system's) action on an incident.
struct IncidentAction {
  std::string incident_id;
  std::string kind;  // ack | resolve | cancel | escalate
  std::string by;
  std::string note;
  std::string via = {};  // the machine that acted for `by` ("token:NAME", "sensor:NAME"), if any
  // A sensor acts only on its own incidents: those of the sources (globs) it may report as.
  // Empty: any incident (a person, or a machine not limited to sources).
  std::vector<std::string> only_sources = {};
  // With no incident_id: the active incident of this dedup key (a monitoring tool's alert
  // resolved, named by its fingerprint). Looked up in the journal's own transaction, so it sees
  // every report submitted before it.
  std::string dedup_key = {};
};
struct ActionDone {
  std::string incident_id;
  std::string state;  // acknowledged | resolved | cancelled
};
using ActionCallback = std::function<void(Result<ActionDone>)>;
// The approval's status after the vote: pending, approved or rejected.
using VoteCallback = std::function<void(Result<std::string>)>;
using ComposeCallback = std::function<void(Result<Runs::Composed>)>;
// The id of the approval a proposed correction waits on.
using ProposeCallback = std::function<void(Result<std::string>)>;

class Intake {
 public:
  virtual ~Intake() = default;
  // All thread-safe; callbacks run once the change is durable (or failed).
  virtual void submit(Incident report, AcceptCallback done) = 0;
  virtual void act(IncidentAction action, ActionCallback done) = 0;
  // `proof`: the word typed, a person signed in (both needed to approve a live public alert).
  virtual void vote(std::string approval_id, std::string by, bool approve, VoteProof proof,
                    VoteCallback done) = 0;
  virtual void timer_due(RunTimer timer) = 0;
  // Starts a composed alert's one-off playbook (Runs::compose) for the incident; audited.
  virtual void compose(std::string incident_id, std::string playbook_text, std::string by,
                       ComposeCallback done) = 0;
  // A correction of a public alert, proposed for a second person's approval
  // (Runs::propose_correction); audited.
  virtual void propose_correction(std::string alert_id, FollowUpNote note, std::string by,
                                  ProposeCallback done) = 0;
  // Another component's writes (the delivery ledger's, accounts', silences') in the next
  // transaction: `apply` runs inside it (it may throw db::Failure); `done(committed)` runs after
  // the commit or the rollback.
  virtual void write(std::function<void(db::Connection&)> apply,
                     std::function<void(bool)> done) = 0;
};

}  // namespace tocsin
