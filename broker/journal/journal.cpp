#include "broker/journal/journal.hpp"

#include <pthread.h>
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <stop_token>
#include <thread>

#include <spdlog/spdlog.h>
#include <sqlite3.h>
#include <boost/json.hpp>
#include <map>
#include <optional>
#include <unordered_map>

#include "broker/storage/alerts_table.hpp"
#include "broker/storage/audit.hpp"
#include "broker/storage/incident_store.hpp"
#include "broker/storage/sqlite.hpp"
#include "core/faults.hpp"
#include "core/json_text.hpp"
#include "core/personal_data.hpp"
#include "core/token_bucket.hpp"
#include "playbooks/playbook.hpp"

namespace tocsin {

namespace json = boost::json;

namespace {

// The writer's prepared statements, alive for the writer thread's lifetime.
struct WriterStatements {
  explicit WriterStatements(db::Connection& db)
      : begin(db.prepare("BEGIN IMMEDIATE")),
        commit(db.prepare("COMMIT")),
        rollback(db.prepare("ROLLBACK")),
        find_active(db.prepare(
            "SELECT id, created_at, updates, source, type FROM incidents WHERE dedup_key = ?1 AND "
            "state = 'active'")),
        insert(db.prepare(
            "INSERT INTO incidents (id, dedup_key, state, source, type, severity, urgency, "
            "certainty, headline, description, location, attributes, occurred_at, received_at, "
            "created_at, updated_at, updates, node_id, status) VALUES (?1, ?2, 'active', ?3, ?4, "
            "?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?14, 0, ?15, ?16)")),
        // An update carries the new state; what it leaves out (no headline, unknown urgency, an
        // attribute it does not mention) keeps its earlier value.
        update(db.prepare(
            "UPDATE incidents SET source = ?3, type = ?4, severity = ?5, "
            "urgency = CASE WHEN ?6 = 'unknown' THEN urgency ELSE ?6 END, "
            "certainty = CASE WHEN ?7 = 'unknown' THEN certainty ELSE ?7 END, "
            "headline = CASE WHEN ?8 = '' THEN headline ELSE ?8 END, "
            "description = CASE WHEN ?9 = '' THEN description ELSE ?9 END, "
            "location = coalesce(?10, location), attributes = json_patch(attributes, ?11), "
            "occurred_at = ?12, received_at = ?13, updated_at = ?14, updates = updates + 1 "
            "WHERE id = ?1 AND dedup_key = ?2")),
        acknowledge(db.prepare(
            "UPDATE incidents SET acknowledged_at = ?2, acknowledged_by = ?3, updated_at = ?2 "
            "WHERE id = ?1 AND state = 'active' AND acknowledged_at IS NULL")),
        close(db.prepare(
            "UPDATE incidents SET state = ?2, updated_at = ?3 WHERE id = ?1 AND state = 'active'")),
        by_id(db.prepare(std::string(kIncidentSelect) + "WHERE id = ?1")),
        latest_of_source(db.prepare("SELECT id FROM incidents WHERE source = ?1 AND state = "
                                    "'active' ORDER BY created_at DESC LIMIT 1")),
        latest_of_type(db.prepare("SELECT id FROM incidents WHERE type = ?1 AND state = "
                                  "'active' ORDER BY created_at DESC LIMIT 1")),
        fold(db.prepare("UPDATE incidents SET severity = ?2, updated_at = ?3, updates = updates + "
                        "1, folded = folded + 1 WHERE id = ?1")),
        silence(db.prepare("UPDATE incidents SET silenced_by = ?2 WHERE id = ?1")),
        advance_cursor(db.prepare("UPDATE run_cursor SET seq = ?1 WHERE seq < ?1")),
        audit(db),
        events(db) {}

  db::Statement begin, commit, rollback, find_active, insert, update, acknowledge, close, by_id,
      latest_of_source, latest_of_type, fold, silence, advance_cursor;
  audit::Appender audit;
  IncidentEvents events;
  sqlite3* close_db = nullptr;  // for sqlite3_changes after `close`
};

// Binds the report's columns shared by INSERT and UPDATE (?1 id … ?14 now).
void bind_report(db::Statement& st, const Incident& r, const std::string& location_json,
                 const std::string& attributes_json, Timestamp at) {
  st.bind(1, r.id).bind(2, r.dedup_key).bind(3, r.source).bind(4, r.type);
  st.bind(5, to_string(r.severity)).bind(6, to_string(r.urgency)).bind(7, to_string(r.certainty));
  st.bind(8, r.headline).bind(9, r.description);
  if (location_json.empty())
    st.bind_null(10);
  else
    st.bind(10, location_json);
  st.bind(11, attributes_json);
  st.bind(12, to_unix_ms(r.occurred_at)).bind(13, to_unix_ms(r.received_at));
  st.bind(14, to_unix_ms(at));
}

// Storm control's counters: a token bucket per source and per type, refilled at the limit per
// minute. On the writer thread only.
class StormControl {
 public:
  explicit StormControl(StormLimits limits) : limits_(limits) {}

