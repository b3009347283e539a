#include "broker/journal.hpp"

#include <pthread.h>
#include <chrono>
#include <memory>

#include <spdlog/spdlog.h>
#include <boost/json.hpp>

#include "broker/sqlite.hpp"

namespace tocsin {

namespace json = boost::json;

namespace {

// The writer's prepared statements, alive for the writer thread's lifetime.
struct WriterStatements {
  explicit WriterStatements(sqlite::Connection& db)
      : begin(db.prepare("BEGIN IMMEDIATE")),
        commit(db.prepare("COMMIT")),
        rollback(db.prepare("ROLLBACK")),
        find_active(db.prepare(
            "SELECT id, created_at, updates FROM incidents WHERE dedup_key = ?1 AND state = "
            "'active'")),
        insert(db.prepare(
            "INSERT INTO incidents (id, dedup_key, state, source, type, severity, urgency, "
            "certainty, headline, description, location, attributes, occurred_at, received_at, "
            "created_at, updated_at, updates, node_id) VALUES (?1, ?2, 'active', ?3, ?4, ?5, ?6, "
            "?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?14, 0, ?15)")),
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
            "WHERE id = ?1 AND dedup_key = ?2 "
            "RETURNING urgency, certainty, headline, description, location, attributes")),
        event(db.prepare(
            "INSERT INTO incident_events (incident_id, at, kind, actor, body) VALUES (?1, ?2, ?3, "
            "?4, ?5)")) {}

  sqlite::Statement begin, commit, rollback, find_active, insert, update, event;
};

// Binds the report's columns shared by INSERT and UPDATE (?1 id … ?14 now).
void bind_report(sqlite::Statement& st, const Incident& r, const std::string& location_json,
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

// The merged state an UPDATE … RETURNING gave back becomes the incident's current state.
void merge_returned(sqlite::Statement& st, Incident& r) {
  static const IncidentLimits unlimited = IncidentLimits::unlimited();
  r.urgency = parse_urgency(st.text(0)).value_or(Urgency::unknown);
  r.certainty = parse_certainty(st.text(1)).value_or(Certainty::unknown);
  r.headline = st.text(2);
  r.description = st.text(3);
  if (!st.is_null(4)) {
    auto loc = location_from_json(json::parse(st.text(4)), unlimited);
    if (loc) r.location = std::move(loc.value());
  }
  auto attrs = attributes_from_json(json::parse(st.text(5)), unlimited);
  if (attrs) r.attributes = std::move(attrs.value());
}

}  // namespace

Journal::Journal(JournalOptions options, BrokerMetrics& metrics)
    : options_(std::move(options)), metrics_(metrics) {}

Journal::~Journal() {
  stop();
}

void Journal::start(CommitObserver* observer) {
  observer_ = observer;
  writer_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "journal");
    run();
  });
}

void Journal::submit(Incident report, AcceptCallback done) {
  // Serialize here, on the caller's thread: the single writer thread is the one to spare.
  Pending p;
  if (!report.location.empty()) p.location_json = json::serialize(to_json(report.location));
  p.attributes_json = json::serialize(to_json(report.attributes));
  auto as_received = to_json(report);
  as_received.erase("id");  // not assigned yet; the event row carries it
  p.report_json = json::serialize(as_received);
  p.report = std::move(report);
  p.done = std::move(done);
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(p));
  }
  metrics_.journal_queue.fetch_add(1, std::memory_order_relaxed);
  wake_.notify_one();
}

void Journal::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (writer_.joinable()) writer_.join();
}

void Journal::run() {
  sqlite::Connection db(options_.database.string(), sqlite::Connection::Mode::read_write);
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA synchronous = " + options_.synchronous);
  db.exec("PRAGMA foreign_keys = ON");
  WriterStatements st(db);

  std::vector<Pending> batch;
  std::vector<Result<Accepted>> results;
  std::vector<IncidentRecord> committed;
  batch.reserve(options_.max_batch);

  for (;;) {
    batch.clear();
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) break;  // stopping, and everything is answered
      while (!queue_.empty() && batch.size() < options_.max_batch) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    metrics_.journal_queue.fetch_sub(long(batch.size()), std::memory_order_relaxed);

    auto started = std::chrono::steady_clock::now();
    results.clear();
    committed.clear();
    Timestamp at = now();
    bool ok = true;
    try {
      st.begin.run();
      for (auto& p : batch) {
        Incident& r = p.report;
        IncidentRecord rec;
        st.find_active.bind(1, r.dedup_key);
        if (st.find_active.step()) {
          r.id = st.find_active.text(0);
          rec.created_at = from_unix_ms(st.find_active.integer(1));
          rec.updates = st.find_active.integer(2) + 1;
          st.find_active.reset();
          bind_report(st.update, r, p.location_json, p.attributes_json, at);
          if (!st.update.step()) throw sqlite::Failure("active incident " + r.id + " vanished", 0);
          merge_returned(st.update, r);
          st.update.run();
        } else {
          st.find_active.reset();
          r.id = ids_.next();
          rec.created_at = at;
          bind_report(st.insert, r, p.location_json, p.attributes_json, at);
          st.insert.bind(15, options_.node_id);
          st.insert.run();
        }
        bool created = rec.updates == 0;
        st.event.bind(1, r.id).bind(2, to_unix_ms(at)).bind(3, created ? "created" : "updated");
        st.event.bind(4, r.source).bind(5, p.report_json);  // the report as received
        st.event.run();
        results.emplace_back(Accepted{r.id, created});
        rec.updated_at = at;
        rec.incident = std::move(r);
        committed.push_back(std::move(rec));
      }
      st.commit.run();
    } catch (const sqlite::Failure& e) {
      ok = false;
      spdlog::error("journal: a batch of {} reports could not be committed: {}", batch.size(),
                    e.what());
      try {
        st.rollback.run();
      } catch (const sqlite::Failure&) {
        // No transaction left to roll back.
      }
    }

    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    metrics_.commit_seconds.observe(seconds);
    metrics_.batch_size.observe(double(batch.size()));

    if (!ok) {
      for (auto& p : batch)
        p.done(Error{"storage_unavailable", "the journal could not store the incident; retry", ""});
      continue;
    }
    for (const auto& rec : committed)
      (rec.updates == 0 ? metrics_.created : metrics_.updated).inc();
    if (observer_) observer_->on_committed(std::move(committed));
    for (std::size_t i = 0; i < batch.size(); ++i) batch[i].done(std::move(results[i]));
  }
}

}  // namespace tocsin
