#pragma once
// The HTTP API's routes, apart from the HTTP server (Beast) that carries them: plain requests in,
// plain responses out, answered through a callback (possibly from another thread).

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "broker/api/auth.hpp"
#include "broker/api/routes.hpp"
#include "broker/api/worker.hpp"
#include "broker/ingest/monitoring.hpp"
#include "broker/journal/intake.hpp"
#include "broker/metrics/broker_metrics.hpp"
#include "broker/residents/registry.hpp"
#include "broker/residents/sealed_box.hpp"
#include "broker/residents/signup.hpp"
#include "broker/runs/playbook_library.hpp"
#include "broker/storage/incident_store.hpp"
#include "broker/watch/silences.hpp"
#include "core/incident.hpp"
#include "core/ulid.hpp"
#include "dispatchers/dispatcher.hpp"

namespace tocsin {

class PublicBoard;

struct ApiRequest {
  std::string method;  // upper-case: GET, POST…
  std::string target;  // path and query, as received
  std::string content_type;
  std::string body;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string remote;                          // the client's address
  std::optional<Principal> principal;          // who it is, once authenticated
};

struct ApiResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::map<std::string, std::string> headers;
};

using Respond = std::function<void(ApiResponse)>;

// Reports each component's health as JSON (built by the server that owns the components).
using HealthReport = std::function<std::string()>;

class SqliteDeliveryLedger;
class OneTap;
class SourceWatch;

class SirenWatch;

// What the API needs of the delivery side: receipts are stored by the ledger; the dispatcher
// sends a follow-up, previews a composed alert, says which channels there are and reads a
// provider's receipts; the sirens' last polls come from their watch. Any may be null (a test's
// server without them): the routes that need it answer 503 or an empty list.
struct ApiDeliveries {
  SqliteDeliveryLedger* ledger = nullptr;
  dispatchers::AlertDesk* dispatcher = nullptr;
  const SirenWatch* sirens = nullptr;
};

class Api {
 public:
  Api(Intake& journal, IncidentStore& store, const IncidentLimits& limits, BrokerMetrics& metrics,
      HealthReport health, PlaybookLibrary& library);
  ~Api();

  void handle(ApiRequest request, Respond respond);
  void deliveries(ApiDeliveries d) { deliveries_ = std::move(d); }
  void sources(SourceWatch* watch) { sources_ = watch; }
  void silence_limits(SilenceLimits limits) { silence_limits_ = limits; }
  // The city's time zone (city.time_zone), for the console's clocks: in the session's answers.
  void time_zone(std::string name) { time_zone_ = std::move(name); }
  // The public alerts standing now (the /alerts page).
  void public_board(PublicBoard* board) { public_board_ = board; }
  // How Alertmanager's alerts become incidents (integrations.alertmanager).
  void alertmanager(AlertmanagerMapping mapping) { alertmanager_ = std::move(mapping); }
  void pagerduty(PagerDutyMapping mapping) { pagerduty_ = std::move(mapping); }
  // The on-call overrides the dispatcher reads: the API's adds and cancels go there once stored.
  void on_call_overrides(OverrideBook* book) { overrides_ = book; }
  // The residents' key and settings (null: residents are not configured): their pages, and STOP
  // and START by SMS.
  void residents(std::shared_ptr<const SealedBox> box, ResidentsConfig config) {
    resident_box_ = std::move(box);
    residents_ = std::move(config);
  }
  // One-tap acknowledgement links (/a/TOKEN) are answered when set (http.public_origin).
  void one_tap_links(const OneTap* links) { one_tap_ = links; }
  // Every route but /api/v1/login, the signed SMS receipts (and /health and /metrics when
  // public) needs a session or a token.
  void authentication(Auth* auth, bool public_metrics, bool public_health) {
    auth_ = auth;
    public_metrics_ = public_metrics;
    public_health_ = public_health;
  }
  // The console's static files (web/): /console and /console/FILE, public (the page signs in).
  void web_root(std::filesystem::path dir) { web_dir_ = std::move(dir); }

  static ApiResponse error(int status, const Error& e);
  // Every route, as "METHOD /path/{param}" (a trailing * as {path}), sorted: what the OpenAPI
  // document must describe.
  std::vector<std::string> route_list() const;

 private:
  void routes();  // every route, its scope and its handler: the API at a glance
  void dispatch(ApiRequest& request, Respond& respond);  // handle()'s work, in its catch
  std::string state_metrics() const;
  // Why this request may not use a route that needs `scope` (nullopt: it may); sets its principal.
  std::optional<ApiResponse> refusal(ApiRequest& request, const std::string& scope) const;