  // Which limit a new incident would go over ("source", "type"), or nullptr.
  const char* over(const Incident& i, TokenBucket::Clock::time_point t) {
    if (limits_.per_source_per_minute > 0 &&
        !bucket(sources_, i.source, limits_.per_source_per_minute, t).ready(t))
      return "source";
    if (limits_.per_type_per_minute > 0 &&
        !bucket(types_, i.type, limits_.per_type_per_minute, t).ready(t))
      return "type";
    return nullptr;
  }
  void created(const Incident& i, TokenBucket::Clock::time_point t) {
    if (auto it = sources_.find(i.source); it != sources_.end()) it->second.spend(t);
    if (auto it = types_.find(i.type); it != types_.end()) it->second.spend(t);
  }

 private:
  using Buckets = std::map<std::string, TokenBucket, std::less<>>;
  static TokenBucket& bucket(Buckets& b, const std::string& key, int per_minute,
                             TokenBucket::Clock::time_point t) {
    // Idle keys are forgotten once there are many: a full bucket is the same as none.
    if (b.size() > 100000) std::erase_if(b, [&](auto& kv) { return kv.second.full(t); });
    return b.try_emplace(key, per_minute / 60.0, double(per_minute)).first->second;
  }
  StormLimits limits_;
  Buckets sources_, types_;
};

}  // namespace

Journal::Journal(JournalOptions options, BrokerMetrics& metrics)
    : options_(std::move(options)), metrics_(metrics) {}

Journal::~Journal() {
  stop();
}

void Journal::start(JournalListeners listeners, std::shared_ptr<const ActivePlaybooks> playbooks) {
  listeners_ = listeners;
  initial_playbooks_ = std::move(playbooks);
  writer_ = std::jthread([this](std::stop_token stop) {
    pthread_setname_np(pthread_self(), "journal");
    run(stop);
  });
}

void Journal::enqueue(Pending p) {
  {
    std::lock_guard lock(mutex_);
    work_.push_back(std::move(p));
  }
  metrics_.journal_queue.fetch_add(1, std::memory_order_relaxed);
  wake_.notify_one();
}

Journal::Report Journal::prepare(Incident report, AcceptCallback done) {
  Report p;
  if (!report.location.empty()) p.location_json = json_text(to_json(report.location));
  p.attributes_json = json_text(to_json(report.attributes));
  auto as_received = to_json(report);
  as_received.erase("id");  // not assigned yet; the event row carries it
  p.report_json = json_text(as_received);
  p.report = std::move(report);
  p.done = std::move(done);
  return p;
}

void Journal::submit(Incident report, AcceptCallback done) {
  Report p = prepare(std::move(report), std::move(done));
  {
    std::lock_guard lock(mutex_);
    reports_.push_back(std::move(p));
  }
  metrics_.journal_queue.fetch_add(1, std::memory_order_relaxed);
  wake_.notify_one();
}

void Journal::act(IncidentAction action, ActionCallback done) {
  enqueue(Action{std::move(action), std::move(done)});
}

void Journal::vote(std::string approval_id, std::string by, bool approve, VoteProof proof,
                   VoteCallback done) {
  enqueue(Vote{std::move(approval_id), std::move(by), approve, proof, std::move(done)});
}

void Journal::compose(std::string incident_id, std::string playbook_text, std::string by,
                      ComposeCallback done) {
  enqueue(
      Compose{std::move(incident_id), std::move(playbook_text), std::move(by), std::move(done)});
}

void Journal::propose_correction(std::string alert_id, FollowUpNote note, std::string by,
                                 ProposeCallback done) {
  enqueue(Propose{std::move(alert_id), std::move(note), std::move(by), std::move(done)});
}

void Journal::timer_due(RunTimer timer) {
  enqueue(std::move(timer));
}

void Journal::write(std::function<void(db::Connection&)> apply, std::function<void(bool)> done) {
  enqueue(Write{std::move(apply), std::move(done)});
}

void Journal::use(std::shared_ptr<const ActivePlaybooks> playbooks) {
  {
    std::lock_guard lock(mutex_);
    next_playbooks_ = std::move(playbooks);
  }
  wake_.notify_one();
}

void Journal::stop() {
  writer_.request_stop();  // it commits whatever is left first
  if (writer_.joinable()) writer_.join();
}

namespace {

// One group of commands in one transaction: applies each, and keeps what must happen after the
// commit (replies, live-state records) apart from what a rollback undoes.
class Transaction {
 public:
  Transaction(db::Connection& db, WriterStatements& st, Runs& runs, UlidGenerator& ids,
              const std::string& node_id, StormControl& storm, Muter* muter, Timestamp at)
      : db_(db),
        st_(st),
        runs_(runs),
        ids_(ids),
        node_id_(node_id),
        storm_(storm),
        at_(at),
        muter_(muter) {}

  std::vector<std::function<void()>> replies;     // run after the commit
  std::map<std::string, IncidentRecord> changed;  // the incidents' state after the commit
  std::uint64_t created = 0, updated = 0;
  std::vector<Journal::Reported> due;  // reports whose playbooks run in a following transaction
  std::int64_t last_seq = 0;           // the last incident event written

  IncidentRecord reload(const std::string& id) {
    st_.by_id.bind(1, id);
    if (!st_.by_id.step()) {
      st_.by_id.reset();
      throw db::Failure("incident " + id + " vanished", 0);
    }
    IncidentRecord rec = read_incident_row(st_.by_id);
    st_.by_id.reset();
    return rec;
  }

