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

#include "broker/journal/intake.hpp"
#include "broker/journal/muter.hpp"
#include "broker/metrics/broker_metrics.hpp"
#include "broker/runs/runs.hpp"
#include "broker/runs/timers.hpp"
#include "core/incident.hpp"
#include "core/result.hpp"
#include "core/ulid.hpp"

namespace tocsin {

// Told of every committed change, in commit order, on the journal's thread. Must not block.
class CommitObserver {
 public:
  virtual ~CommitObserver() = default;
  virtual void on_committed(std::vector<IncidentRecord> records) = 0;
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

class Journal : public Intake {
 public:
  Journal(JournalOptions options, BrokerMetrics& metrics);
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // Starts the writer with a playbook set (may be null: no playbooks), and re-arms the timers of
  // open runs. The database must exist and be migrated (sqlite::migrate).
  void start(JournalListeners listeners, std::shared_ptr<const ActivePlaybooks> playbooks);
  // Intake: callbacks run on the writer thread. `write` puts another component's writes in the
  // writer's next transaction, so SQLite keeps one writer.
  void submit(Incident report, AcceptCallback done) override;
  void act(IncidentAction action, ActionCallback done) override;
  void vote(std::string approval_id, std::string by, bool approve, VoteProof proof,
            VoteCallback done) override;
  void timer_due(RunTimer timer) override;
  void compose(std::string incident_id, std::string playbook_text, std::string by,
               ComposeCallback done) override;
  void propose_correction(std::string alert_id, FollowUpNote note, std::string by,
                          ProposeCallback done) override;
  void write(std::function<void(db::Connection&)> apply, std::function<void(bool)> done) override;
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
  // A report serialized for the writer (on the caller's thread: the writer is the one to spare).
  static Report prepare(Incident report, AcceptCallback done);
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
    std::function<void(db::Connection&)> apply;
    std::function<void(bool)> done;
  };
  struct Propose {
    std::string alert_id;
    FollowUpNote note;
    std::string by;
    ProposeCallback done;
  };
  using Pending = std::variant<Action, Vote, RunTimer, Write, Compose, Propose>;

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
