#include "broker/serve.hpp"

#include <atomic>
#include <condition_variable>
#include <csignal>
#include <ctime>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <thread>

#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>
#include <boost/json.hpp>
#include <zmq.hpp>

#include "broker/api/api.hpp"
#include "broker/api/http_server.hpp"
#include "broker/cli/preflight.hpp"
#include "broker/deliveries/delivery_ledger.hpp"
#include "broker/deliveries/dispatch_sources.hpp"
#include "broker/ingest/sensor_keys.hpp"
#include "broker/ingest/zmq_ingest.hpp"
#include "broker/journal/journal.hpp"
#include "broker/live/live_state.hpp"
#include "broker/live/managed_redis.hpp"
#include "broker/live/public_alerts.hpp"
#include "broker/metrics/broker_metrics.hpp"
#include "broker/oncall/one_tap.hpp"
#include "broker/oncall/overrides.hpp"
#include "broker/oncall/reply_codes.hpp"
#include "broker/oncall/staff_pages.hpp"
#include "broker/residents/registry.hpp"
#include "broker/residents/retention.hpp"
#include "broker/residents/unsubscribe.hpp"
#include "broker/runs/playbook_library.hpp"
#include "broker/runs/timers.hpp"
#include "broker/storage/audit.hpp"
#include "broker/storage/incident_store.hpp"
#include "broker/storage/sqlite.hpp"
#include "broker/watch/silences.hpp"
#include "broker/watch/siren_watch.hpp"
#include "broker/watch/source_watch.hpp"
#include "core/faults.hpp"
#include "core/json_text.hpp"

namespace tocsin {

namespace json = boost::json;

namespace {

// The audit chain's head, checkpointed to a file outside the database at intervals (and once
// more at the end), so that rows cut from the chain's end show in `tocsin audit verify`.
class AuditCheckpoints {
 public:
  AuditCheckpoints(std::filesystem::path database, std::filesystem::path file,
                   std::chrono::seconds every)
      : database_(std::move(database)), file_(std::move(file)), every_(every) {}
  ~AuditCheckpoints() { stop(); }
  void start() {
    thread_ = std::jthread([this](std::stop_token stop) { run(stop); });
  }
  void stop() {
    if (!thread_.joinable()) return;
    thread_.request_stop();
    thread_.join();
    write();  // the head as the server leaves it
  }

 private:
  void run(std::stop_token stop) {
    pthread_setname_np(pthread_self(), "audit-ckpt");  // 15 characters at most
    std::mutex m;
    std::condition_variable_any wake;
    for (;;) {
      std::unique_lock lock(m);
      wake.wait_for(lock, stop, every_, [] { return false; });  // woken by the stop only
      if (stop.stop_requested()) return;
      write();
    }
  }
  void write() {
    try {
      sqlite::Connection db(database_.string(), sqlite::Connection::Mode::read_only);
      auto r = audit::checkpoint(db, file_);
      if (!r) spdlog::error("audit: no checkpoint written: {}", r.error().message);
    } catch (const std::exception& e) {
      spdlog::error("audit: no checkpoint written: {}", e.what());
    }
  }
  std::filesystem::path database_, file_;
  std::chrono::seconds every_;
  std::jthread thread_;
};

sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  return set;
}

// Hands each committed alert to the dispatcher (which plans it on its own thread).
class DispatchingSink : public ActionSink {
 public:
  explicit DispatchingSink(dispatchers::Dispatcher& dispatcher) : dispatcher_(dispatcher) {}
  void on_alerts(const std::vector<AlertRecord>& alerts) override {
    for (const auto& a : alerts) dispatcher_.dispatch(a.alert, a.incident);
  }

 private:
  dispatchers::Dispatcher& dispatcher_;
};

}  // namespace

