#pragma once
// The journal: SQLite, one writer thread, group commit. A report is acknowledged (its callback
// runs) only after the transaction holding it committed, and waits for nothing else: the writer
// serves reports first, in transactions of their own, and does what follows from them (playbook
// runs, alerts, delivery rows, staff actions, timers) in the transactions between, each a bounded
// slice. Which committed reports still await their runs is kept durably (a cursor over
// incident_events), so a crash between a report's ack and its run loses neither.

#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "broker/journal/muter.hpp"
#include "broker/metrics/broker_metrics.hpp"
#include "broker/runs/runs.hpp"
#include "core/incident.hpp"
#include "core/result.hpp"
#include "core/ulid.hpp"

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
  std::string kind;  // ack | resolve | cancel
  std::string by;
  std::string note;
  std::string via = {};  // the machine that acted for `by` ("token:NAME"), if any
};
struct ActionDone {
  std::string incident_id;
  std::string state;  // acknowledged | resolved | cancelled
};
using ActionCallback = std::function<void(Result<ActionDone>)>;
// The approval's status after the vote: pending, approved or rejected.
using VoteCallback = std::function<void(Result<std::string>)>;
using ComposeCallback = std::function<void(Result<Runs::Composed>)>;

// Told of every committed change, in commit order, on the journal's thread. Must not block.
class CommitObserver {
 public:
  virtual ~CommitObserver() = default;
  virtual void on_committed(std::vector<IncidentRecord> records) = 0;
};

// Arms run timers; each fires back through Journal::timer_due.
class TimerArm {
 public:
  virtual ~TimerArm() = default;
  virtual void arm(std::vector<RunTimer> timers) = 0;
};

struct JournalListeners {
  CommitObserver* incidents = nullptr;  // live state
  TimerArm* timers = nullptr;
  ActionSink* alerts = nullptr;
  ReachPreview reach;      // the dispatcher's: what an approval's public steps would reach
  Muter* muter = nullptr;  // maintenance windows: incidents it mutes run no playbook
};

// Storm control: past these rates (new incidents per minute, 0: no limit), a report that would
// open a new incident is folded into the most recent active incident of the same source (or
// type) instead, as a counted update.
struct StormLimits {
  int per_source_per_minute = 0;
  int per_type_per_minute = 0;
};

struct JournalOptions {
  std::filesystem::path database;
  std::string node_id;
  std::size_t max_batch = 4096;
  std::string synchronous = "full";
  StormLimits storm;
  // How long a follow-on transaction (runs, deliveries, actions) may hold the writer while
  // reports wait; with none waiting it goes on, up to 50 ms. Reports come first: in a storm the
  // runs fall behind (tocsin_runs_pending) rather than the acknowledgements.
  std::chrono::microseconds follow_on_slice{1000};
};

class Journal {
 public:
  Journal(JournalOptions options, BrokerMetrics& metrics);
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // Starts the writer with a playbook set (may be null: no playbooks), and re-arms the timers of
  // open runs. The database must exist and be migrated (sqlite::migrate).
  void start(JournalListeners listeners, std::shared_ptr<const ActivePlaybooks> playbooks);
  // All thread-safe; callbacks run on the writer thread once the change is durable (or failed).
  void submit(Incident report, AcceptCallback done);
  void act(IncidentAction action, ActionCallback done);
  // `proof`: the word typed, a person signed in (both needed to approve a live public alert).
  void vote(std::string approval_id, std::string by, bool approve, VoteProof proof,
            VoteCallback done);
  void timer_due(RunTimer timer);
  // Starts a composed alert's one-off playbook (Runs::compose) for the incident; audited.
  void compose(std::string incident_id, std::string playbook_text, std::string by,
               ComposeCallback done);
  // Another component's writes (the delivery ledger's) in the journal's next transaction, so
  // SQLite keeps one writer: `apply` runs on the writer thread inside the transaction (it may
  // throw sqlite::Failure); `done(committed)` runs after the commit or the rollback.
  void write(std::function<void(sqlite::Connection&)> apply, std::function<void(bool)> done);
  // Runs started from now on use this set; runs in progress keep the version they started with.
  void use(std::shared_ptr<const ActivePlaybooks> playbooks);
  // Commits and answers everything submitted so far, then stops the writer.
  void stop();

 public:
  // Commands queued for the writer thread (internal: build them with the calls above).
  struct Report {
    Incident report;
    std::string location_json;  // empty: no location
    std::string attributes_json;
    std::string report_json;  // kept in the event
    AcceptCallback done;
  };
  struct Action {
    IncidentAction action;
    ActionCallback done;
  };
  struct Vote {
    std::string approval_id, by;
    bool approve;
    VoteProof proof;
    VoteCallback done;
  };
  struct Compose {
    std::string incident_id, playbook_text, by;
    ComposeCallback done;
  };
  struct Write {
    std::function<void(sqlite::Connection&)> apply;
    std::function<void(bool)> done;
  };
  using Pending = std::variant<Action, Vote, RunTimer, Write, Compose>;

  // A committed report whose playbooks have not run yet: the incident as that report left it,
  // and its event's place in incident_events (the durable cursor's unit).
  struct Reported {
    std::int64_t seq = 0;
    IncidentRecord incident;
    bool created = false;
  };

 private:
  class Writer;  // the writer thread's state (journal.cpp)
  void enqueue(Pending p);
  void run(std::stop_token stop);

  JournalOptions options_;
  BrokerMetrics& metrics_;
  JournalListeners listeners_;
  std::shared_ptr<const ActivePlaybooks> initial_playbooks_;
  UlidGenerator ids_;
  std::mutex mutex_;
  std::condition_variable_any wake_;
  std::deque<Report> reports_;  // served first
  std::deque<Pending> work_;    // the rest, in the slices between report transactions
  // A reloaded playbook set, taken by the writer before the next reports: a report sent after a
  // reload is matched against the new set.
  std::shared_ptr<const ActivePlaybooks> next_playbooks_;
  std::jthread writer_;
};

}  // namespace tocsin