  // An incident event, and its row in the audit trail when a machine made the change (a sensor's
  // report, storm control, a window, a playbook resolving it): a person's action has its own.
  std::int64_t event(const std::string& id, const char* kind, const std::string& actor,
                     const std::string& body) {
    st_.events.append(id, at_, kind, actor, body);
    last_seq = db_.last_insert_id();
    std::string_view k(kind);
    bool by_person = k == "acknowledged" || k == "composed" || k == "correction_proposed" ||
                     ((k == "resolved" || k == "cancelled") && actor != "playbook");
    if (by_person) return last_seq;
    // A report is kept whole in its event; the audit row carries its hash.
    std::string detail = k == "created" || k == "updated"
                             ? json_text(json::object{{"report_sha256", sha256_hex(body)}})
                             : body;
    st_.audit.append({at_, actor, "incident." + std::string(kind), id, detail});
    return last_seq;
  }

  // A committed report's playbooks: started, or told of the update.
  void run_playbooks(Journal::Reported& r) {
    faults::point("journal.playbooks");
    settle(runs_.reported(r.incident, r.created, at_));
  }

  // Resolves what runs asked to resolve (resolve_when), which may in turn end other runs.
  void settle(std::vector<std::string> resolve) {
    while (!resolve.empty()) {
      std::string id = std::move(resolve.back());
      resolve.pop_back();
      auto more = close(id, "resolved", "playbook");
      resolve.insert(resolve.end(), more.begin(), more.end());
    }
  }

  std::vector<std::string> close(const std::string& id, const char* state, const std::string& by,
                                 const std::string& note = "") {
    st_.close.bind(1, id).bind(2, state).bind(3, to_unix_ms(at_));
    st_.close.run();
    if (sqlite3_changes(st_.close_db) == 0) return {};
    event(id, state, by, json_text(json::object{{"note", note}}));
    auto rec = reload(id);
    changed[id] = rec;
    return runs_.incident_event(rec,
                                std::string_view(state) == "resolved"
                                    ? playbooks::Event::Kind::resolved
                                    : playbooks::Event::Kind::cancelled,
                                by, at_);
  }

  void report(Journal::Report& p);  // defined below, needs Journal's private types
  // An incident Tocsin raises in this transaction (a break-glass release's review), as a report.
  void raise(Incident incident) {
    raised_.push_back(Journal::prepare(std::move(incident), [](const Result<Accepted>&) {}));
    report(raised_.back());
  }
  void fold(Journal::Report& p, const std::string& target, const char* limit);
  void action(IncidentAction& a, ActionCallback& done);
  void vote(Journal::Vote& v);
  void timer(const RunTimer& t) { settle(runs_.timer(t.run_id, t.due, at_)); }
  void compose(Journal::Compose& c);
  void propose(Journal::Propose& p);

  // The mute in force for the incident, if any (the muter reads once per transaction).
  std::optional<Mute> muted(const Incident& i) {
    if (!muter_) return std::nullopt;
    if (!muter_begun_) muter_->begin(db_, at_);
    muter_begun_ = true;
    return muter_->muted(i, runs_.active() ? &runs_.active()->references.zones : nullptr);
  }
  std::optional<std::string> fold_target(const char* limit, const Incident& r) {
    auto& q = std::string_view(limit) == "source" ? st_.latest_of_source : st_.latest_of_type;
    q.bind(1, std::string_view(limit) == "source" ? r.source : r.type);
    std::optional<std::string> id;
    if (q.step()) id = q.text(0);
    q.reset();
    return id;
  }

  db::Connection& db_;
  WriterStatements& st_;
  Runs& runs_;
  UlidGenerator& ids_;
  const std::string& node_id_;
  StormControl& storm_;
  Timestamp at_;
  Muter* muter_;
  bool muter_begun_ = false;
  std::deque<Journal::Report> raised_;  // a deque: replies keep references to its elements
};

// WAL checkpoints on a thread of their own. Left to the writer, SQLite runs one inside the commit
// that takes the log past 1,000 pages, and every report of that commit waits for it.
class Checkpointer {
 public:
  explicit Checkpointer(std::string database)
      : database_(std::move(database)), thread_([this](std::stop_token stop) { run(stop); }) {}
  ~Checkpointer() {
    thread_.request_stop();
    wake_.notify_one();
  }

  // The writer's WAL hook, after each commit: `pages` in the log.
  static int committed(void* self, sqlite3*, const char*, int pages) {
    if (pages >= kPages) {
      auto* c = static_cast<Checkpointer*>(self);
      {
        std::lock_guard lock(c->mutex_);
        c->due_ = true;
      }
      c->wake_.notify_one();
    }
    return SQLITE_OK;
  }

 private:
  static constexpr int kPages = 1000;
  void run(std::stop_token stop) {
    pthread_setname_np(pthread_self(), "checkpoint");
    sqlite::Connection db(database_, sqlite::Connection::Mode::read_write);
    for (;;) {
      {
        std::unique_lock lock(mutex_);
        if (!wake_.wait(lock, stop, [&] { return due_; })) return;
        due_ = false;
      }
      try {
        db.exec("PRAGMA wal_checkpoint(PASSIVE)");
      } catch (const db::Failure& e) {
        spdlog::warn("journal: a WAL checkpoint failed (the next commit asks again): {}", e.what());
      }
    }
  }

