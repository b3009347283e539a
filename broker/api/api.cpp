#include "broker/api/api.hpp"

#include "broker/api/routes.hpp"

#include <spdlog/spdlog.h>
#include <algorithm>
#include <boost/json.hpp>
#include <fstream>
#include <iterator>

#include "broker/deliveries/delivery_ledger.hpp"
#include "broker/journal/audit.hpp"
#include "broker/runs/compose.hpp"
#include "broker/runs/follow_up.hpp"
#include "broker/watch/source_watch.hpp"
#include "core/json_body.hpp"
#include "core/ulid.hpp"

namespace tocsin {

namespace json = boost::json;

namespace {

ApiResponse json_response(int status, const json::value& v) {
  return ApiResponse{status, "application/json", json::serialize(v) + "\n", {}};
}

int status_for(const Error& e) {
  if (e.code == "not_found") return 404;
  if (e.code == "conflict") return 409;
  if (e.code == "forbidden") return 403;
  if (e.code == "unprocessable" || e.code == "confirmation_required") return 422;
  if (e.code == "unavailable") return 503;
  if (e.code == "unsupported_media_type") return 415;
  if (e.code == "too_large") return 413;
  if (e.code == "storage_unavailable") return 503;
  return 400;
}

ApiResponse method_not_allowed(const std::string& allow) {
  auto r = Api::error(405, Error{"method_not_allowed", "method: use " + allow, "method"});
  r.headers["Allow"] = allow;
  return r;
}

}  // namespace

Api::Api(Journal& journal, IncidentStore& store, const IncidentLimits& limits,
         BrokerMetrics& metrics, HealthReport health, PlaybookLibrary& library)
    : journal_(journal),
      store_(store),
      limits_(limits),
      metrics_(metrics),
      health_(std::move(health)),
      library_(library) {
  routes();
}

Api::~Api() {
  reads_.stop();
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
        [](ApiRequest& r, const Params&, const Query&, Respond respond) {
          const Principal& who = *r.principal;
          json::array scopes;
          for (const auto& s : who.scopes) scopes.emplace_back(s);
          json::object o{{"id", who.id},
                         {"kind", who.kind},
                         {"role", who.role},
                         {"language", who.language},
                         {"scopes", std::move(scopes)}};
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
  t.add(
      "GET", "/health", "read",
      [this](ApiRequest&, const Params&, const Query&, Respond respond) {
        respond(ApiResponse{200, "application/json", health_() + "\n", {}});
      },
      &public_health_);
  t.add(
      "GET", "/metrics", "read",
      [this](ApiRequest&, const Params&, const Query&, Respond respond) {
        std::string text = metrics_.render();
        if (deliveries_.metrics) text += deliveries_.metrics();
        respond(ApiResponse{200, "text/plain; version=0.0.4; charset=utf-8", std::move(text), {}});
      },
      &public_metrics_);

  // Incidents: reports in, the board out, a person's actions.
  t.add("POST", "/api/v1/incidents", "ingest",
        [this](ApiRequest& r, const Params&, const Query&, Respond respond) {
          create_incident(r, std::move(respond));
        });
  t.add("GET", "/api/v1/incidents", "read",
        [this](ApiRequest&, const Params&, const Query& q, Respond respond) {
          list_incidents(q, std::move(respond));
        });
  t.add("GET", "/api/v1/incidents/{id}", "read",
        [this](ApiRequest&, const Params& p, const Query&, Respond respond) {
          get_incident(p.at("id"), std::move(respond));
        });
  for (const char* action : {"ack", "resolve", "cancel"})
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
          respond(json_response(200, compose::options(*set, deliveries_.has_channel)));
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
  t.add("GET", "/api/v1/sirens", "read",
        [this](ApiRequest&, const Params&, const Query&, Respond respond) {
          respond(ApiResponse{200,
                              "application/json",
                              deliveries_.sirens ? deliveries_.sirens() : R"({"zones":[]})",
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
        [this](ApiRequest&, const Params& p, const Query&, Respond respond) {
          const std::string& id = p.at("id");
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
    std::string origin = header("origin"), host = header("host");
    if (!origin.empty() && origin != "http://" + host && origin != "https://" + host)
      return error(403,
                   Error{"cross_origin", "Origin: " + origin + " is not this server", "Origin"});
    std::string csrf = header("x-csrf-token");
    if (csrf.size() != who.csrf.size() || !std::equal(csrf.begin(), csrf.end(), who.csrf.begin()))
      return error(403,
                   Error{"csrf", "X-CSRF-Token: missing or wrong (GET /api/v1/session gives it)",
                         "X-CSRF-Token"});
  }
  return std::nullopt;
}

void Api::handle(ApiRequest request, Respond respond) {
  std::string_view target = request.target;
  auto qmark = target.find('?');
  std::string_view path = target.substr(0, qmark);
  auto found = routes_.match(request.method, path);
  if (!found.path_route)
    return respond(
        error(404, Error{"not_found", "path: no such resource " + std::string(path), "path"}));
  // A wrong method is told which are right only to whoever may use the path.
  const auto& route = found.route ? *found.route : *found.path_route;
  if (std::string scope = route.needs(); !scope.empty())
    if (auto refused = refusal(request, scope)) return respond(std::move(*refused));
  if (!found.route) return respond(method_not_allowed(found.allow));
  Query query = parse_query(qmark == std::string_view::npos ? "" : target.substr(qmark + 1));
  found.route->handler(request, found.params, query, std::move(respond));
}

void Api::create_incident(ApiRequest& request, Respond respond) {
  metrics_.received_http.inc();
  if (auto e = require_json(request.content_type)) {
    metrics_.rejected(e->code);
    return respond(error(415, *e));
  }
  // A signed-in person reports as themself: they are the incident's source (and so its
  // initiator, who may not approve its public alert).
  std::string body = request.body;
  if (request.principal && request.principal->kind == "user" && body.size() <= limits_.max_bytes) {
    boost::system::error_code ec;
    auto v = json::parse(body, ec);
    if (!ec && v.is_object()) {
      v.as_object()["source"] = request.principal->id;
      body = json::serialize(v);
    }
  }
  auto parsed = parse_incident(body, limits_);
  if (!parsed) {
    metrics_.rejected(parsed.error().code);
    return respond(error(parsed.error().code == "too_large" ? 413 : 400, parsed.error()));
  }
  if (sources_) sources_->seen(parsed->source);
  std::string status(to_string(parsed->status));
  journal_.submit(std::move(parsed.value()),
                  [this, status, respond = std::move(respond)](Result<Accepted> r) {
                    if (!r) {
                      metrics_.rejected(r.error().code);
                      return respond(error(503, r.error()));
                    }
                    auto resp = json_response(r->created ? 201 : 200, [&] {
                      json::object o{{"id", r->incident_id},
                                     {"result", r->folded    ? "folded"
                                                : r->created ? "created"
                                                             : "updated"}};
                      if (!r->silenced_by.empty()) o["silenced_by"] = r->silenced_by;
                      o["status"] = status;  // CAP: actual, exercise…
                      return o;
                    }());
                    resp.headers["Location"] = "/api/v1/incidents/" + r->incident_id;
                    respond(std::move(resp));
                  });
}

void Api::list_incidents(const std::map<std::string, std::string>& query, Respond respond) {
  std::string state = "active";
  if (auto it = query.find("state"); it != query.end()) state = it->second;
  if (state == "all") state.clear();
  if (!state.empty() && state != "active" && state != "resolved" && state != "cancelled")
    return respond(error(
        400,
        Error{"invalid_value",
              "state: '" + state + "' is not one of active, resolved, cancelled, all", "state"}));
  std::size_t limit = 100;
  if (auto it = query.find("limit"); it != query.end()) {
    try {
      limit = std::stoul(it->second);
    } catch (...) {
      limit = 0;
    }
    if (limit < 1 || limit > 1000)
      return respond(
          error(400, Error{"invalid_value", "limit: must be between 1 and 1000", "limit"}));
  }
  read("listing incidents", std::move(respond), [this, state, limit] {
    json::array items;
    for (const auto& rec : store_.list(state, limit)) items.push_back(to_json(rec));
    return json_response(200, json::object{{"incidents", std::move(items)}});
  });
}

void Api::read(const char* what, Respond respond, std::function<ApiResponse()> query) {
  reads_.post([what, respond = std::move(respond), query = std::move(query)] {
    try {
      respond(query());
    } catch (const std::exception& e) {
      spdlog::error("api: {} failed: {}", what, e.what());
      respond(error(503, Error{"storage_unavailable", "the journal could not be read", ""}));
    }
  });
}

void Api::get_incident(const std::string& id, Respond respond) {
  read("reading an incident", std::move(respond), [this, id] {
    auto rec = store_.get(id);
    if (!rec) return error(404, Error{"not_found", "id: no incident " + id, "id"});
    auto o = to_json(*rec);
    json::array events;
    for (const auto& e : store_.events(id, 1000))
      events.push_back(json::object{{"seq", e.seq},
                                    {"at", format_rfc3339(e.at)},
                                    {"kind", e.kind},
                                    {"actor", e.actor},
                                    {"report", json::parse(e.body)}});
    o["events"] = std::move(events);
    o["runs"] = store_.runs(id);
    o["alerts"] = store_.alerts(id, 1000);
    return json_response(200, o);
  });
}

namespace {

// Who acts: the person, their words, and the machine's token that acted for them, if any
// ("token:NAME": the audit's actor).
struct Actor {
  std::string by, note, via;
};

// {"by": "person", "note": "…"}: who acts. A signed-in user acts as themself (`by` may be left
// out, and may not name someone else); a machine's token names the person it acts for. With
// `confirm`, the body may also carry {"confirm": "LIVE"} (a vote on a live alert); with `notes`,
// {"notes": {"fr": "…", "en": "…"}} (a correction in each language's own words, instead of note).
Result<Actor> actor_of(const ApiRequest& request, std::string* confirm = nullptr,
                       std::map<std::string, std::string>* notes = nullptr) {
  if (auto e = require_json(request.content_type)) return *e;
  auto v = json_object_body(request.body, 8192);
  if (!v) return v.error();
  const auto& o = v.value().get_object();
  FieldReader f(o);
  for (const auto& kv : o)
    if (kv.key() != "by" && kv.key() != "note" && !(confirm && kv.key() == "confirm") &&
        !(notes && kv.key() == "notes"))
      return field_error("unknown_field", std::string(kv.key()), "is not a known field");
  auto* by = o.if_contains("by");
  std::string note;
  if (auto e = f.text("note", false, 2048, note, true)) return *e;
  if (notes && o.contains("notes")) {
    if (!note.empty())
      return field_error("invalid", "notes",
                         "give note (every language) or notes (each), not both");
    if (auto e = f.by_language("notes", {"fr", "en"}, 2048, *notes)) return *e;
  }
  if (confirm)
    if (auto e = f.text("confirm", false, 64, *confirm)) return *e;
  if (request.principal && request.principal->kind == "user") {
    if (by && (!by->is_string() || by->as_string() != request.principal->id))
      return Error{"forbidden", "by: a signed-in user acts as themself", "by"};
    return Actor{request.principal->id, note, ""};
  }
  if (!by) return Error{"missing_field", "by: is required (who does this)", "by"};
  std::string who;
  if (auto e = f.text("by", true, 128, who)) return *e;
  std::string via = request.principal && request.principal->kind == "token" ? request.principal->id
                                                                            : std::string();
  return Actor{who, note, via};
}

}  // namespace

void Api::incident_action(const std::string& id, const std::string& kind, const ApiRequest& request,
                          Respond respond) {
  auto actor = actor_of(request);
  if (!actor) return respond(error(status_for(actor.error()), actor.error()));
  journal_.act(
      IncidentAction{id, kind, actor->by, actor->note, actor->via},
      [respond = std::move(respond)](Result<ActionDone> r) {
        if (!r) return respond(error(status_for(r.error()), r.error()));
        respond(json_response(200, json::object{{"id", r->incident_id}, {"result", r->state}}));
      });
}

void Api::approval_vote(const std::string& id, bool approve, const ApiRequest& request,
                        Respond respond) {
  if (!is_ulid(id))
    return respond(error(404, Error{"not_found", "id: '" + id + "' is not an approval id", "id"}));
  std::string confirm;
  auto actor = actor_of(request, &confirm);
  if (!actor) return respond(error(status_for(actor.error()), actor.error()));
  const VoteProof proof{compose::is_live_word(confirm),
                        request.principal && request.principal->kind == "user", actor->via};
  journal_.vote(id, actor->by, approve, proof,
                [id, respond = std::move(respond)](Result<std::string> r) {
                  if (!r) return respond(error(status_for(r.error()), r.error()));
                  respond(json_response(200, json::object{{"id", id}, {"status", r.value()}}));
                });
}

void Api::list_approvals(const std::map<std::string, std::string>& query, Respond respond) {
  std::string state = "pending";
  if (auto it = query.find("state"); it != query.end())
    state = it->second == "all" ? "" : it->second;
  read("listing approvals", std::move(respond), [this, state] {
    return json_response(200, json::object{{"approvals", store_.approvals(state, 500)}});
  });
}

void Api::list_alerts(const std::map<std::string, std::string>& query, Respond respond) {
  auto it = query.find("incident");
  if (it == query.end() || !is_ulid(it->second))
    return respond(error(400, Error{"invalid_value", "incident: give an incident id", "incident"}));
  read("listing alerts", std::move(respond), [this, id = it->second] {
    return json_response(200, json::object{{"alerts", store_.alerts(id, 1000)}});
  });
}

void Api::get_alert(const std::string& id, Respond respond) {
  read("reading an alert", std::move(respond), [this, id] {
    auto alert = store_.alert(id, 1000);
    if (!alert) return error(404, Error{"not_found", "id: no alert " + id, "id"});
    return json_response(200, json::object{{"alert", std::move(*alert)}});
  });
}

// A provider's delivery receipt (for SMS, Twilio's signed status callback): only a receipt its
// provider signed changes a delivery.
void Api::receipt(const std::string& channel, const ApiRequest& request, Respond respond) {
  const channels::Receipts* receipts =
      deliveries_.ledger && deliveries_.receipts ? deliveries_.receipts(channel) : nullptr;
  if (!receipts)
    return respond(error(404, Error{"not_found",
                                    "channel '" + channel.substr(0, 32) +
                                        "': no provider with receipts is configured",
                                    ""}));
  auto read = receipts->read(request.body, request.headers);
  if (!read) {
    const Error& e = read.error();
    if (e.code == "bad_signature") {
      metrics_.rejected("bad_signature");
      return respond(error(403, e));
    }
    return respond(error(400, e));
  }
  const channels::Receipt& got = read.value();
  if (!got.state) return respond(ApiResponse{204, "application/json", "", {}});  // queued, sent…
  deliveries_.ledger->receipt(
      channel, got.provider_ref, *got.state, got.reason,
      [respond, failed = deliveries_.failed_by_receipt](std::optional<Delivery> d) {
        if (d && d->state == DeliveryState::failed && failed) failed(*d);
        respond(json_response(200, json::object{{"updated", d.has_value()}}));
      });
}

namespace {
json::value playbook_list(const std::shared_ptr<const ActivePlaybooks>& set) {
  json::array items;
  if (set)
    for (const auto& p : set->playbooks)
      items.push_back(json::object{{"id", p.id},
                                   {"description", p.description},
                                   {"file", p.file},
                                   {"hash", p.hash},
                                   {"steps", p.steps.size()}});
  json::object o{{"playbooks", std::move(items)}};
  o["loaded_at"] = set ? json::value(format_rfc3339(set->loaded_at)) : json::value(nullptr);
  return o;
}
}  // namespace

void Api::list_playbooks(Respond respond) {
  respond(json_response(200, playbook_list(library_.current())));
}

void Api::reload_playbooks(Respond respond) {
  // Reading and validating files blocks: off the HTTP threads.
  reads_.post([this, respond = std::move(respond)] {
    auto errors = library_.reload();
    if (!errors.empty()) {
      json::array list;
      for (const auto& e : errors) list.emplace_back(e);
      return respond(json_response(
          422,
          json::object{
              {"error", json::object{{"code", "invalid_playbooks"},
                                     {"message", "the set was not loaded; the running set stays: " +
                                                     errors.front()},
                                     {"field", nullptr},
                                     {"errors", std::move(list)}}}}));
    }
    respond(json_response(200, playbook_list(library_.current())));
  });
}

namespace {

Result<json::value> json_body(const ApiRequest& request) {
  if (auto e = require_json(request.content_type)) return *e;
  return json_object_body(request.body, 64 * 1024);
}

std::int64_t query_int(const std::map<std::string, std::string>& q, const char* key,
                       std::int64_t fallback, std::int64_t max) {
  auto it = q.find(key);
  if (it == q.end()) return fallback;
  try {
    return std::clamp<std::int64_t>(std::stoll(it->second), 0, max);
  } catch (const std::exception&) {
    return fallback;
  }
}

}  // namespace

void Api::create_silence(const ApiRequest& request, Respond respond) {
  auto body = json_body(request);
  if (!body) return respond(error(status_for(body.error()), body.error()));
  if (request.principal && request.principal->kind == "user" && body->is_object()) {
    auto& o = body->as_object();
    if (auto* a = o.if_contains("author");
        a && (!a->is_string() || a->as_string() != request.principal->id))
      return respond(
          error(403, Error{"forbidden", "author: a signed-in user acts as themself", "author"}));
    o["author"] = request.principal->id;
  }
  auto set = library_.current();
  auto parsed = silence_from_json(body.value(), now(), silence_limits_,
                                  set ? &set->references.zones : nullptr);
  if (!parsed) return respond(error(400, parsed.error()));
  auto silence = std::make_shared<Silence>(std::move(parsed.value()));
  silence->id = UlidGenerator().next();
  journal_.write([silence](sqlite::Connection& db) { silences::insert(db, *silence); },
                 [silence, respond = std::move(respond)](bool ok) {
                   if (!ok)
                     return respond(error(
                         503, Error{"storage_unavailable", "the window could not be stored", ""}));
                   spdlog::info("silence {} opened by {} until {}: {}", silence->id,
                                silence->author, format_rfc3339(silence->ends_at), silence->reason);
                   auto r = json_response(201, to_json(*silence, now()));
                   r.headers["Location"] = "/api/v1/silences/" + silence->id;
                   respond(std::move(r));
                 });
}

void Api::expire_silence(const std::string& id, const ApiRequest& request, Respond respond) {
  auto body = json_body(request);
  if (!body) return respond(error(status_for(body.error()), body.error()));
  if (request.principal && request.principal->kind == "user" && body->is_object())
    body->as_object()["by"] = request.principal->id;
  const auto* by = body->is_object() ? body->as_object().if_contains("by") : nullptr;
  if (!by || !by->is_string() || by->as_string().empty() || by->as_string().size() > 256)
    return respond(error(400, Error{"invalid", "by: required (who ends the window)", "by"}));
  auto result = std::make_shared<Result<Silence>>(Error{"storage_unavailable", "", ""});
  journal_.write(
      [result, id, who = std::string(by->as_string())](sqlite::Connection& db) {
        *result = silences::expire(db, id, who, now());
      },
      [result, respond = std::move(respond)](bool ok) {
        if (!ok)
          return respond(
              error(503, Error{"storage_unavailable", "the window could not be expired", ""}));
        if (!*result)
          return respond(error(result->error().code == "not_found" ? 404 : 409, result->error()));
        spdlog::info("silence {} expired by {}", result->value().id, result->value().expired_by);
        respond(json_response(200, to_json(result->value(), now())));
      });
}

void Api::list_silences(const std::map<std::string, std::string>& query, Respond respond) {
  bool all = query.count("all") && query.at("all") != "0" && query.at("all") != "false";
  auto limit = query_int(query, "limit", 100, 1000);
  read("silences", std::move(respond), [this, all, limit] {
    auto list = store_.with_connection(
        [&](sqlite::Connection& db) { return silences::list(db, now(), all, std::size_t(limit)); });
    json::array out;
    Timestamp t = now();
    for (const auto& s : list) out.push_back(to_json(s, t));
    return json_response(200, json::object{{"silences", std::move(out)}});
  });
}

void Api::list_audit(const std::map<std::string, std::string>& query, Respond respond) {
  auto after = query_int(query, "after", 0, std::numeric_limits<std::int64_t>::max());
  auto limit = query_int(query, "limit", 100, 1000);
  auto before = query_int(query, "before", 0, std::numeric_limits<std::int64_t>::max());
  read("audit", std::move(respond), [this, after, limit, before] {
    auto rows = store_.with_connection(
        [&](sqlite::Connection& db) { return audit::page(db, after, limit, before); });
    json::object o{{"entries", rows}};
    if (!rows.empty() && std::int64_t(rows.size()) == limit)
      o["next"] = std::string("/api/v1/audit?") + (before > 0 ? "before=" : "after=") +
                  std::to_string(rows.back().as_object().at("seq").as_int64()) +
                  "&limit=" + std::to_string(limit);
    return json_response(200, o);
  });
}

ApiResponse Api::static_file(const std::string& path) const {
  std::string name = path == "/console" || path == "/console/" ? "index.html" : path.substr(9);
  // Only plain names of the files web/ ships: no directories, no dots but the extension's.
  static const std::map<std::string, std::string> kTypes{{".html", "text/html; charset=utf-8"},
                                                         {".js", "text/javascript; charset=utf-8"},
                                                         {".css", "text/css; charset=utf-8"},
                                                         {".svg", "image/svg+xml"},
                                                         {".json", "application/json"}};
  auto dot = name.find('.');
  bool plain = !name.empty() && name.size() <= 64 && dot != std::string::npos &&
               name.find('.', dot + 1) == std::string::npos &&
               std::all_of(name.begin(), name.end(), [](char c) {
                 return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
               });
  auto type = plain ? kTypes.find(name.substr(dot)) : kTypes.end();
  if (type == kTypes.end() || web_dir_.empty())
    return error(404, Error{"not_found", "path: no such file " + path, "path"});
  std::ifstream in(web_dir_ / name, std::ios::binary);
  if (!in) return error(404, Error{"not_found", "path: no such file " + path, "path"});
  std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ApiResponse r{200, type->second, std::move(body), {}};
  // The console's own code only: no framing, no scripts or connections elsewhere.
  r.headers["Content-Security-Policy"] =
      "default-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'";
  r.headers["X-Content-Type-Options"] = "nosniff";
  return r;
}

void Api::login(const ApiRequest& request, Respond respond) {
  if (!auth_) return respond(error(503, Error{"unavailable", "authentication is not set up", ""}));
  auto body = json_body(request);
  if (!body) return respond(error(status_for(body.error()), body.error()));
  const auto* o = body->if_object();
  auto text = [&](const char* k) -> std::optional<std::string> {
    auto* v = o ? o->if_contains(k) : nullptr;
    if (!v || !v->is_string()) return std::nullopt;
    return std::string(v->as_string());
  };
  auto user = text("user"), password = text("password");
  if (!user || !password)
    return respond(error(400, Error{"invalid", "user, password: both required", "user"}));
  reads_.post([this, user = *user, password = *password, remote = request.remote,
               respond = std::move(respond)] {
    std::chrono::seconds retry_after{0};
    auto r = auth_->login(user, password, remote, retry_after);
    if (!r) {
      if (r.error().code == "rate_limited") {
        auto resp = error(429, r.error());
        resp.headers["Retry-After"] = std::to_string(retry_after.count());
        return respond(std::move(resp));
      }
      return respond(error(r.error().code == "unauthenticated" ? 401 : 503, r.error()));
    }
    json::array scopes;
    for (const auto& s : r->principal.scopes) scopes.emplace_back(s);
    auto resp = json_response(200, json::object{{"id", r->principal.id},
                                                {"role", r->principal.role},
                                                {"language", r->principal.language},
                                                {"scopes", std::move(scopes)},
                                                {"csrf_token", r->principal.csrf},
                                                {"expires_at", format_rfc3339(r->expires_at)}});
    resp.headers["Set-Cookie"] = auth_->cookie(*r);
    respond(std::move(resp));
  });
}

void Api::logout(const ApiRequest& request, Respond respond) {
  const Principal& who = *request.principal;
  if (who.kind != "user")
    return respond(error(400, Error{"invalid", "a token has no session to end", ""}));
  std::string cookies;
  if (auto it = request.headers.find("cookie"); it != request.headers.end()) cookies = it->second;
  auto at = cookies.find("tocsin_session=");
  std::string value = at == std::string::npos ? "" : cookies.substr(at + 15, 64);
  auth_->logout(who, value);
  auto resp = json_response(200, json::object{{"id", who.id}, {"signed_out", true}});
  resp.headers["Set-Cookie"] = auth_->expired_cookie();
  respond(std::move(resp));
}

void Api::create_token(const ApiRequest& request, Respond respond) {
  auto body = json_body(request);
  if (!body) return respond(error(status_for(body.error()), body.error()));
  const auto* o = body->if_object();
  const auto* name = o ? o->if_contains("name") : nullptr;
  const auto* scopes = o ? o->if_contains("scopes") : nullptr;
  if (!name || !name->is_string())
    return respond(error(400, Error{"invalid", "name: required", "name"}));
  std::set<std::string> wanted;
  if (!scopes || !scopes->is_array())
    return respond(error(400, Error{"invalid", "scopes: a list such as [\"ingest\"]", "scopes"}));
  for (const auto& s : scopes->as_array()) {
    if (!s.is_string())
      return respond(error(400, Error{"invalid", "scopes: a list of strings", "scopes"}));
    wanted.emplace(s.as_string());
  }
  std::string by = request.principal->id;
  read("creating a token", std::move(respond),
       [this, n = std::string(name->as_string()), wanted, by] {
         auto r = auth_->create_token(n, wanted, by);
         if (!r) return error(status_for(r.error()), r.error());
         return json_response(201,
                              json::object{{"id", r->first}, {"name", n}, {"token", r->second}});
       });
}

void Api::compose_alert(const std::string& id, bool preview_only, const ApiRequest& request,
                        Respond respond) {
  if (auto e = require_json(request.content_type)) return respond(error(415, *e));
  auto set = library_.current();
  if (!set || !deliveries_.preview)
    return respond(error(503, Error{"unavailable", "no playbook set is loaded", ""}));
  auto parsed = compose::parse(request.body, *set);
  if (!parsed) return respond(error(status_for(parsed.error()), parsed.error()));
  std::string by = request.principal ? request.principal->id : "api";
  reads_.post([this, id, preview_only, by, set, r = std::move(parsed.value()),
               respond = std::move(respond)]() mutable {
    try {
      auto rec = store_.get(id);
      if (!rec) return respond(error(404, Error{"not_found", "id: no incident " + id, "id"}));
      if (rec->state != "active")
        return respond(
            error(409, Error{"conflict", "incident " + id + " is already " + rec->state, "id"}));
      std::vector<dispatchers::AlertPreview> previews;
      for (const auto& a : compose::alerts(r, *rec))
        previews.push_back(deliveries_.preview(a, *rec));
      auto preview = compose::preview_json(r, *rec, previews);
      auto& listed = preview["problems"].as_array();
      for (const auto& p : compose::check(r, by, rec->incident.status, *set))
        listed.emplace_back(p);
      if (preview_only) return respond(json_response(200, std::move(preview)));
      const auto& problems = preview.at("problems").as_array();
      if (!problems.empty()) {
        auto e = error(
            422, Error{"unprocessable",
                       "the alert would be blocked: " + std::string(problems.front().as_string()),
                       "template"});
        return respond(std::move(e));
      }
      if (compose::needs_confirmation(r, rec->incident.status) && !compose::confirmed(r))
        return respond(error(
            422,
            Error{"confirmation_required",
                  "confirm: a LIVE public alert needs the word LIVE (or RÉEL) typed", "confirm"}));
      std::string text = compose::playbook_text(r, by, rec->incident.status);
      journal_.compose(
          id, std::move(text), by,
          [respond = std::move(respond), preview = std::move(preview),
           live = rec->incident.status == Status::actual](Result<Runs::Composed> done) mutable {
            if (!done) return respond(error(status_for(done.error()), done.error()));
            spdlog::warn("incident {}: alert composed in the console ({}), run {}: {}",
                         std::string(preview.at("incident").as_string()),
                         live ? "LIVE" : "exercise", done->run_id, done->status);
            respond(json_response(201, json::object{{"run", done->run_id},
                                                    {"status", done->status},
                                                    {"preview", std::move(preview)}}));
          });
    } catch (const std::exception& e) {
      spdlog::error("api: composing an alert failed: {}", e.what());
      respond(error(503, Error{"storage_unavailable", "the journal could not be read", ""}));
    }
  });
}

void Api::alert_follow_up(const std::string& id, const std::string& kind, const ApiRequest& request,
                          Respond respond) {
  if (!is_ulid(id))
    return respond(error(404, Error{"not_found", "id: '" + id + "' is not an alert id", "id"}));
  FollowUpNote note;
  auto actor = actor_of(request, nullptr, &note.by_language);
  if (!actor) return respond(error(status_for(actor.error()), actor.error()));
  note.text = actor->note;
  note.via = actor->via;
  auto made =
      std::make_shared<Result<std::vector<AlertRecord>>>(Error{"storage_unavailable", "", ""});
  journal_.write(
      [made, id, kind, by = actor->by, note](sqlite::Connection& db) {
        *made = follow_up(db, id, kind, note, by, now());
      },
      [this, made, respond = std::move(respond)](bool committed) {
        if (!committed)
          return respond(error(503, Error{"storage_unavailable", "not stored; retry", ""}));
        if (!*made) return respond(error(status_for(made->error()), made->error()));
        json::array also;
        for (const auto& rec : made->value()) {
          const Alert& a = rec.alert;
          spdlog::warn("alert {}: {} ({})", a.follow_up_of,
                       a.template_name == "public-update" ? "corrected" : "cancelled",
                       a.note_in("fr"));
          if (deliveries_.dispatch) deliveries_.dispatch(a, rec.incident);
          if (&rec != &made->value().front()) also.emplace_back(a.id);
        }
        const Alert& a = made->value().front().alert;
        respond(json_response(201, json::object{{"id", a.id},
                                                {"follow_up_of", a.follow_up_of},
                                                {"kind", a.kind},
                                                {"template", a.template_name},
                                                {"pattern", a.pattern},
                                                {"also", std::move(also)}}));
      });
}

}  // namespace tocsin
