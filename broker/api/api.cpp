#include "broker/api/api.hpp"

#include "broker/api/reply_limits.hpp"

#include <algorithm>
#include <atomic>

#include <sodium.h>
#include <spdlog/spdlog.h>
#include <boost/json.hpp>

#include "broker/api/openapi.hpp"
#include "broker/api/responses.hpp"
#include "broker/api/routes.hpp"
#include "broker/build_info.hpp"
#include "broker/runs/compose.hpp"
#include "broker/watch/siren_watch.hpp"
#include "broker/watch/source_watch.hpp"
#include "core/faults.hpp"
#include "core/json_text.hpp"
#include "core/metrics.hpp"
#include "core/personal_data.hpp"
#include "core/ulid.hpp"

namespace tocsin {

namespace json = boost::json;

namespace {

ApiResponse method_not_allowed(const std::string& allow) {
  auto r = Api::error(405, Error{"method_not_allowed", "method: use " + allow, "method"});
  r.headers["Allow"] = allow;
  return r;
}

}  // namespace

Api::Api(Intake& journal, IncidentStore& store, const IncidentLimits& limits,
         BrokerMetrics& metrics, HealthReport health, PlaybookLibrary& library)
    : journal_(journal),
      store_(store),
      limits_(limits),
      metrics_(metrics),
      health_(std::move(health)),
      library_(library),
      reply_limits_(std::make_unique<ReplyLimits>()) {
  routes();
}

Api::~Api() {
  reads_.stop();
}

std::vector<std::string> Api::route_list() const {
  std::vector<std::string> out;
  for (const auto& r : routes_.all()) {
    std::string path;
    for (const auto& segment : r.pattern) path += "/" + (segment == "*" ? "{path}" : segment);
    out.push_back(r.method + " " + (path.empty() ? "/" : path));
  }
  std::sort(out.begin(), out.end());
  return out;
}

ApiResponse Api::error(int status, const Error& e) {
  json::object err{{"code", e.code}, {"message", e.message}};
  err["field"] = e.field.empty() ? json::value(nullptr) : json::value(e.field);
  if (!e.reason.empty()) err["reason"] = e.reason;
  return json_response(status, json::object{{"error", std::move(err)}});
}

void Api::routes() {
  auto& t = routes_;
  auto fixed = [](ApiResponse r) {
    return [r](ApiRequest&, const Params&, const Query&, Respond respond) { respond(r); };
  };
  t.add("GET", "/", "",
        fixed(ApiResponse{
            302, "text/plain; charset=utf-8", "/console\n", {{"Location", "/console"}}}));
  auto console = [this](ApiRequest& r, const Params&, const Query&, Respond respond) {
    respond(static_file(std::string(r.target.substr(0, r.target.find('?')))));
  };
  t.add("GET", "/console", "", console);
  t.add("GET", "/console/*", "", console);

  // The live feeds are WebSocket sessions (http_server.cpp); a plain request is told so, once
  // it may read the feed at all.
  auto websocket_only = [](ApiRequest&, const Params&, const Query&, Respond respond) {
    auto r = error(426, Error{"upgrade_required", "this is a WebSocket endpoint", "Upgrade"});
    r.headers["Upgrade"] = "websocket";
    respond(std::move(r));
  };
  t.add("GET", "/ws/public", "", websocket_only);
  t.add("GET", "/ws/console", "read", websocket_only);

  // Accounts, sessions and machines' tokens.
  t.add("POST", "/api/v1/login", "",
        [this](ApiRequest& r, const Params&, const Query&, Respond respond) {
          login(r, std::move(respond));
        });
  t.add("POST", "/api/v1/logout", "read",
        [this](ApiRequest& r, const Params&, const Query&, Respond respond) {
          logout(r, std::move(respond));
        });
  t.add("GET", "/api/v1/session", "read",
        [this](ApiRequest& r, const Params&, const Query&, Respond respond) {
          const Principal& who = *r.principal;
          json::array scopes;
          for (const auto& s : who.scopes) scopes.emplace_back(s);
          json::object o{{"id", who.id},
                         {"kind", who.kind},
                         {"role", who.role},
                         {"language", who.language},
                         {"scopes", std::move(scopes)},
                         {"time_zone", time_zone_}};
          if (who.kind == "user") o["csrf_token"] = who.csrf;
          respond(json_response(200, o));
        });
  t.add("GET", "/api/v1/tokens", "admin",
        [this](ApiRequest&, const Params&, const Query&, Respond respond) {
          read("tokens", std::move(respond), [this] {
            return json_response(200, json::object{{"tokens", auth_->tokens()}});
          });
        });
  t.add("POST", "/api/v1/tokens", "admin",
        [this](ApiRequest& r, const Params&, const Query&, Respond respond) {
          create_token(r, std::move(respond));
        });
  t.add("POST", "/api/v1/tokens/{id}/revoke", "admin",
        [this](ApiRequest& r, const Params& p, const Query&, Respond respond) {
          read("revoking a token", std::move(respond),
               [this, id = p.at("id"), by = r.principal->id] {
                 auto done = auth_->revoke_token(id, by);
                 if (!done) return error(status_for(done.error()), done.error());
                 return json_response(200, json::object{{"id", id}, {"revoked", true}});
               });
        });

  // The server itself.
  t.add("GET", "/api/v1/openapi.json", "",
        fixed(ApiResponse{200, "application/json", json_text(openapi_document()), {}}));
  t.add(
      "GET", "/health", "read",
      [this](ApiRequest& r, const Params&, const Query&, Respond respond) {
        std::string report = health_();
        // Whoever may read gets every component; the public (a load balancer's probe, when
        // http.auth.public_health lets it in) gets the status only: socket paths, binds and
        // error texts are not for everyone.
        if (!r.principal && auth_) r.principal = auth_->identify(r.headers);
        const bool failing = json::parse(report).at("status") == "failing";
        if (!r.principal || !r.principal->can("read")) {
          auto v = json::parse(report);
          report = json_text(json::object{{"status", v.at("status")}});
        }
        respond(ApiResponse{failing ? 503 : 200, "application/json", report + "\n", {}});
      },
      &public_health_);
  // Liveness and readiness, as Prometheus and Alertmanager name them: /-/healthy answers while
  // the process serves; /-/ready while it can take a report (its journal commits) and run its
  // playbooks (the set is loaded). A load balancer's probe; HEAD as well as GET.
  t.add(
      "GET", "/-/healthy", "read",
      [](ApiRequest&, const Params&, const Query&, Respond respond) {
        respond(ApiResponse{200, "text/plain; charset=utf-8", "tocsin is healthy.\n", {}});
      },
      &public_health_);
  t.add(
      "GET", "/-/ready", "read",
      [this](ApiRequest&, const Params&, const Query&, Respond respond) {
        std::string why;
        if (std::string failing = metrics_.journal_failing(); !failing.empty())
          why = "the journal cannot commit";
        else if (library_.enabled() && !library_.current())
          why = "no playbook set is loaded";
        if (!why.empty())
          return respond(ApiResponse{
              503, "text/plain; charset=utf-8", "tocsin is not ready: " + why + ".\n", {}});
        respond(ApiResponse{200, "text/plain; charset=utf-8", "tocsin is ready.\n", {}});
      },
      &public_health_);
  t.add(
      "GET", "/metrics", "read",
      [this](ApiRequest&, const Params&, const Query&, Respond respond) {
        read("metrics", std::move(respond), [this] {
          std::string text = metrics_.render();
          if (deliveries_.dispatcher) text += deliveries_.dispatcher->render_metrics();
          text += state_metrics();
          render_process_metrics(text);
          return ApiResponse{200, "text/plain; version=0.0.4; charset=utf-8", std::move(text), {}};
        });
      },
      &public_metrics_);

  // Incidents: reports in, the board out, a person's actions.
  t.add("POST", "/api/v1/incidents", "ingest",
        [this](ApiRequest& r, const Params&, const Query&, Respond respond) {
          create_incident(r, std::move(respond));
        });
  // The monitoring tools' own webhooks, as sources (integrations.cpp).
  t.add("POST", "/api/v1/integrations/alertmanager", "ingest",
        [this](ApiRequest& r, const Params&, const Query&, Respond respond) {
          alertmanager_webhook(r, std::move(respond));
        });
  // Public: the body's routing_key is the token, as PagerDuty's integration key is.
  t.add("POST", "/api/v1/integrations/pagerduty/enqueue", "",
        [this](ApiRequest& r, const Params&, const Query&, Respond respond) {
          pagerduty_enqueue(r, std::move(respond));
        });
  t.add("GET", "/api/v1/incidents", "read",
        [this](ApiRequest&, const Params&, const Query& q, Respond respond) {
          list_incidents(q, std::move(respond));
        });
  t.add("GET", "/api/v1/incidents/{id}", "read",
        [this](ApiRequest&, const Params& p, const Query&, Respond respond) {
          get_incident(p.at("id"), std::move(respond));
        });
  for (const char* action : {"ack", "resolve", "cancel", "escalate"})
    t.add("POST", std::string("/api/v1/incidents/{id}/") + action, "operate",
          [this, action](ApiRequest& r, const Params& p, const Query&, Respond respond) {
            incident_action(p.at("id"), action, r, std::move(respond));
          });
  for (bool preview : {false, true})
    t.add("POST",
          preview ? "/api/v1/incidents/{id}/compose/preview" : "/api/v1/incidents/{id}/compose",
          "operate",
          [this, preview](ApiRequest& r, const Params& p, const Query&, Respond respond) {
            compose_alert(p.at("id"), preview, r, std::move(respond));
          });
  t.add("GET", "/api/v1/compose", "read",
        [this](ApiRequest&, const Params&, const Query&, Respond respond) {
          auto set = library_.current();
          if (!set)
            return respond(error(503, Error{"unavailable", "no playbook set is loaded", ""}));
          std::function<bool(const std::string&)> configured;
          if (auto* d = deliveries_.dispatcher)
            configured = [d](const std::string& c) { return d->has_channel(c); };
          respond(json_response(200, compose::options(*set, configured)));
        });

  // Approvals and alerts.
  t.add("GET", "/api/v1/approvals", "read",
        [this](ApiRequest&, const Params&, const Query& q, Respond respond) {
          list_approvals(q, std::move(respond));
        });
  for (bool approve : {true, false})
    t.add("POST", approve ? "/api/v1/approvals/{id}/approve" : "/api/v1/approvals/{id}/reject",
          "approve",
          [this, approve](ApiRequest& r, const Params& p, const Query&, Respond respond) {
            approval_vote(p.at("id"), approve, r, std::move(respond));
          });
  t.add("GET", "/api/v1/alerts", "read",
        [this](ApiRequest&, const Params&, const Query& q, Respond respond) {
          list_alerts(q, std::move(respond));
        });
  t.add("GET", "/api/v1/alerts/{id}", "read",
        [this](ApiRequest&, const Params& p, const Query&, Respond respond) {
          const std::string& id = p.at("id");
          if (!is_ulid(id))
            return respond(
                error(404, Error{"not_found", "id: '" + id + "' is not an alert id", "id"}));
          get_alert(id, std::move(respond));
        });
  // Cancelling or correcting a public alert is operate: the safe action is the easy one.
  for (bool cancel : {true, false})
    t.add("POST", cancel ? "/api/v1/alerts/{id}/cancel" : "/api/v1/alerts/{id}/correct", "operate",
          [this, cancel](ApiRequest& r, const Params& p, const Query&, Respond respond) {
            alert_follow_up(p.at("id"), cancel ? "cancel" : "update", r, std::move(respond));
          });
  t.add(
      "GET", "/api/v1/sirens", "read",
      [this](ApiRequest&, const Params&, const Query&, Respond respond) {
        respond(ApiResponse{200,
                            "application/json",
                            deliveries_.sirens ? deliveries_.sirens->by_zone() : R"({"zones":[]})",
                            {}});
      });
  t.add("POST", "/api/v1/receipts/{channel}", "",  // public: the provider's signature is checked
        [this](ApiRequest& r, const Params& p, const Query&, Respond respond) {
          receipt(p.at("channel"), r, std::move(respond));
        });

  // Expected sources, maintenance windows, the audit trail, the playbooks.
  t.add("GET", "/api/v1/sources", "read",
        [this](ApiRequest&, const Params&, const Query&, Respond respond) {
          json::array list = sources_ ? sources_->list() : json::array{};
          respond(json_response(200, json::object{{"sources", std::move(list)}}));
        });
  t.add("POST", "/api/v1/sources/{id}/heartbeat", "ingest",
        [this](ApiRequest& r, const Params& p, const Query&, Respond respond) {
          const std::string& id = p.at("id");
          if (r.principal && !r.principal->may_report_as(id))
            return respond(error(
                403,
                Error{"forbidden", "source: " + r.principal->id + " may not report as '" + id + "'",
                      "source"}));
          if (!sources_ || !sources_->expects(id))
            return respond(
                error(404, Error{"not_found", "source: '" + id + "' is not in the expected sources",
                                 "source"}));
          sources_->seen(id);
          respond(json_response(200, json::object{{"source", id}, {"seen", true}}));
        });
  t.add("POST", "/api/v1/silences", "operate",
        [this](ApiRequest& r, const Params&, const Query&, Respond respond) {
          create_silence(r, std::move(respond));
        });
  t.add("GET", "/api/v1/silences", "read",
        [this](ApiRequest&, const Params&, const Query& q, Respond respond) {
          list_silences(q, std::move(respond));
        });
  t.add("POST", "/api/v1/silences/{id}/expire", "operate",
        [this](ApiRequest& r, const Params& p, const Query&, Respond respond) {
          expire_silence(p.at("id"), r, std::move(respond));
        });
  // One-tap links from staff pages: public, the signed token is the credential; GET shows, POST
  // acknowledges.
  t.add("GET", "/a/{token}", "",
        [this](ApiRequest&, const Params& p, const Query&, Respond respond) {
          one_tap(p.at("token"), false, std::move(respond));
        });
  t.add("POST", "/a/{token}", "",
        [this](ApiRequest&, const Params& p, const Query&, Respond respond) {
          one_tap(p.at("token"), true, std::move(respond));
        });
  // The residents' own pages: public; a contact's code or link, then a signed cookie, is the
  // credential (resident_pages.cpp).
  t.add("GET", "/residents", "",
        [this](ApiRequest& r, const Params&, const Query&, Respond respond) {
          residents_home(r, std::move(respond));
        });
  t.add("POST", "/residents/signup", "",
        [this](ApiRequest& r, const Params&, const Query&, Respond respond) {
          resident_sign_up(r, std::move(respond));
        });
  t.add("GET", "/residents/confirm/{id}", "",
        [this](ApiRequest& r, const Params& p, const Query&, Respond respond) {
          resident_confirm(p.at("id"), r, false, std::move(respond));
        });
  t.add("POST", "/residents/confirm/{id}", "",
        [this](ApiRequest& r, const Params& p, const Query&, Respond respond) {
          resident_confirm(p.at("id"), r, true, std::move(respond));
        });
  t.add("GET", "/residents/email/{id}", "",
        [this](ApiRequest& r, const Params& p, const Query&, Respond respond) {
          resident_email(p.at("id"), r, std::move(respond));
        });
  t.add("GET", "/residents/me", "",
        [this](ApiRequest& r, const Params&, const Query&, Respond respond) {
          resident_me(r, std::move(respond));
        });
  t.add("GET", "/residents/me/data.json", "",
        [this](ApiRequest& r, const Params&, const Query&, Respond respond) {
          resident_data(r, std::move(respond));
        });
  t.add("POST", "/residents/me", "",
        [this](ApiRequest& r, const Params&, const Query&, Respond respond) {
          resident_update(r, std::move(respond));
        });
  t.add("POST", "/residents/me/places", "",
        [this](ApiRequest& r, const Params&, const Query&, Respond respond) {
          resident_add_place(r, std::move(respond));
        });
  t.add("POST", "/residents/me/places/remove", "",
        [this](ApiRequest& r, const Params&, const Query&, Respond respond) {
          resident_remove_place(r, std::move(respond));
        });
  t.add("GET", "/residents/unsubscribe/{token}", "",
        [this](ApiRequest& r, const Params& p, const Query&, Respond respond) {
          resident_unsubscribe(p.at("token"), r, false, std::move(respond));
        });
  t.add("POST", "/residents/unsubscribe/{token}", "",
        [this](ApiRequest& r, const Params& p, const Query&, Respond respond) {
          resident_unsubscribe(p.at("token"), r, true, std::move(respond));
        });
  t.add("POST", "/residents/me/resume", "",
        [this](ApiRequest& r, const Params&, const Query&, Respond respond) {
          resident_resume(r, std::move(respond));
        });
  t.add("GET", "/alerts", "", [this](ApiRequest&, const Params&, const Query& q, Respond respond) {
    public_alerts_page(q, std::move(respond));
  });
  t.add("GET", "/alerts/live.js", "",
        [this](ApiRequest&, const Params&, const Query&, Respond respond) {
          public_alerts_script(std::move(respond));
        });
  t.add("GET", "/alerts/stats", "",
        [this](ApiRequest&, const Params&, const Query& q, Respond respond) {
          public_stats_page(q, false, std::move(respond));
        });
  t.add("GET", "/api/v1/public/stats", "",
        [this](ApiRequest&, const Params&, const Query& q, Respond respond) {
          public_stats_page(q, true, std::move(respond));
        });
  t.add("GET", "/api/v1/public/alerts", "",
        [this](ApiRequest&, const Params&, const Query& q, Respond respond) {
          public_alerts_json(q, std::move(respond));
        });
  t.add("GET", "/residents/map.svg", "",
        [this](ApiRequest& r, const Params&, const Query&, Respond respond) {
          residents_map(r, std::move(respond));
        });
  t.add("POST", "/residents/me/delete", "",
        [this](ApiRequest& r, const Params&, const Query&, Respond respond) {
          resident_erase(r, std::move(respond));
        });
  t.add("GET", "/residents/signin", "",
        [this](ApiRequest& r, const Params&, const Query&, Respond respond) {
          resident_sign_in(r, false, std::move(respond));
        });
  t.add("POST", "/residents/signin", "",
        [this](ApiRequest& r, const Params&, const Query&, Respond respond) {
          resident_sign_in(r, true, std::move(respond));
        });
  t.add("POST", "/api/v1/inbound/sms", "",  // public: the provider's signature is checked
        [this](ApiRequest& r, const Params&, const Query&, Respond respond) {
          inbound_sms(r, std::move(respond));
        });
  // On call: who is, over the coming days, and the overrides made here.
  t.add("GET", "/api/v1/schedules", "read",
        [this](ApiRequest&, const Params&, const Query&, Respond respond) {
          list_schedules(std::move(respond));
        });
  t.add("GET", "/api/v1/schedules/{id}/on-call", "read",
        [this](ApiRequest&, const Params& p, const Query& q, Respond respond) {
          who_is_on_call(p.at("id"), q, std::move(respond));
        });
  t.add("GET", "/api/v1/schedules/{id}/shifts", "read",
        [this](ApiRequest&, const Params& p, const Query& q, Respond respond) {
          schedule_shifts(p.at("id"), q, std::move(respond));
        });
  t.add("GET", "/api/v1/schedules/{id}/overrides", "read",
        [this](ApiRequest&, const Params& p, const Query&, Respond respond) {
          list_overrides(p.at("id"), std::move(respond));
        });
  t.add("POST", "/api/v1/schedules/{id}/overrides", "operate",
        [this](ApiRequest& r, const Params& p, const Query&, Respond respond) {
          create_override(p.at("id"), r, std::move(respond));
        });
  t.add("POST", "/api/v1/schedules/{id}/overrides/{override}/cancel", "operate",
        [this](ApiRequest& r, const Params& p, const Query&, Respond respond) {
          cancel_override(p.at("id"), p.at("override"), r, std::move(respond));
        });
  t.add("GET", "/api/v1/audit", "admin",
        [this](ApiRequest&, const Params&, const Query& q, Respond respond) {
          list_audit(q, std::move(respond));
        });
  t.add("GET", "/api/v1/playbooks", "read",
        [this](ApiRequest&, const Params&, const Query&, Respond respond) {
          list_playbooks(std::move(respond));
        });
  t.add("POST", "/api/v1/playbooks/reload", "admin",
        [this](ApiRequest&, const Params&, const Query&, Respond respond) {
          reload_playbooks(std::move(respond));
        });
}

std::optional<ApiResponse> Api::refusal(ApiRequest& request, const std::string& scope) const {
  // Every route but the public ones needs a session or a token with the route's scope; a
  // session's state-changing request also needs its CSRF token and, if the browser says where it
  // comes from, this origin.
  if (!auth_) return error(503, Error{"unavailable", "authentication is not set up", ""});
  request.principal = auth_->identify(request.headers);
  if (!request.principal) {
    auto r = error(401, Error{"unauthenticated",
                              "sign in (POST /api/v1/login) or send Authorization: Bearer TOKEN",
                              "Authorization"});
    r.headers["WWW-Authenticate"] = "Bearer realm=\"tocsin\"";
    return r;
  }
  const Principal& who = *request.principal;
  if (!who.can(scope))
    return error(403, Error{"forbidden",
                            who.id + (who.role.empty() ? "" : " (" + who.role + ")") +
                                " may not do this: it needs the '" + scope + "' scope",
                            "Authorization", "missing_scope"});
  const std::string& m = request.method;
  if (who.kind == "user" && m != "GET" && m != "HEAD") {
    auto header = [&](const char* n) {
      auto it = request.headers.find(n);
      return it == request.headers.end() ? std::string() : it->second;
    };
    std::string origin = header("origin");
    if (auth_ && !auth_->origin_allowed(origin, header("host")))
      return error(403, Error{"cross_origin",
                              "Origin: " + origin.substr(0, 256) +
                                  " is not the console's (http.public_origin)",
                              "Origin"});
    std::string csrf = header("x-csrf-token");  // compared in constant time
    if (csrf.size() != who.csrf.size() ||
        sodium_memcmp(csrf.data(), who.csrf.data(), csrf.size()) != 0)
      return error(403,
                   Error{"csrf", "X-CSRF-Token: missing or wrong (GET /api/v1/session gives it)",
                         "X-CSRF-Token"});
  }
  return std::nullopt;
}

namespace {

// A respond that answers once: a handler that answered and then threw is not answered twice.
Respond answer_once(Respond respond) {
  auto answered = std::make_shared<std::atomic<bool>>(false);
  return [answered, respond = std::move(respond)](ApiResponse r) {
    if (!answered->exchange(true)) respond(std::move(r));
  };
}

}  // namespace

void Api::failed(std::string_view what, const std::exception& e, Respond& respond) {
  const bool storage = dynamic_cast<const db::Failure*>(&e) != nullptr;
  spdlog::error("api: {} failed: {}", what, without_personal_data(e.what()));
  if (storage)
    respond(error(503, Error{"storage_unavailable", "the journal could not be read; retry", ""}));
  else
    respond(error(500, Error{"internal",
                             "the server failed on this request (it is logged); "
                             "retry, and report it if it persists",
                             ""}));
}

void Api::handle(ApiRequest request, Respond respond) {
  respond = answer_once(std::move(respond));
  try {
    dispatch(request, respond);
  } catch (const std::exception& e) {
    std::string_view target = request.target;
    failed(request.method + " " + std::string(target.substr(0, target.find('?'))), e, respond);
  }
}

// What the board would count, for /metrics (on the reads thread: it asks SQLite).
std::string Api::state_metrics() const {
  std::string out;
  auto [active, pending] = store_.with_connection([](db::Connection& db) {
    auto count = [&db](const char* sql) {
      auto q = db.prepare(sql);
      return q.step() ? q.integer(0) : 0;
    };
    return std::pair{count("SELECT count(*) FROM incidents WHERE state = 'active'"),
                     count("SELECT count(*) FROM approvals WHERE status = 'pending'")};
  });
  render_header(out, "tocsin_build_info", "gauge", "This build: its version and commit.");
  render_sample(out, "tocsin_build_info",
                std::string("version=\"") + kVersion + "\",revision=\"" + kRevision + "\"", 1);
  render_header(out, "tocsin_incidents_active", "gauge", "Incidents active now.");
  render_sample(out, "tocsin_incidents_active", "", double(active));
  render_header(out, "tocsin_approvals_pending", "gauge", "Approvals waiting for a person.");
  render_sample(out, "tocsin_approvals_pending", "", double(pending));
  render_header(out, "tocsin_sources_silent", "gauge",
                "Expected sources silent past their grace (ingest.sources).");
  render_sample(out, "tocsin_sources_silent", "", double(sources_ ? sources_->silent() : 0));
  render_header(out, "tocsin_sirens_unreachable", "gauge",
                "Siren controllers whose last poll did not reach them.");
  render_sample(out, "tocsin_sirens_unreachable", "",
                double(deliveries_.sirens ? deliveries_.sirens->unreachable() : 0));
  return out;
}

void Api::dispatch(ApiRequest& request, Respond& respond) {
  std::string_view target = request.target;
  auto qmark = target.find('?');
  std::string_view path = target.substr(0, qmark);
  // HEAD is GET without its body (the HTTP session sends the header only).
  auto found = routes_.match(request.method == "HEAD" ? "GET" : request.method, path);
  if (!found.path_route)
    return respond(
        error(404, Error{"not_found", "path: no such resource " + std::string(path), "path"}));
  // A wrong method is told which are right only to whoever may use the path.
  const auto& route = found.route ? *found.route : *found.path_route;
  if (std::string scope = route.needs(); !scope.empty())
    if (auto refused = refusal(request, scope)) return respond(std::move(*refused));
  if (!found.route) return respond(method_not_allowed(found.allow));
  Query query = parse_query(qmark == std::string_view::npos ? "" : target.substr(qmark + 1));
  faults::point("api.handler");
  found.route->handler(request, found.params, query, respond);
}

void Api::off_thread(const char* what, Respond respond, std::function<void(Respond&)> job) {
  reads_.post([what, respond = std::move(respond), job = std::move(job)]() mutable {
    try {
      faults::point("api.off_thread");
      job(respond);
    } catch (const std::exception& e) {
      failed(what, e, respond);
    }
  });
}

void Api::read(const char* what, Respond respond, std::function<ApiResponse()> query) {
  off_thread(what, std::move(respond),
             [query = std::move(query)](Respond& respond) { respond(query()); });
}

}  // namespace tocsin
