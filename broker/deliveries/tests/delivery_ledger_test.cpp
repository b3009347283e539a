// The delivery ledger against a real journal and SQLite file: a mass alert is written in slices
// that let reports through, and an interrupted plan is planned again whole.
#include <catch2/catch.hpp>

#include <atomic>
#include <future>
#include <mutex>

#include "broker/deliveries/delivery_ledger.hpp"
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

// One incident, run and pending alert for the deliveries to belong to.
void seed(const std::string& db) {
  sqlite::Connection c(db, sqlite::Connection::Mode::read_write);
  sqlite::migrate(c);
  c.exec(
      "INSERT INTO incidents (id, dedup_key, state, source, type, severity, urgency, certainty, "
      "headline, description, location, attributes, occurred_at, received_at, created_at, "
      "updated_at, updates, node_id) VALUES ('I', 'k', 'active', 'test', 'flood', 'severe', "
      "'immediate', 'observed', '', '', NULL, '{}', 0, 0, 0, 0, 0, 'n1')");
  c.exec(
      "INSERT INTO playbook_runs (id, incident_id, playbook_id, playbook_hash, playbook_text, "
      "status, step, due_at, state, created_at, updated_at) VALUES ('R', 'I', 'p', 'h', '', "
      "'completed', 0, NULL, '{}', 0, 0)");
  c.exec(
      "INSERT INTO alerts (id, incident_id, run_id, playbook_id, step, kind, audience, channels, "
      "template, public, zones, pattern, duration_s, status, created_at) VALUES ('A', 'I', 'R', "
      "'p', 0, 'notify', '{}', '[\"sms\"]', 't', 1, '[]', '', 0, 'pending', 0)");
}

std::shared_ptr<dispatchers::AlertContent> content() {
  auto c = std::make_shared<dispatchers::AlertContent>();
  c->alert.id = "A";
  c->alert.incident_id = "I";
  c->messages[{"sms", "fr"}] = Message{"fr", "", "ALERTE CRUE", "", ""};
  return c;
}

std::vector<Delivery> deliveries(int n, const std::string& prefix) {
  std::vector<Delivery> out(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    auto& d = out[std::size_t(i)];
    d.id = prefix + std::to_string(i);
    d.alert_id = "A";
    d.incident_id = "I";
    d.channel = "sms";
    d.recipient = {"resident-" + std::to_string(i), "+1514555" + std::to_string(i), "fr"};
    d.created_at = d.next_attempt_at = now();
  }
  return out;
}

Incident report(const std::string& dedup_key) {
  auto r = parse_incident(R"({"source":"gauge-1","type":"flood.water_level","severity":"minor"})",
                          IncidentLimits{});
  REQUIRE(r.ok());
  r->dedup_key = dedup_key;
  return r.value();
}

}  // namespace

TEST_CASE(
    "a 100,000-recipient alert is written in slices, and a report sent after it is "
    "acknowledged before its last slice") {
  TempDir dir;
  std::string db = (dir.path() / "tocsin.db").string();
  seed(db);
  BrokerMetrics metrics;
  Journal journal{JournalOptions{db, "n1", 4096, "full", {}}, metrics};
  journal.start(JournalListeners{}, nullptr);
  SqliteDeliveryLedger ledger(journal, db, nullptr);

  std::mutex mutex;
  std::vector<std::string> order;
  auto note = [&](std::string what) {
    std::lock_guard lock(mutex);
    order.push_back(std::move(what));
  };
  std::promise<bool> stored;
  ledger.record(content(), deliveries(100000, "D"), true, [&](bool committed) {
    note("alert stored");
    stored.set_value(committed);
  });
  std::promise<bool> acked;
  journal.submit(report("during-the-alert"), [&](Result<Accepted> r) {
    note("report acknowledged");
    acked.set_value(r.ok());
  });
  CHECK(acked.get_future().get());
  CHECK(stored.get_future().get());
  REQUIRE(order.size() == 2);
  CHECK(order.front() == "report acknowledged");
  CHECK(query_integer(db, "SELECT count(*) FROM deliveries WHERE alert_id = 'A'") == 100000);
  CHECK(query_integer(db,
                      "SELECT count(*) FROM alerts WHERE id = 'A' AND status = "
                      "'dispatched'") == 1);
  // More than one transaction carried it.
  CHECK(metrics.commit_seconds.count() > 2);
  journal.stop();
}

TEST_CASE("an alert whose plan was cut short is planned again whole, never resumed in part") {
  TempDir dir;
  std::string db = (dir.path() / "tocsin.db").string();
  seed(db);
  {
    // A crash after some slices: rows exist, the alert is still pending.
    sqlite::Connection c(db, sqlite::Connection::Mode::read_write);
    for (int i = 0; i < 3; ++i)
      c.exec(
          "INSERT INTO deliveries (id, alert_id, incident_id, channel, recipient, address, "
          "language, state, attempts, last_error, provider_ref, created_at, updated_at, "
          "next_attempt_at) VALUES ('old" +
          std::to_string(i) +
          "', 'A', 'I', 'sms', 'resident', '+15145550000', 'fr', 'queued', 0, '', '', 0, 0, "
          "0)");
  }
  auto unfinished = load_unfinished(db);
  CHECK(unfinished.deliveries.empty());  // not resumed: the alert is planned again
  REQUIRE(unfinished.pending_alerts.size() == 1);
  CHECK(unfinished.pending_alerts.front().first.id == "A");

  BrokerMetrics metrics;
  Journal journal{JournalOptions{db, "n1", 4096, "full", {}}, metrics};
  journal.start(JournalListeners{}, nullptr);
  SqliteDeliveryLedger ledger(journal, db, nullptr);
  std::promise<bool> stored;
  ledger.record(content(), deliveries(2500, "new"), true,
                [&](bool committed) { stored.set_value(committed); });
  CHECK(stored.get_future().get());
  CHECK(query_integer(db, "SELECT count(*) FROM deliveries WHERE alert_id = 'A'") == 2500);
  CHECK(query_integer(db, "SELECT count(*) FROM deliveries WHERE id LIKE 'old%'") == 0);
  journal.stop();
}