  void create_incident(ApiRequest& request, Respond respond);
  void alertmanager_webhook(const ApiRequest& request, Respond respond);
  void pagerduty_enqueue(const ApiRequest& request, Respond respond);
  void list_incidents(const std::map<std::string, std::string>& query, Respond respond);
  void get_incident(const std::string& id, Respond respond);
  // Runs a blocking job on reads_ (a read, a login's password hash, a reload); an exception from
  // it answers as failed() does. `read` is the common case: a query that returns the answer.
  void off_thread(const char* what, Respond respond, std::function<void(Respond&)> job);
  void read(const char* what, Respond respond, std::function<ApiResponse()> query);
  // A handler's or a job's exception: logged (without personal data), and answered 503
  // storage_unavailable for the database's, 500 internal for any other; the server carries on.
  static void failed(std::string_view what, const std::exception& e, Respond& respond);
  void incident_action(const std::string& id, const std::string& kind, const ApiRequest& request,
                       Respond respond);
  void approval_vote(const std::string& id, bool approve, const ApiRequest& request,
                     Respond respond);
  void list_approvals(const std::map<std::string, std::string>& query, Respond respond);
  void list_alerts(const std::map<std::string, std::string>& query, Respond respond);
  void get_alert(const std::string& id, Respond respond);
  void compose_alert(const std::string& id, bool preview_only, const ApiRequest& request,
                     Respond respond);
  void alert_follow_up(const std::string& id, const std::string& kind, const ApiRequest& request,
                       Respond respond);
  void receipt(const std::string& channel, const ApiRequest& request, Respond respond);
  void list_playbooks(Respond respond);
  void reload_playbooks(Respond respond);
  void create_silence(const ApiRequest& request, Respond respond);
  void expire_silence(const std::string& id, const ApiRequest& request, Respond respond);
  void list_silences(const std::map<std::string, std::string>& query, Respond respond);
  void list_audit(const std::map<std::string, std::string>& query, Respond respond);
  void one_tap(const std::string& token, bool act, Respond respond);
  void inbound_sms(const ApiRequest& request, Respond respond);
  // The residents' pages (resident_pages.cpp).
  void residents_home(const ApiRequest& request, Respond respond);
  void resident_sign_up(const ApiRequest& request, Respond respond);
  void resident_confirm(const std::string& id, const ApiRequest& request, bool act,
                        Respond respond);
  void resident_email(const std::string& id, const ApiRequest& request, Respond respond);
  void resident_me(const ApiRequest& request, Respond respond);
  void resident_subscription(const std::string& lang, const std::string& id, const std::string& q,
                             const std::string& label, std::vector<Error> errors, int status,
                             Respond respond);
  void resident_add_place(const ApiRequest& request, Respond respond);
  void resident_remove_place(const ApiRequest& request, Respond respond);
  void residents_map(const ApiRequest& request, Respond respond);
  // The public alerts page and its feed (public_pages.cpp).
  void public_alerts_page(const Query& query, Respond respond);
  void public_alerts_script(Respond respond);
  void public_alerts_json(const Query& query, Respond respond);
  void public_stats_page(const Query& query, bool as_json, Respond respond);
  void resident_unsubscribe(const std::string& token, const ApiRequest& request, bool act,
                            Respond respond);
  void resident_resume(const ApiRequest& request, Respond respond);
  void resident_data(const ApiRequest& request, Respond respond);
  void resident_update(const ApiRequest& request, Respond respond);
  void resident_erase(const ApiRequest& request, Respond respond);
  void resident_sign_in(const ApiRequest& request, bool act, Respond respond);
  std::optional<std::string> resident_of(const ApiRequest& request, const std::string& lang,
                                         Respond& respond);
  void send_code(const std::string& lang, const std::string& kind, const std::string& to,
                 const residents::Issued& code);
  struct ReplyLimits;
  void list_schedules(Respond respond);
  void who_is_on_call(const std::string& id, const std::map<std::string, std::string>& query,
                      Respond respond);
  void schedule_shifts(const std::string& id, const std::map<std::string, std::string>& query,
                       Respond respond);
  void list_overrides(const std::string& id, Respond respond);
  void create_override(const std::string& id, const ApiRequest& request, Respond respond);
  void cancel_override(const std::string& id, const std::string& override_id,
                       const ApiRequest& request, Respond respond);
  void login(const ApiRequest& request, Respond respond);
  void logout(const ApiRequest& request, Respond respond);
  void create_token(const ApiRequest& request, Respond respond);

  Intake& journal_;
  IncidentStore& store_;
  IncidentLimits limits_;
  BrokerMetrics& metrics_;
  HealthReport health_;
  PlaybookLibrary& library_;
  ApiDeliveries deliveries_;
  SourceWatch* sources_ = nullptr;
  SilenceLimits silence_limits_;
  std::string time_zone_ = "UTC";
  PublicBoard* public_board_ = nullptr;
  AlertmanagerMapping alertmanager_;
  PagerDutyMapping pagerduty_;
  OverrideBook* overrides_ = nullptr;
  std::shared_ptr<const SealedBox> resident_box_;
  ResidentsConfig residents_;
  UlidGenerator ids_;
  const OneTap* one_tap_ = nullptr;
  std::unique_ptr<ReplyLimits> reply_limits_;
  Auth* auth_ = nullptr;
  std::filesystem::path web_dir_;
  ApiResponse static_file(const std::string& path) const;
  bool public_metrics_ = true;
  bool public_health_ = true;
  RouteTable<Respond> routes_;
  Worker reads_;  // SQLite reads block: they run here, not on the HTTP threads
};

}  // namespace tocsin