int serve(const Config& config) {
  // Every thread started from here on inherits the blocked mask; only sigwait below sees them.
  sigset_t signals = stop_signals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  try {
    faults::configure_from_environment();
  } catch (const std::invalid_argument& e) {
    spdlog::critical("tocsin: {}", e.what());
    return 1;
  }

  // Everything serve needs besides the file, checked first (as tocsin check-config does).
  auto found = preflight(config);
  if (!found.errors.empty()) {
    for (const auto& e : found.errors) spdlog::critical("{}", e);
    spdlog::critical(
        "tocsin: refusing to start with what the configuration names invalid (its playbooks, "
        "sources, keys or TLS files): {} {} (tocsin check-config lists them)",
        found.errors.size(), found.errors.size() == 1 ? "problem" : "problems");
    return 1;
  }
  for (const auto& w : found.warnings) spdlog::warn("{}", w);

  std::filesystem::create_directories(config.data_dir);
  std::filesystem::permissions(config.data_dir, std::filesystem::perms::owner_all,
                               std::filesystem::perm_options::replace);
  const auto database = config.data_dir / "tocsin.db";
  {
    sqlite::Connection db(database.string(), sqlite::Connection::Mode::read_write);
    sqlite::migrate(db);
  }
  // The audit chain's key, outside the database: made at the first start.
  if (auto key = audit::load_key(config.audit.key, true)) {
    audit::use_key(key.value());
  } else {
    spdlog::critical("tocsin: {}", key.error().message);
    return 1;
  }
  AuditCheckpoints checkpoints(database, config.audit.checkpoints,
                               config.audit.checkpoint_interval);

  BrokerMetrics metrics;
  std::unique_ptr<ManagedRedis> managed;
  RedisEndpoint endpoint;
  LiveState::BeforeConnect before_connect;
  if (config.redis.mode == RedisConfig::Mode::managed) {
    managed = std::make_unique<ManagedRedis>(config.redis.server_binary, config.data_dir);
    managed->start();
    endpoint.unix_path = managed->socket_path().string();
    before_connect = [m = managed.get()](RedisEndpoint& e) {
      m->ensure_running();
      e.unix_path = m->socket_path().string();
    };
  } else {
    endpoint = *parse_redis_url(config.redis.url);  // validated with the configuration
    if (config.redis.password) endpoint.password = config.redis.password;
  }

  IncidentStore store(database);
  IncidentStore live_store(database);  // the live-state thread's own reader
  LiveState live(endpoint, live_store, metrics, before_connect);
  Journal journal(JournalOptions{database, config.node_id, config.journal.max_batch,
                                 config.journal.synchronous, config.ingest.storm},
                  metrics);
  PlaybookLibrary library(config.playbooks, [&journal](auto set) { journal.use(std::move(set)); });
  // The one way out before serving: every problem named, the managed Redis stopped, exit 1.
  auto refuse = [&managed](const std::vector<std::string>& errors, const char* what) {
    for (const auto& e : errors) spdlog::critical("{}", e);
    spdlog::critical("tocsin: refusing to start with {}", what);
    if (managed) managed->stop();
    return 1;
  };
  if (auto errors = library.reload(); !errors.empty()) return refuse(errors, "invalid playbooks");
  Timers timers([&journal](RunTimer t) { journal.timer_due(std::move(t)); });
  FeedHub feed;
  IncidentStore public_store(database);  // the public page's reads
  PublicBoard public_board([&public_store, &library] {
    auto set = library.current();
    const ZoneMap none;
    return public_store.with_connection([&](db::Connection& db) {
      return public_alerts_now(db, set ? set->references.zones : none, now());
    });
  });
  feed.public_snapshot = [&public_board](const std::string& language) {
    return json_text(public_snapshot(public_board.current(), language));
  };
  SqliteDeliveryLedger ledger(journal, database,
                              [&live, &feed, &public_board](std::vector<std::string> alert_ids) {
                                public_board.invalidate();
                                feed.alerts_changed(alert_ids);
                                live.alerts_changed(std::move(alert_ids));
                              });
  // The on-call overrides made through the API that have not ended (the database's record).
  OverrideBook on_call_overrides;
  on_call_overrides.replace_all(
      store.with_connection([](db::Connection& db) { return overrides::current(db, now()); }));
  // The residents the city reaches, their contacts opened with the key from outside the database
  // (checked with the configuration).
  std::shared_ptr<const SealedBox> resident_box;
  std::unique_ptr<ResidentDirectory> residents;
  if (config.residents.enabled) {
    resident_box =
        std::make_shared<SealedBox>(SealedBox::from_key_text(*config.residents.key).value());
    residents = std::make_unique<ResidentDirectory>(database, resident_box);
  }
  ConfiguredSources sources(library, &on_call_overrides, residents.get());
  ResidentRetention retention(
      [&journal](std::function<void(db::Connection&)> apply, std::function<void(bool)> done) {
        journal.write(std::move(apply), std::move(done));
      });
  SirenWatch siren_watch(journal, live);
  IncidentStore console_store(database);  // the consoles' snapshots
  feed.snapshot = [&console_store](std::uint64_t seq) {
    return json_text(console_snapshot(console_store, seq));
  };
  CommitFanout commits({&feed, &live});
  std::vector<dispatchers::ChannelSetup> channels;
  for (const auto& ch : config.channels)
    channels.push_back({ch.name, ch.settings->build({&feed, &siren_watch}), ch.policy});
  dispatchers::Dispatcher dispatcher(std::move(channels), ledger, sources, sources);
  // One-tap acknowledgement links in staff pages, where staff can reach the server
  // (http.public_origin); signed with a key of the data directory, made at the first start. And
  // the codes staff answer by SMS with, when the SMS provider forwards replies.
  std::unique_ptr<OneTap> one_tap;
  if (!config.http.auth.public_origin.empty()) {
    auto links_key = audit::load_key(config.data_dir / "links.key", true);
    if (!links_key) return refuse({links_key.error().message}, "no key for one-tap links");
    one_tap = std::make_unique<OneTap>(links_key.value(), config.http.auth.public_origin);
  }
  std::unique_ptr<ReplyCodes> reply_codes;
  if (dispatcher.inbound("sms")) {
    reply_codes = std::make_unique<ReplyCodes>(journal);
    store.with_connection([&](db::Connection& db) { reply_codes->load(db); });
  }
  StaffPages staff_pages(one_tap.get(), reply_codes.get());
  if (one_tap || reply_codes) dispatcher.decorator(&staff_pages);
  // A resident's messages carry their way out: an e-mail's one-click link, an SMS's STOP line.
  std::unique_ptr<ResidentMessages> resident_messages;
  if (resident_box) {
    resident_messages = std::make_unique<ResidentMessages>(
        resident_box, config.http.auth.public_origin, dispatcher.inbound("sms") != nullptr);
    dispatcher.decorator(resident_messages.get());
  }
  DispatchingSink alerts(dispatcher);
  Unfinished unfinished = load_unfinished(database);
  std::vector<ExpectedSource> expected;
  if (!config.ingest.sources.empty()) {
    auto loaded = load_sources(config.ingest.sources);
    if (auto* errors = std::get_if<std::vector<std::string>>(&loaded))
      return refuse(*errors, "invalid expected sources");
    expected = std::get<std::vector<ExpectedSource>>(loaded);
  }
  SourceWatch watch(journal, std::move(expected));
  zmq::context_t zmq_context(1);
  ZmqIngest ingest(zmq_context, config.ingest.zmq_bind, journal, config.limits,
                   config.ingest.max_in_flight, metrics);
  ingest.max_in_flight_bytes(config.ingest.max_in_flight_bytes);
  if (config.ingest.curve.secret_key) {
    auto loaded = load_sensor_keys(config.ingest.curve.sensors);
    if (auto* errors = std::get_if<std::vector<std::string>>(&loaded))
      return refuse(*errors, "an invalid sensors file");
    ingest.authenticate(*config.ingest.curve.secret_key, std::get<SensorKeys>(std::move(loaded)));
  }

  HealthReport health = [&] {
    std::string redis_status = live.status();
    json::object redis{
        {"status", redis_status},
        {"mode", config.redis.mode == RedisConfig::Mode::managed ? "managed" : "external"},
        {"endpoint", live.endpoint()}};
    if (redis_status != "ok") redis["error"] = live.last_error();
    const std::string failing = metrics.journal_failing();
    json::object journal_status{{"status", failing.empty() ? "ok" : "failing"},
                                {"queue", metrics.journal_queue.load()},
                                {"runs_pending", metrics.runs_pending.load()}};
    if (!failing.empty()) journal_status["error"] = failing;
    // A channel that writes to an outbox file reaches nobody: said, though nothing fails.
    json::array outboxes;
    for (const auto& name : outbox_channels(config)) outboxes.emplace_back(name);
    json::object channels{{"status", outboxes.empty() ? "ok" : "outbox"}};
    if (!outboxes.empty()) channels["outbox"] = std::move(outboxes);
    json::object components{
        {"journal", std::move(journal_status)},
        {"ingest_zmq", json::object{{"status", "ok"}, {"bind", config.ingest.zmq_bind}}},
        {"http", json::object{{"status", "ok"}}},
        {"redis", std::move(redis)},
        {"channels", std::move(channels)}};
    // Failing: nothing new can be acknowledged (a load balancer should send reports elsewhere);
    // degraded: the live projection is away, alerting goes on.
    return json_text(json::object{{"status", !failing.empty()       ? "failing"
                                             : redis_status == "ok" ? "ok"
                                                                    : "degraded"},
                                  {"node", config.node_id},
                                  {"components", std::move(components)}});
  };
  Api api(journal, store, config.limits, metrics, health, library);
  api.silence_limits(config.silences);
  api.time_zone(config.time_zone);
  api.public_board(&public_board);
  api.alertmanager(config.alertmanager);
  api.pagerduty(config.pagerduty);
  api.on_call_overrides(&on_call_overrides);
  api.residents(resident_box, config.residents);
  api.one_tap_links(one_tap.get());
  Auth auth(database, config.http.auth,
            [&journal](std::function<void(db::Connection&)> apply, std::function<void(bool)> done) {
              journal.write(std::move(apply), std::move(done));
            });
  api.authentication(&auth, config.http.public_metrics, config.http.public_health);
  api.web_root(config.http.web_dir);
  api.deliveries(ApiDeliveries{&ledger, &dispatcher, &siren_watch});
  api.sources(&watch);
  ingest.on_seen([&watch](const std::string& source) { watch.seen(source); });
  HttpServer http(config.http.bind, config.http.max_body_bytes, config.http.threads, api);
  http.authentication(auth);
  http.connection_limits(config.http.max_connections, config.http.max_connections_per_address);
  http.live_feed(feed, config.http.feed_max_queue);
  if (!config.http.tls.certificate.empty())
    http.tls(config.http.tls.certificate, config.http.tls.private_key);

  live.start();
  timers.start();
  WindowMuter windows;
  journal.start(JournalListeners{&commits, &timers, &alerts,
                                 [&dispatcher](const Alert& a, const IncidentRecord& i) {
                                   return dispatcher.reach(a, i);
                                 },
                                 &windows},
                library.current());
  dispatcher.start();  // and the channels' own work (siren polling)
  // What a crash or a stop left: alerts never planned, deliveries queued or in progress.
  std::size_t resumed = 0;
  for (auto& [content, deliveries] : unfinished.deliveries) {
    resumed += deliveries.size();
    dispatcher.resume(std::move(content), std::move(deliveries));
  }
  for (auto& [alert, incident] : unfinished.pending_alerts)
    dispatcher.dispatch(std::move(alert), std::move(incident));
  if (resumed || !unfinished.pending_alerts.empty())
    spdlog::info("dispatch: resuming {} deliveries and {} undispatched alerts", resumed,
                 unfinished.pending_alerts.size());
  watch.start();
  checkpoints.start();
  if (residents) retention.start();
  ingest.start();
  http.start();
  spdlog::info("tocsin ready: node {}, data in {}", config.node_id, config.data_dir.string());
  // Under systemd (Type=notify): ready now, and the watchdog fed while the journal's writer
  // still turns (a no-op write comes back, committed or refused); a writer stuck for the whole
  // WatchdogSec= gets the service restarted.
  sd_notify(0, "READY=1\nSTATUS=serving");
  std::uint64_t watchdog_usec = 0;
  if (sd_watchdog_enabled(0, &watchdog_usec) <= 0) watchdog_usec = 0;
  auto probe_back = std::make_shared<std::atomic<bool>>(true);
  auto feed_watchdog = [&] {
    if (!probe_back->exchange(false)) return;  // the last probe has not come back: no ping
    sd_notify(0, "WATCHDOG=1");
    journal.write([](db::Connection&) {}, [probe_back](bool) { probe_back->store(true); });
  };

  // SIGHUP (systemctl reload): each part whole or not at all; a failed reload keeps what runs,
  // and says why.
  auto reload = [&] {
    spdlog::info("SIGHUP: reloading the playbooks, the TLS certificate, the sensors' keys");
    library.reload();  // on failure it logs every error and keeps the running set
    if (!config.http.tls.certificate.empty()) {
      try {
        http.tls(config.http.tls.certificate, config.http.tls.private_key);
        spdlog::info("http: TLS certificate reloaded from {}",
                     config.http.tls.certificate.string());
      } catch (const std::exception& e) {
        spdlog::error("http: {}; the running certificate stays", e.what());
      }
    }
    if (config.ingest.curve.secret_key) {
      auto loaded = load_sensor_keys(config.ingest.curve.sensors);
      if (auto* errors = std::get_if<std::vector<std::string>>(&loaded)) {
        for (const auto& e : *errors) spdlog::error("ingest: {}", e);
        spdlog::error("ingest: the sensors file was not reloaded; the running keys stay");
      } else {
        auto keys = std::get<SensorKeys>(std::move(loaded));
        spdlog::info("ingest: {} sensors' keys reloaded from {}", keys.size(),
                     config.ingest.curve.sensors.string());
        ingest.reload_sensors(std::move(keys));
      }
    }
  };

  for (;;) {
    int sig = 0;
    if (watchdog_usec == 0) {
      sigwait(&signals, &sig);
    } else {
      const auto third = std::chrono::microseconds(watchdog_usec / 3);
      timespec wait{std::time_t(third.count() / 1000000), long(third.count() % 1000000) * 1000};
      sig = sigtimedwait(&signals, nullptr, &wait);
      if (sig < 0) {  // the time is up (or EINTR)
        feed_watchdog();
        continue;
      }
    }
    if (sig == SIGHUP) {
      sd_notify(0, "RELOADING=1");
      reload();
      sd_notify(0, "READY=1\nSTATUS=serving");
      continue;
    }
    spdlog::info("{}: stopping intake, answering what is in flight", strsignal(sig));
    sd_notify(0, "STOPPING=1\nSTATUS=stopping: answering what is in flight");
    break;
  }
  ingest.stop();  // every report read is answered: its commit is awaited
  http.stop();
  timers.stop();
  watch.stop();
  retention.stop();
  dispatcher.stop();   // sends in progress finish; what is queued stays queued in SQLite
  journal.stop();      // commits whatever is left
  checkpoints.stop();  // and its head is checkpointed
  live.stop();
  if (managed) managed->stop();
  spdlog::info("tocsin stopped");
  return 0;
}

}  // namespace tocsin
