#include <catch2/catch.hpp>

#include <atomic>
#include <future>
#include <mutex>

#include "broker/journal/journal.hpp"
#include "broker/storage/sqlite.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/tocsin_server.hpp"
#include "tests/support/wait.hpp"

using namespace tocsin;
using namespace std::chrono_literals;
using tocsin::test::query_integer;
using tocsin::test::TempDir;

namespace {

Incident report(const std::string& dedup_key, Severity severity = Severity::minor) {
  auto r = parse_incident(R"({"source":"gauge-1","type":"flood.water_level","severity":"minor"})",
                          IncidentLimits{});
  REQUIRE(r.ok());
  r->dedup_key = dedup_key;
  r->severity = severity;
  return r.value();
}

struct Recorder : CommitObserver {
  std::mutex mutex;
  std::vector<IncidentRecord> records;
  void on_committed(std::vector<IncidentRecord> batch) override {
    std::lock_guard lock(mutex);
    for (auto& r : batch) records.push_back(std::move(r));
  }
};

struct JournalFixture {
  TempDir dir;
  std::string db = (dir.path() / "tocsin.db").string();
  BrokerMetrics metrics;
  Recorder recorder;
  Journal journal{JournalOptions{db, "n1", 4096, "full", {}}, metrics};
  JournalFixture() {
    sqlite::Connection c(db, sqlite::Connection::Mode::read_write);
    sqlite::migrate(c);
    journal.start(JournalListeners{&recorder, nullptr, nullptr, {}}, nullptr);
  }
  Accepted submit_and_wait(Incident inc) {
    std::promise<Result<Accepted>> done;
    journal.submit(std::move(inc), [&](Result<Accepted> r) { done.set_value(std::move(r)); });
    auto r = done.get_future().get();
    REQUIRE(r.ok());
    return r.value();
  }
};

}  // namespace

TEST_CASE("the schema is migrated once, by user_version") {
  TempDir dir;
  std::string db = (dir.path() / "t.db").string();
  sqlite::Connection c(db, sqlite::Connection::Mode::read_write);
  sqlite::migrate(c);
  CHECK(sqlite::schema_version(c) == 14);
  sqlite::migrate(c);  // a second start changes nothing
  CHECK(sqlite::schema_version(c) == 14);
  CHECK(query_integer(db, "PRAGMA journal_mode") == 0);  // a text result; checked below
  auto mode = tocsin::test::query_strings(db, "PRAGMA journal_mode");
  CHECK(mode == std::set<std::string>{"wal"});
}

TEST_CASE("an incident is acknowledged only once its transaction committed") {
  JournalFixture f;
  std::atomic<long long> visible_at_ack{-1};
  std::promise<void> done;
  f.journal.submit(report("k1"), [&](Result<Accepted> r) {
    // Another connection sees the row: the commit happened before this callback.
    visible_at_ack = r.ok() ? query_integer(f.db, "SELECT count(*) FROM incidents WHERE id = '" +
                                                      r->incident_id + "'")
                            : -2;
    done.set_value();
  });
  done.get_future().wait();
  CHECK(visible_at_ack == 1);
}

TEST_CASE("many reports share one commit (group commit)") {
  JournalFixture f;
  constexpr int n = 5000;
  std::atomic<int> answered{0};
  for (int i = 0; i < n; ++i)
    f.journal.submit(report("key-" + std::to_string(i)), [&](Result<Accepted> r) {
      if (r.ok()) ++answered;
    });
  REQUIRE(tocsin::test::wait_until([&] { return answered == n; }, 30s));
  CHECK(query_integer(f.db, "SELECT count(*) FROM incidents") == n);
  CHECK(f.metrics.batch_size.count() < std::uint64_t(n));  // fewer commits than incidents
  CHECK(f.metrics.created.value() == n);
}

TEST_CASE("a report with the dedup_key of an active incident updates it") {
  JournalFixture f;
  auto first = f.submit_and_wait(report("gauge-1|flood|riverside"));
  auto second = f.submit_and_wait(report("gauge-1|flood|riverside", Severity::severe));
  auto other = f.submit_and_wait(report("gauge-2|flood|riverside"));
  CHECK(first.created);
  CHECK_FALSE(second.created);
  CHECK(second.incident_id == first.incident_id);
  CHECK(other.created);
  CHECK(other.incident_id != first.incident_id);
  std::string id = first.incident_id;
  CHECK(query_integer(
            f.db, "SELECT count(*) FROM incident_events WHERE incident_id = '" + id + "'") == 2);
  CHECK(query_integer(f.db, "SELECT updates FROM incidents WHERE id = '" + id + "'") == 1);
  CHECK(tocsin::test::query_strings(f.db, "SELECT severity FROM incidents WHERE id = '" + id +
                                              "'") == std::set<std::string>{"severe"});
  // The live-state observer saw every change in commit order.
  std::lock_guard lock(f.recorder.mutex);
  REQUIRE(f.recorder.records.size() == 3);
  CHECK(f.recorder.records[1].incident.severity == Severity::severe);
  CHECK(f.recorder.records[1].updates == 1);
}

TEST_CASE("stop answers everything submitted before it") {
  JournalFixture f;
  std::atomic<int> answered{0};
  for (int i = 0; i < 2000; ++i)
    f.journal.submit(report("s-" + std::to_string(i)), [&](Result<Accepted> r) {
      if (r.ok()) ++answered;
    });
  f.journal.stop();
  CHECK(answered == 2000);
  CHECK(query_integer(f.db, "SELECT count(*) FROM incidents") == 2000);
}

TEST_CASE("an update keeps what it leaves out and merges attributes") {
  JournalFixture f;
  auto first = parse_incident(R"({"source":"g","type":"flood.level","severity":"moderate",
      "urgency":"expected","headline":"Crue","location":{"zone":"riverside"},
      "attributes":{"level_m":3.9,"station":"RDP"}})",
                              IncidentLimits{});
  auto second = parse_incident(R"({"source":"g","type":"flood.level","severity":"severe",
      "location":{"zone":"riverside"},"attributes":{"level_m":4.4}})",
                               IncidentLimits{});
  REQUIRE(first.ok());
  REQUIRE(second.ok());
  auto a = f.submit_and_wait(first.value());
  auto b = f.submit_and_wait(second.value());
  REQUIRE(b.incident_id == a.incident_id);
  std::string where = " FROM incidents WHERE id = '" + a.incident_id + "'";
  CHECK(tocsin::test::query_strings(f.db, "SELECT headline" + where) ==
        std::set<std::string>{"Crue"});
  CHECK(tocsin::test::query_strings(f.db, "SELECT urgency" + where) ==
        std::set<std::string>{"expected"});
  CHECK(tocsin::test::query_strings(f.db,
                                    "SELECT json_extract(attributes, '$.level_m') || ' ' || "
                                    "json_extract(attributes, '$.station')" +
                                        where) == std::set<std::string>{"4.4 RDP"});
  // The projection gets the merged state; the event keeps the report as it came.
  std::lock_guard lock(f.recorder.mutex);
  const auto& merged = f.recorder.records.back().incident;
  CHECK(merged.headline == "Crue");
  CHECK(std::get<std::string>(merged.attributes.at("station")) == "RDP");
  CHECK(
      tocsin::test::query_strings(
          f.db,
          "SELECT json_extract(body, '$.headline') FROM incident_events WHERE kind = 'updated'") ==
      std::set<std::string>{""});
}