  std::string database_;
  std::mutex mutex_;
  std::condition_variable_any wake_;
  bool due_ = false;
  std::jthread thread_;  // last: stopped and joined before the members it uses go
};

}  // namespace

// The writer thread's state and its two kinds of transaction: the reports' (dedup, storm
// control, windows, the audit row; acked at its commit), and the follow-on slices (each report's
// playbooks, in commit order, interleaved with everything else that was queued).
class Journal::Writer {
 public:
  explicit Writer(Journal& j)
      : j_(j),
        checkpointer_(j.options_.database.string()),
        db_(j.options_.database.string(), sqlite::Connection::Mode::read_write),
        pragmas_(configure(db_, j.options_.synchronous)),
        st_(db_),
        runs_(db_, j.ids_),
        storm_(j.options_.storm) {
    st_.close_db = db_.handle();
    sqlite3_wal_hook(db_.handle(), &Checkpointer::committed, &checkpointer_);
    runs_.use(j.initial_playbooks_);
    runs_.preview_with(j.listeners_.reach);
    recover();
    if (j_.listeners_.timers) j_.listeners_.timers->arm(runs_.pending_timers());
  }

  void loop(std::stop_token stop) {
    std::vector<Report> reports;
    reports.reserve(j_.options_.max_batch);
    for (;;) {
      reports.clear();
      {
        std::unique_lock lock(j_.mutex_);
        j_.wake_.wait(lock, stop, [&] {
          return !j_.reports_.empty() || !j_.work_.empty() || !due_.empty() || j_.next_playbooks_;
        });
        if (j_.next_playbooks_) runs_.use(std::exchange(j_.next_playbooks_, nullptr));
        bool idle = j_.reports_.empty() && j_.work_.empty() && due_.empty();
        if (idle && stop.stop_requested()) break;  // stopping, and everything is answered
        if (idle) continue;                        // woken for a new playbook set only
        while (!j_.reports_.empty() && reports.size() < j_.options_.max_batch) {
          reports.push_back(std::move(j_.reports_.front()));
          j_.reports_.pop_front();
        }
      }
      j_.metrics_.journal_queue.fetch_sub(long(reports.size()), std::memory_order_relaxed);
      if (!reports.empty()) commit_reports(reports);
      follow_on();
    }
  }

 private:
  static bool configure(db::Connection& db, const std::string& synchronous) {
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = " + synchronous);
    db.exec("PRAGMA foreign_keys = ON");
    db.exec("PRAGMA wal_autocheckpoint = 0");  // the checkpointer's thread does it
    return true;
  }

  // Reports committed before a crash whose playbooks had not run: every event past the cursor,
  // replayed against its incident as it now stands. Replayed as updates, so that a playbook that
  // had already started for the incident is not started twice.
  void recover() {
    auto q = db_.prepare(
        "SELECT seq, incident_id FROM incident_events WHERE seq > (SELECT seq FROM run_cursor) "
        "AND kind IN ('created', 'updated', 'folded') ORDER BY seq");
    while (q.step()) {
      st_.by_id.bind(1, q.text(1));
      if (st_.by_id.step()) {
        IncidentRecord rec = read_incident_row(st_.by_id);
        if (rec.state == "active" && rec.silenced_by.empty()) push_due({q.integer(0), rec, false});
      }
      st_.by_id.reset();
    }
    if (!due_.empty())
      spdlog::warn("journal: {} committed reports had not run their playbooks; running them now",
                   due_.size());
  }

  void push_due(Reported r) {
    ++due_of_[r.incident.incident.id];
    due_.push_back(std::move(r));
  }
  void unpop_due(Reported r) {
    ++due_of_[r.incident.incident.id];
    due_.push_front(std::move(r));
  }
  Reported pop_due() {
    Reported r = std::move(due_.front());
    due_.pop_front();
    if (auto it = due_of_.find(r.incident.incident.id); it != due_of_.end() && --it->second == 0)
      due_of_.erase(it);
    return r;
  }
  bool reports_waiting() {
    std::lock_guard lock(j_.mutex_);
    return !j_.reports_.empty();
  }
  std::optional<Pending> take_work() {
    std::lock_guard lock(j_.mutex_);
    if (j_.work_.empty()) return std::nullopt;
    Pending p = std::move(j_.work_.front());
    j_.work_.pop_front();
    j_.metrics_.journal_queue.fetch_sub(1, std::memory_order_relaxed);
    return p;
  }
  void rollback(const db::Failure& e, std::size_t commands) {
    // Logged once per failing spell (a full disk fails every commit until space returns).
    if (j_.metrics_.journal_failed(e.what()))
      spdlog::error(
          "journal: a transaction of {} commands could not be committed: {}; failing "
          "until a commit succeeds",
          commands, e.what());
    undo();
  }
  // The transaction rolled back, and what the runs held for it dropped.
  void undo() {
    try {
      st_.rollback.run();
    } catch (const db::Failure&) {
      // No transaction left to roll back.
    }
    runs_.discard();
  }

