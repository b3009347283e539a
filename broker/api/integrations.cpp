// /api/v1/integrations: the monitoring tools a city runs, as sources: Alertmanager's webhook and
// PagerDuty's Events API v2. Alertmanager's webhook: a
// firing alert is a report (created, or updating the incident of its fingerprint), a resolved
// one resolves that incident. Answered once every alert of the notification is durable, so that
// Alertmanager sends the notification again after any failure.
#include "broker/api/api.hpp"

#include <mutex>

#include <boost/json.hpp>

#include "broker/api/responses.hpp"
#include "broker/watch/source_watch.hpp"
#include "core/json_body.hpp"
#include "core/ulid.hpp"

namespace tocsin {

namespace json = boost::json;

namespace {

// The alerts of one notification, answered together once the last is durable.
struct Notification {
  std::mutex mutex;
  json::array results;
  std::size_t left = 0;
  std::optional<Error> failure;  // the first failure: the whole notification is answered by it
  Respond respond;

  void done(std::size_t i, json::object result, std::optional<Error> failed) {
    std::lock_guard lock(mutex);
    results[i] = std::move(result);
    if (failed && !failure) failure = std::move(failed);
    if (--left) return;
    if (failure) return respond(Api::error(status_for(*failure), *failure));
    respond(json_response(200, json::object{{"alerts", std::move(results)}}));
  }
};

}  // namespace

void Api::alertmanager_webhook(const ApiRequest& request, Respond respond) {
  if (auto e = require_json(request.content_type)) return respond(error(415, *e));
  auto alerts = from_alertmanager(request.body, alertmanager_, limits_);
  if (!alerts) {
    metrics_.rejected(alerts.error().code);
    return respond(error(alerts.error().code == "too_large" ? 413 : 400, alerts.error()));
  }
  const Principal& who = *request.principal;
  if (!who.may_report_as(alertmanager_.source))
    return respond(
        error(403, Error{"forbidden",
                         "source: " + who.id + " may not report as '" + alertmanager_.source +
                             "' (integrations.alertmanager.source)",
                         "source"}));
  if (alerts->empty()) return respond(json_response(200, json::object{{"alerts", json::array()}}));
  if (sources_) sources_->seen(alertmanager_.source);

  auto note = std::make_shared<Notification>();
  note->results.resize(alerts->size());
  note->left = alerts->size();
  note->respond = std::move(respond);
  for (std::size_t i = 0; i < alerts->size(); ++i) {
    auto& alert = (*alerts)[i];
    json::object result{{"fingerprint", alert.fingerprint},
                        {"status", alert.resolved ? "resolved" : "firing"}};
    if (!alert.resolved) {
      metrics_.received_http.inc();
      journal_.submit(std::move(alert.report), [note, i, result](Result<Accepted> r) mutable {
        if (!r) return note->done(i, std::move(result), r.error());
        result["id"] = r->incident_id;
        result["result"] = r->folded ? "folded" : r->created ? "created" : "updated";
        note->done(i, std::move(result), std::nullopt);
      });
      continue;
    }
    // Resolved: the active incident of its fingerprint, if any is left (a resolution for an
    // alert resolved already, or never seen, changes nothing and is no error: Alertmanager would
    // only send it again).
    IncidentAction action{"", "resolve", acting_as(who), "resolved in Alertmanager",
                          who.kind == "token" && !who.person.empty() ? who.id : ""};
    action.only_sources = {alertmanager_.source};
    action.dedup_key = alert.fingerprint;
    journal_.act(std::move(action), [note, i, result](Result<ActionDone> r) mutable {
      if (!r && (r.error().code == "not_found" || r.error().code == "conflict")) {
        result["result"] = "unknown";
        return note->done(i, std::move(result), std::nullopt);
      }
      if (!r) return note->done(i, std::move(result), r.error());
      result["id"] = r->incident_id;
      result["result"] = r->state;
      note->done(i, std::move(result), std::nullopt);
    });
  }
}

namespace {

// PagerDuty's answer to an event it refuses, with Tocsin's error beside it (the field it names).
ApiResponse invalid_event(int status, const std::vector<std::string>& problems, const Error& e) {
  json::array errors;
  for (const auto& p : problems) errors.emplace_back(p);
  if (errors.empty()) errors.emplace_back(e.message);
  json::object error{{"code", e.code}, {"message", e.message}};
  error["field"] = e.field.empty() ? json::value(nullptr) : json::value(e.field);
  return json_response(status, json::object{{"status", "invalid event"},
                                            {"message", "Event object is invalid"},
                                            {"errors", std::move(errors)},
                                            {"error", std::move(error)}});
}

ApiResponse processed(const std::string& dedup_key) {
  return json_response(
      202, json::object{
               {"status", "success"}, {"message", "Event processed"}, {"dedup_key", dedup_key}});
}

}  // namespace

// PagerDuty's Events API v2 (POST /v2/enqueue), for the tools that speak it: the routing key is
// a Tocsin token with ingest; trigger reports, acknowledge and resolve act on the active incident
// of the dedup key. Answered 202 once durable, as PagerDuty answers once it has the event.
void Api::pagerduty_enqueue(const ApiRequest& request, Respond respond) {
  if (auto e = require_json(request.content_type)) return respond(error(415, *e));
  std::vector<std::string> problems;
  auto event = from_pagerduty(request.body, pagerduty_, limits_, problems);
  if (!event) {
    metrics_.rejected(event.error().code);
    return respond(
        invalid_event(event.error().code == "too_large" ? 413 : 400, problems, event.error()));
  }
  if (!auth_) return respond(error(503, Error{"unavailable", "authentication is not set up", ""}));
  auto who = auth_->identify({{"authorization", "Bearer " + event->routing_key}});
  if (!who || !who->can("ingest")) {
    metrics_.rejected("unauthenticated");
    Error e{"unauthenticated",
            "routing_key: not a token of this server with the ingest scope (tocsin token add "
            "NAME --scope ingest --sources GLOBS)",
            "routing_key"};
    return respond(invalid_event(400, {e.message}, e));
  }
  if (event->action == "trigger") {
    Incident& report = event->report;
    if (!who->may_report_as(report.source)) {
      Error e{"forbidden",
              "payload.source: " + who->id + " may not report as '" + report.source + "'",
              "payload.source"};
      return respond(invalid_event(403, {e.message}, e));
    }
    // No dedup key: a new one, returned for the acknowledge and resolve that follow.
    if (event->dedup_key.empty()) report.dedup_key = UlidGenerator().next();
    std::string key = report.dedup_key;
    if (sources_) sources_->seen(report.source);
    metrics_.received_http.inc();
    journal_.submit(std::move(report), [key, respond = std::move(respond)](Result<Accepted> r) {
      if (!r) return respond(error(status_for(r.error()), r.error()));
      respond(processed(key));
    });
    return;
  }
  IncidentAction action{"", event->action == "acknowledge" ? "ack" : "resolve", acting_as(*who),
                        "via the PagerDuty Events API",
                        who->kind == "token" && !who->person.empty() ? who->id : ""};
  action.only_sources = who->sources;  // the events of its own sources, as PagerDuty's routing key
  action.dedup_key = event->dedup_key;
  journal_.act(std::move(action),
               [key = event->dedup_key, respond = std::move(respond)](Result<ActionDone> r) {
                 // An event for an alert no longer open is dropped, and still accepted (as
                 // PagerDuty does); only a failure to store is an error.
                 if (!r && r.error().code != "not_found" && r.error().code != "conflict" &&
                     r.error().code != "forbidden")
                   return respond(error(status_for(r.error()), r.error()));
                 respond(processed(key));
               });
}

}  // namespace tocsin
