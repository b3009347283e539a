// /api/v1/incidents: reports in (HTTP), the board out, a person's actions on an incident.
#include "broker/api/api.hpp"

#include <boost/json.hpp>

#include "broker/api/responses.hpp"
#include "broker/watch/source_watch.hpp"
#include "core/json_body.hpp"
#include "core/json_text.hpp"

namespace tocsin {

namespace json = boost::json;

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
      body = json_text(v);
    }
  }
  auto parsed = parse_incident(body, limits_);
  if (!parsed) {
    metrics_.rejected(parsed.error().code);
    return respond(error(parsed.error().code == "too_large" ? 413 : 400, parsed.error()));
  }
  // A token reports only as its own sources (as a CURVE sensor does): another source's incidents
  // are not its to make or to update.
  if (request.principal && !request.principal->may_report_as(parsed->source)) {
    metrics_.rejected("forbidden");
    return respond(error(403, Error{"forbidden",
                                    "source: " + request.principal->id + " may not report as '" +
                                        parsed->source + "'",
                                    "source"}));
  }
  if (sources_) sources_->seen(parsed->source);
  std::string status(to_string(parsed->status));
  journal_.submit(std::move(parsed.value()),
                  [this, status, respond = std::move(respond)](Result<Accepted> r) {
                    if (!r) {
                      metrics_.rejected(r.error().code);
                      return respond(error(status_for(r.error()), r.error()));
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

}  // namespace tocsin