  void commit_reports(std::vector<Report>& reports) {
    auto started = std::chrono::steady_clock::now();
    Transaction tx(db_, st_, runs_, j_.ids_, j_.options_.node_id, storm_, j_.listeners_.muter,
                   now());
    try {
      st_.begin.run();
      for (auto& r : reports) tx.report(r);
      // Nothing waits for playbooks: the cursor may pass this batch's events.
      if (due_.empty() && tx.due.empty() && tx.last_seq > 0) {
        st_.advance_cursor.bind(1, tx.last_seq);
        st_.advance_cursor.run();
      }
      st_.commit.run();
    } catch (const db::Failure& e) {
      rollback(e, reports.size());
      for (auto& r : reports) r.done(kStorageUnavailable);
      return;
    } catch (const std::exception& e) {
      // Not the database: a bug's exception on one report of the batch, or memory. The batch is
      // refused (none of it acknowledged, each sender told to retry), and the journal goes on.
      internal(e, reports.size());
      for (auto& r : reports) r.done(kInternal);
      return;
    }
    observe(started, reports.size());
    committed();
    j_.metrics_.created.inc(tx.created);
    j_.metrics_.updated.inc(tx.updated);
    for (auto& d : tx.due) push_due(std::move(d));
    j_.metrics_.runs_pending.store(long(due_.size()), std::memory_order_relaxed);
    after_commit(tx);
  }

  // One slice: the oldest reports' playbooks and the queued commands, in turn, until the slice
  // is spent while reports wait (or kMaxSlice, or nothing is left).
  void follow_on() {
    constexpr auto kMaxSlice = std::chrono::milliseconds(50);
    if (due_.empty() && !has_work()) return;
    auto started = std::chrono::steady_clock::now();
    const std::chrono::steady_clock::duration slice = j_.options_.follow_on_slice;
    // After an unexpected exception, one item a slice until the suspects are through.
    const bool isolating = isolate_ > 0;
    if (isolating) --isolate_;
    Transaction tx(db_, st_, runs_, j_.ids_, j_.options_.node_id, storm_, j_.listeners_.muter,
                   now());
    std::vector<Reported> ran;
    std::deque<Pending> done;  // a deque: replies keep references to its elements
    std::int64_t cursor = 0;
    auto run_one = [&] {
      // Kept in `ran` before it runs: a run that fails goes back with the others.
      ran.push_back(pop_due());
      tx.run_playbooks(ran.back());
      cursor = ran.back().seq;
    };
    try {
      st_.begin.run();
      for (;;) {
        auto spent = std::chrono::steady_clock::now() - started;
        if (spent >= kMaxSlice || (spent >= slice && reports_waiting())) break;
        bool any = false;
        if (!due_.empty()) {
          run_one();
          any = true;
        }
        if (isolating && any) break;
        if (auto p = take_work()) {
          // A command on an incident (or its run) comes after the reports before it.
          if (auto id = waiting_incident(*p))
            while (due_of_.count(*id)) run_one();
          done.push_back(std::move(*p));
          apply(tx, done.back());
          any = true;
        }
        if (!any || isolating) break;
      }
      if (cursor > 0) {
        st_.advance_cursor.bind(1, cursor);
        st_.advance_cursor.run();
      }
      st_.commit.run();
    } catch (const db::Failure& e) {
      rollback(e, ran.size() + done.size());
      // The reports' playbooks are tried again in the next slice (and are still past the cursor).
      for (auto it = ran.rbegin(); it != ran.rend(); ++it) unpop_due(std::move(*it));
      fail(done, kStorageUnavailable);
      return;
    } catch (const std::exception& e) {
      // Not the database: a bug's exception (or memory) on one of the slice's items. The
      // reports go back, to be run one a slice; the commands are answered (each caller
      // retries). A report's playbook run that fails alone kRunTries times is skipped, loudly,
      // so that it cannot hold every report after it.
      internal(e, ran.size() + done.size());
      if (ran.size() == 1 && done.empty() && ++run_failures_[ran.front().seq] >= kRunTries) {
        const auto& r = ran.front();
        run_failures_.erase(r.seq);
        spdlog::error("incident {}: its playbooks failed {} times for event {} and are skipped: {}",
                      r.incident.incident.id, kRunTries, r.seq, without_personal_data(e.what()));
      } else {
        for (auto it = ran.rbegin(); it != ran.rend(); ++it) unpop_due(std::move(*it));
        isolate_ = ran.size();
      }
      fail(done, kInternal);
      return;
    }
    observe(started, ran.size() + done.size());
    committed();
    if (!run_failures_.empty())
      for (const auto& r : ran) run_failures_.erase(r.seq);
    j_.metrics_.created.inc(tx.created);  // incidents Tocsin raised in it (reviews)
    for (auto& d : tx.due) push_due(std::move(d));
    j_.metrics_.runs_pending.store(long(due_.size()), std::memory_order_relaxed);
    after_commit(tx);
  }

