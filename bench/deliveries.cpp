// How long one alert to a large audience takes to become deliveries: audience resolution,
// rendering, one row per recipient stored in SQLite (through the journal's writer, synchronous
// = full), and queued on its channel. docs/performance.md: under 2 s for 100,000 recipients.
//
//   bench/deliveries --recipients 100000 [--dir /tmp]

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>

#include "broker/deliveries/delivery_ledger.hpp"
#include "broker/journal/journal.hpp"
#include "broker/metrics/broker_metrics.hpp"
#include "broker/storage/sqlite.hpp"
#include "dispatchers/dispatcher.hpp"

using namespace tocsin;
using Clock = std::chrono::steady_clock;

namespace {

// Residents stand-ins: n people with a phone each, half French, half English.
class Crowd : public dispatchers::AudienceSource, public dispatchers::MessageRenderer {
 public:
  explicit Crowd(int n) : n_(n) {}
  std::vector<dispatchers::Contact> contacts(const Alert&, const IncidentRecord&) override {
    std::vector<dispatchers::Contact> out;
    out.reserve(std::size_t(n_));
    for (int i = 0; i < n_; ++i) {
      char phone[32];
      std::snprintf(phone, sizeof phone, "+1514%07d", i);
      out.push_back({"resident-" + std::to_string(i), i % 2 ? "en" : "fr", phone, "", {}});
    }
    return out;
  }
  std::optional<dispatchers::Contact> contact(const std::string&) override { return std::nullopt; }
  Result<Message> render(const Alert&, const IncidentRecord&, const std::string& language,
                         const std::string&) override {
    return Message{language, "",
                   language == "fr" ? "ALERTE CRUE: éloignez-vous des berges."
                                    : "FLOOD WARNING: keep away from the riverbanks.",
                   "", ""};
  }

 private:
  int n_;
};

// Counts sends; slow on purpose (its rate limit), the benchmark ends before it matters.
class Sink : public channels::Channel {
 public:
  channels::SendResult send(const channels::SendRequest&) override {
    return channels::SendResult::ok();
  }
};

// Times the moment the deliveries are durable and handed to their channel's queue.
class TimedLedger : public dispatchers::DeliveryLedger {
 public:
  explicit TimedLedger(DeliveryLedger& inner) : inner_(inner) {}
  void record(std::shared_ptr<const dispatchers::AlertContent> c, std::vector<Delivery> d,
              bool dispatched, std::function<void(bool)> done) override {
    planned = Clock::now();
    inner_.record(std::move(c), std::move(d), dispatched, [this, done](bool ok) {
      done(ok);
      std::lock_guard lock(mutex);
      committed = Clock::now();
      finished = true;
      wake.notify_all();
    });
  }
  void update(const Delivery& d) override { inner_.update(d); }
  void block(const Alert& a, const std::vector<std::string>& p) override { inner_.block(a, p); }
  std::shared_ptr<const dispatchers::AlertContent> content(const std::string& id) override {
    return inner_.content(id);
  }

  DeliveryLedger& inner_;
  std::mutex mutex;
  std::condition_variable wake;
  bool finished = false;
  Clock::time_point planned, committed;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Deliveries planned and stored for one alert to a large audience"};
  int recipients = 100000;
  std::string dir = "/tmp";
  app.add_option("--recipients", recipients)->capture_default_str();
  app.add_option("--dir", dir, "where the throw-away database goes")->capture_default_str();
  double report_rate = 0;
  app.add_option("--reports-per-second", report_rate,
                 "reports submitted to the same journal while the alert is planned and stored, "
                 "and their acknowledgement latency");
  CLI11_PARSE(app, argc, argv);