  bool has_work() {
    std::lock_guard lock(j_.mutex_);
    return !j_.work_.empty();
  }
  // The incident a command acts on (a person's action, a composed alert, a run's timer or
  // approval), when reports of it still wait for their playbooks; else nullopt.
  std::optional<std::string> waiting_incident(const Pending& p) {
    if (due_of_.empty()) return std::nullopt;
    std::optional<std::string> id;
    auto one = [&](db::Statement& q, const std::string& key) {
      q.bind(1, key);
      if (q.step()) id = q.text(0);
      q.reset();
    };
    if (auto* a = std::get_if<Action>(&p)) id = a->action.incident_id;
    if (auto* c = std::get_if<Compose>(&p)) id = c->incident_id;
    if (auto* t = std::get_if<RunTimer>(&p)) one(run_incident_, t->run_id);
    if (auto* v = std::get_if<Vote>(&p)) one(approval_incident_, v->approval_id);
    if (id && due_of_.count(*id)) return id;
    return std::nullopt;
  }

  void apply(Transaction& tx, Pending& p) {
    std::visit(
        [&](auto& cmd) {
          using T = std::decay_t<decltype(cmd)>;
          if constexpr (std::is_same_v<T, Action>)
            tx.action(cmd.action, cmd.done);
          else if constexpr (std::is_same_v<T, Vote>)
            tx.vote(cmd);
          else if constexpr (std::is_same_v<T, RunTimer>)
            tx.timer(cmd);
          else if constexpr (std::is_same_v<T, Compose>)
            tx.compose(cmd);
          else if constexpr (std::is_same_v<T, Propose>)
            tx.propose(cmd);
          else {
            static_assert(std::is_same_v<T, Write>);
            cmd.apply(db_);
            if (cmd.done) tx.replies.push_back([&cmd] { cmd.done(true); });
          }
        },
        p);
  }

  inline static const Error kStorageUnavailable{"storage_unavailable",
                                                "the journal could not store this; retry", ""};
  inline static const Error kInternal{
      "internal", "the journal failed on this (it is logged); retry, and report it if it persists",
      ""};

  void internal(const std::exception& e, std::size_t commands) {
    j_.metrics_.internal_errors.inc();
    spdlog::error("journal: a transaction of {} commands failed and was rolled back: {}", commands,
                  without_personal_data(e.what()));
    undo();
  }

  void fail(std::deque<Pending>& done, const Error& e) {
    for (auto& p : done) {
      if (auto* a = std::get_if<Action>(&p)) a->done(e);
      if (auto* v = std::get_if<Vote>(&p)) v->done(e);
      if (auto* c = std::get_if<Compose>(&p)) c->done(e);
      if (auto* c = std::get_if<Propose>(&p)) c->done(e);
      if (auto* w = std::get_if<Write>(&p); w && w->done) w->done(false);
      // A timer that fell with the transaction is not lost: its run's due time is still in
      // SQLite, and it is armed again.
      if (auto* t = std::get_if<RunTimer>(&p); t && j_.listeners_.timers)
        j_.listeners_.timers->arm({RunTimer{t->run_id, now() + std::chrono::seconds(1)}});
    }
  }

  void committed() {
    if (j_.metrics_.journal_committed()) spdlog::warn("journal: committing again");
  }

  void observe(std::chrono::steady_clock::time_point started, std::size_t commands) {
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    j_.metrics_.commit_seconds.observe(seconds);
    j_.metrics_.batch_size.observe(double(commands));
  }

  // What follows a commit: the listeners told, the callers answered. It is committed: a
  // listener's exception is logged and the rest still run.
  void after_commit(Transaction& tx) {
    const auto& l = j_.listeners_;
    auto guarded = [](const char* what, auto&& f) {
      try {
        f();
      } catch (const std::exception& e) {
        spdlog::error("journal: after a commit, {} failed: {}", what,
                      without_personal_data(e.what()));
      }
    };
    if (l.incidents && !tx.changed.empty()) {
      std::vector<IncidentRecord> records;
      records.reserve(tx.changed.size());
      for (auto& [id, rec] : tx.changed) records.push_back(std::move(rec));
      guarded("the live state", [&] { l.incidents->on_committed(std::move(records)); });
    }
    if (auto timers = runs_.take_timers(); l.timers && !timers.empty())
      guarded("arming timers", [&] { l.timers->arm(std::move(timers)); });
    if (auto alerts = runs_.take_alerts(); l.alerts && !alerts.empty())
      guarded("the dispatcher", [&] { l.alerts->on_alerts(alerts); });
    for (auto& reply : tx.replies) guarded("an answer", reply);
  }