  auto work = std::filesystem::path(dir) / ("tocsin-deliveries-" + std::to_string(getpid()));
  std::filesystem::create_directories(work);
  auto db = work / "tocsin.db";
  {
    sqlite::Connection c(db.string(), sqlite::Connection::Mode::read_write);
    sqlite::migrate(c);
    // One incident, run and alert for the deliveries to belong to.
    c.exec(
        "INSERT INTO incidents (id, dedup_key, state, source, type, severity, urgency, certainty, "
        "headline, description, location, attributes, occurred_at, received_at, created_at, "
        "updated_at, updates, node_id) VALUES ('I', 'k', 'active', 'bench', 'flood', 'severe', "
        "'immediate', 'observed', '', '', NULL, '{}', 0, 0, 0, 0, 0, 'bench')");
    c.exec(
        "INSERT INTO playbook_runs (id, incident_id, playbook_id, playbook_hash, playbook_text, "
        "status, step, due_at, state, created_at, updated_at) VALUES ('R', 'I', 'p', 'h', '', "
        "'completed', 0, NULL, '{}', 0, 0)");
    c.exec(
        "INSERT INTO alerts (id, incident_id, run_id, playbook_id, step, kind, audience, "
        "channels, template, public, zones, pattern, duration_s, status, created_at) VALUES "
        "('A', 'I', 'R', 'p', 0, 'notify', '{}', '[\"sms\"]', 't', 1, '[]', '', 0, 'pending', 0)");
  }
  BrokerMetrics metrics;
  Journal journal(JournalOptions{db, "bench", 4096, "full", {}}, metrics);
  journal.start(JournalListeners{}, nullptr);
  SqliteDeliveryLedger sqlite_ledger(journal, db, nullptr);
  TimedLedger ledger(sqlite_ledger);
  Crowd crowd(recipients);
  dispatchers::ChannelPolicy slow;
  slow.rate_per_second = 1;
  slow.burst = 1;
  dispatchers::Dispatcher dispatcher({{"sms", std::make_shared<Sink>(), slow}}, ledger, crowd,
                                     crowd);
  dispatcher.start();

  Alert alert;
  alert.id = "A";
  alert.incident_id = "I";
  alert.kind = "notify";
  alert.channels = {"sms"};
  alert.is_public = true;
  alert.expires = std::chrono::hours(6);
  alert.created_at = now();
  IncidentRecord incident;
  incident.incident.location.zone = "riverside";
  // Reports on a fixed schedule, whatever the answers do, from before the alert until it is
  // stored: each one's latency from its scheduled time to its acknowledgement.
  std::mutex latency_mutex;
  std::vector<double> latencies_ms;
  std::atomic<bool> stored{false};
  std::atomic<long> outstanding{0};
  std::thread reporter;
  if (report_rate > 0)
    reporter = std::thread([&] {
      auto period = std::chrono::duration_cast<Clock::duration>(
          std::chrono::duration<double>(1.0 / report_rate));
      auto next = Clock::now();
      for (long i = 0; !stored; ++i, next += period) {
        std::this_thread::sleep_until(next);
        auto r = parse_incident(R"({"source":"gauge","type":"bench.reading","severity":"minor"})",
                                IncidentLimits{});
        r->dedup_key = "during-" + std::to_string(i);
        ++outstanding;
        journal.submit(std::move(r.value()), [&, scheduled = next](Result<Accepted>) {
          double ms = std::chrono::duration<double, std::milli>(Clock::now() - scheduled).count();
          std::lock_guard lock(latency_mutex);
          latencies_ms.push_back(ms);
          --outstanding;
        });
      }
    });
  if (report_rate > 0) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto started = Clock::now();
  dispatcher.dispatch(alert, incident);
  {
    std::unique_lock lock(ledger.mutex);
    ledger.wake.wait(lock, [&] { return ledger.finished; });
  }
  stored = true;
  if (reporter.joinable()) reporter.join();
  while (outstanding > 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  auto ms = [&](Clock::time_point t) {
    return std::chrono::duration<double, std::milli>(t - started).count();
  };
  std::printf(
      "recipients: %d\nplanned (audience, rendering, rows built): %.0f ms\n"
      "stored and queued (committed, synchronous=full): %.0f ms\n",
      recipients, ms(ledger.planned), ms(ledger.committed));
  if (!latencies_ms.empty()) {
    std::sort(latencies_ms.begin(), latencies_ms.end());
    auto at = [&](double q) {
      return latencies_ms[std::size_t(q * double(latencies_ms.size() - 1))];
    };
    std::printf(
        "reports at %.0f/s meanwhile: %zu acknowledged, p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
        report_rate, latencies_ms.size(), at(0.5), at(0.99), latencies_ms.back());
  }
  dispatcher.stop();
  journal.stop();
  sqlite::Connection check(db.string(), sqlite::Connection::Mode::read_only);
  auto st = check.prepare("SELECT count(*) FROM deliveries");
  st.step();
  std::printf("rows in deliveries: %lld\n", static_cast<long long>(st.integer(0)));
  std::filesystem::remove_all(work);
  return 0;
}