  Journal& j_;
  Checkpointer checkpointer_;  // before db_: its WAL hook points here
  sqlite::Connection db_;
  bool pragmas_;  // set on db_ before st_ prepares against it
  WriterStatements st_;
  Runs runs_;
  StormControl storm_;
  db::Statement run_incident_{db_.prepare("SELECT incident_id FROM playbook_runs WHERE id = ?1")};
  db::Statement approval_incident_{
      db_.prepare("SELECT r.incident_id FROM approvals a JOIN playbook_runs r ON r.id = a.run_id "
                  "WHERE a.id = ?1")};
  static constexpr int kRunTries = 3;
  std::size_t isolate_ = 0;                             // slices to run one item each
  std::unordered_map<std::int64_t, int> run_failures_;  // event seq: its lone runs that threw
  std::deque<Reported> due_;                            // committed, playbooks not yet run
  std::unordered_map<std::string, int> due_of_;         // how many of due_ each incident has
};

void Journal::run(std::stop_token stop) {
  Writer writer(*this);
  writer.loop(stop);
}

namespace {

void Transaction::report(Journal::Report& p) {
  faults::point("journal.report");
  Incident& r = p.report;
  IncidentRecord rec;
  st_.find_active.bind(1, r.dedup_key);
  bool found = st_.find_active.step();
  std::string owner, kind;
  if (found) {
    r.id = st_.find_active.text(0);
    rec.created_at = from_unix_ms(st_.find_active.integer(1));
    rec.updates = st_.find_active.integer(2) + 1;
    owner = st_.find_active.text(3);
    kind = st_.find_active.text(4);
  }
  st_.find_active.reset();
  // A report updates only its own source's incident of the same type: another source (or a
  // report of another kind) cannot take an incident over through its dedup_key, change what it
  // is, or end its run with a resolve_when. Nothing is written.
  if (found && (owner != r.source || kind != r.type)) {
    Error refused{"conflict",
                  "dedup_key: the active incident " + r.id + " with this key is " +
                      (owner != r.source ? "another source's" : "a " + kind + " incident") +
                      "; a report updates only its own source's incident of the same type",
                  "dedup_key"};
    replies.push_back([&p, refused] { p.done(refused); });
    return;
  }
  if (!found) {
    auto steady = std::chrono::steady_clock::now();
    if (const char* limit = storm_.over(r, steady)) {
      if (auto target = fold_target(limit, r)) return fold(p, *target, limit);
    }
    storm_.created(r, steady);
  }
  if (found) {
    bind_report(st_.update, r, p.location_json, p.attributes_json, at_);
    st_.update.run();
  } else {
    r.id = ids_.next();
    rec.created_at = at_;
    bind_report(st_.insert, r, p.location_json, p.attributes_json, at_);
    st_.insert.bind(15, node_id_).bind(16, to_string(r.status));
    st_.insert.run();
  }
  bool created = !found;
  std::int64_t seq = event(r.id, created ? "created" : "updated", r.source, p.report_json);
  ++(created ? this->created : updated);
  std::string id = r.id;
  if (created) {
    rec.updated_at = at_;
    rec.incident = std::move(r);
  } else {
    rec = reload(id);  // merged with what the incident had (fields left out, acknowledgement)
  }
  // A mute (a maintenance window) keeps playbooks off the incidents it matches, journaled all
  // the same; one that outlives its window runs its playbooks at its first update after it.
  auto window = muted(rec.incident);
  if (window && rec.silenced_by.empty()) {
    st_.silence.bind(1, id).bind(2, window->id);
    st_.silence.run();
    rec.silenced_by = window->id;
    event(id, "silenced", "journal",
          json_text(json::object{{"window", window->id}, {"reason", window->reason}}));
  } else if (!window && !rec.silenced_by.empty()) {
    st_.silence.bind(1, id).bind_null(2);
    st_.silence.run();
    event(id, "unsilenced", "journal", json_text(json::object{{"window", rec.silenced_by}}));
    rec.silenced_by.clear();
  }
  // Its playbooks run after this commit (an update may move a run under way; a new incident
  // that no playbook matches has none to run).
  if (rec.silenced_by.empty() &&
      (!created || (runs_.active() && !runs_.active()->matcher.match(rec.incident).empty())))
    due.push_back(Journal::Reported{seq, rec, created});
  std::string silenced_by = rec.silenced_by;
  changed[id] = std::move(rec);
  replies.push_back([&p, id, created, silenced_by] {
    p.done(Accepted{id, created, false, silenced_by});
  });
}

// Storm control: the report is kept (its event) and counted on a recent incident of the same
// source or type; the incident's severity only ever rises by it.
void Transaction::fold(Journal::Report& p, const std::string& target, const char* limit) {
  IncidentRecord rec = reload(target);
  Severity severity = std::max(rec.incident.severity, p.report.severity);
  st_.fold.bind(1, target).bind(2, to_string(severity)).bind(3, to_unix_ms(at_));
  st_.fold.run();
  auto body = json::parse(p.report_json).as_object();
  body["folded_by"] = std::string("storm control (per ") + limit + ")";
  std::int64_t seq = event(target, "folded", p.report.source, json_text(body));
  ++updated;
  bool rose = severity > rec.incident.severity;
  rec = reload(target);
  if (rose && rec.silenced_by.empty()) due.push_back(Journal::Reported{seq, rec, false});
  changed[target] = rec;
  replies.push_back([&p, target, silenced_by = rec.silenced_by] {
    p.done(Accepted{target, false, true, silenced_by});
  });
}

void Transaction::action(IncidentAction& a, ActionCallback& done) {
  auto fail = [&](Error e) { replies.push_back([&done, e] { done(e); }); };
  if (a.incident_id.empty() && !a.dedup_key.empty()) {
    st_.find_active.bind(1, a.dedup_key);
    if (st_.find_active.step()) a.incident_id = st_.find_active.text(0);
    st_.find_active.reset();
    if (a.incident_id.empty())
      return fail(
          Error{"not_found", "dedup_key: no active incident has " + a.dedup_key, "dedup_key"});
  }
  st_.by_id.bind(1, a.incident_id);
  bool found = st_.by_id.step();
  std::optional<IncidentRecord> rec;
  if (found) rec = read_incident_row(st_.by_id);
  st_.by_id.reset();
  if (!rec) return fail(Error{"not_found", "id: no incident " + a.incident_id, "id"});
  if (rec->state != "active")
    return fail(Error{"conflict", "incident " + a.incident_id + " is already " + rec->state, "id"});
  if (!a.only_sources.empty() &&
      std::none_of(a.only_sources.begin(), a.only_sources.end(), [&](const std::string& g) {
        return playbooks::glob_match(g, rec->incident.source);
      }))
    return fail(Error{"forbidden",
                      "incident: " + a.incident_id + " is " + rec->incident.source + "'s; " +
                          a.via + " acts only on its own sources' incidents",
                      "incident"});
  std::string state;
  if (a.kind == "ack") {
    state = "acknowledged";
    if (!rec->acknowledged_at) {
      st_.acknowledge.bind(1, a.incident_id).bind(2, to_unix_ms(at_)).bind(3, a.by);
      st_.acknowledge.run();
      event(a.incident_id, "acknowledged", a.by, json_text(json::object{{"note", a.note}}));
      auto now_rec = reload(a.incident_id);
      changed[a.incident_id] = now_rec;
      settle(runs_.incident_event(now_rec, playbooks::Event::Kind::acknowledged, a.by, at_));
    }
  } else if (a.kind == "escalate") {
    // Not a state of the incident: its runs stop waiting (a wait step ends now).
    state = "escalated";
    event(a.incident_id, "escalated", a.by, json_text(json::object{{"note", a.note}}));
    settle(runs_.incident_event(*rec, playbooks::Event::Kind::escalate, a.by, at_));
  } else {
    state = a.kind == "resolve" ? "resolved" : "cancelled";
    settle(close(a.incident_id, state.c_str(), a.by, a.note));
  }
  json::object detail{{"note", a.note}, {"state", state}};
  audit::name_for(detail, a.by, a.via);
  audit::append(db_, {at_, audit::actor(a.by, a.via), "incident." + a.kind, a.incident_id,
                      json_text(detail)});
  replies.push_back([&done, id = a.incident_id, state] { done(ActionDone{id, state}); });
}

void Transaction::vote(Journal::Vote& v) {
  std::vector<std::string> resolve;
  auto result = runs_.vote(v.approval_id, v.by, v.approve, v.proof, at_, resolve);
  settle(std::move(resolve));
  if (result) {
    json::object detail{{"status", result.value()},
                        {"typed_live", v.proof.typed_live},
                        {"signed_in", v.proof.signed_in}};
    if (!v.proof.reason.empty()) detail["note"] = v.proof.reason;
    audit::name_for(detail, v.by, v.proof.via);
    audit::append(db_, {at_, audit::actor(v.by, v.proof.via),
                        v.approve ? "approval.approve" : "approval.reject", v.approval_id,
                        json_text(detail)});
  }
  // One person released a public alert alone: the city reviews it (an incident of its own,
  // committed with the release, so neither is ever without the other).
  for (auto& r : runs_.take_reviews()) {
    const std::string about =
        "incident " + r.incident_id + ", " + r.playbook_id + " step " + std::to_string(r.step);
    raise(raised_by_tocsin("tocsin/approvals", "tocsin.break_glass_review", r.approval_id,
                           "Break-glass release by " + r.by + " to review (" + about + ")",
                           "Released by " + r.by + " alone, on break glass: " + r.reason,
                           Attributes{{"approval", r.approval_id},
                                      {"run", r.run_id},
                                      {"incident", r.incident_id},
                                      {"playbook", r.playbook_id},
                                      {"released_by", r.by},
                                      {"reason", r.reason}}));
    audit::append(db_,
                  {at_, v.by, "approval.break_glass", r.approval_id,
                   json_text(json::object{{"reason", r.reason}, {"incident", r.incident_id}})});
  }
  replies.push_back([&v, result] { v.done(result); });
}

void Transaction::compose(Journal::Compose& c) {
  std::vector<std::string> resolve;
  auto result = runs_.compose(c.playbook_text, c.incident_id, c.by, at_, resolve);
  settle(std::move(resolve));
  if (result) {
    json::object body{{"run", result->run_id}, {"playbook", c.playbook_text}};
    event(c.incident_id, "composed", c.by, json_text(body));
    audit::append(db_, {at_, c.by, "alert.compose", c.incident_id, json_text(body)});
    changed[c.incident_id] = reload(c.incident_id);  // consoles see its new run
  }
  replies.push_back([&c, result] { c.done(result); });
}

}  // namespace

void Transaction::propose(Journal::Propose& p) {
  auto proposed = runs_.propose_correction(p.alert_id, p.note, p.by, at_);
  Result<std::string> result =
      proposed ? Result<std::string>(proposed->approval_id) : Result<std::string>(proposed.error());
  if (proposed) {
    // On the incident's history too, and the consoles see it (the approval to give).
    const std::string& incident = proposed->incident_id;
    event(incident, "correction_proposed", p.by,
          json_text(json::object{{"alert", p.alert_id}, {"approval", proposed->approval_id}}));
    changed[incident] = reload(incident);
  }
  replies.push_back([&p, result] { p.done(result); });
}

}  // namespace tocsin
