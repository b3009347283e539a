// /api/v1/alerts and /compose: alerts and their deliveries, a composed alert (previewed, then
// sent), the cancel or correction of a public alert, and the providers' delivery receipts.
#include "broker/api/api.hpp"

#include <spdlog/spdlog.h>
#include <boost/json.hpp>

#include "broker/api/responses.hpp"
#include "broker/deliveries/delivery_ledger.hpp"
#include "broker/runs/compose.hpp"
#include "broker/runs/follow_up.hpp"
#include "core/json_body.hpp"
#include "core/ulid.hpp"

namespace tocsin {

namespace json = boost::json;

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
  const channels::Receipts* receipts = deliveries_.ledger && deliveries_.dispatcher
                                           ? deliveries_.dispatcher->receipts(channel)
                                           : nullptr;
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
      [respond, dispatcher = deliveries_.dispatcher](std::optional<Delivery> d) {
        if (d && d->state == DeliveryState::failed) dispatcher->failed_by_receipt(*d);
        respond(json_response(200, json::object{{"updated", d.has_value()}}));
      });
}

void Api::compose_alert(const std::string& id, bool preview_only, const ApiRequest& request,
                        Respond respond) {
  if (auto e = require_json(request.content_type)) return respond(error(415, *e));
  auto set = library_.current();
  if (!set || !deliveries_.dispatcher)
    return respond(error(503, Error{"unavailable", "no playbook set is loaded", ""}));
  auto parsed = compose::parse(request.body, *set);
  if (!parsed) return respond(error(status_for(parsed.error()), parsed.error()));
  // A public alert is composed by a person, signed in: never by a token (bound to someone or
  // not), for the composer is the first of the two people who release it.
  const bool person = request.principal && request.principal->kind == "user";
  if (parsed->is_public() && !person && !preview_only)
    return respond(error(403, Error{"forbidden",
                                    "Authorization: composing a public alert is a person's act: "
                                    "sign in (a machine's token cannot)",
                                    "Authorization", "person_required"}));
  std::string by = !request.principal                            ? std::string("api")
                   : person || request.principal->person.empty() ? request.principal->id
                                                                 : request.principal->person;
  off_thread(
      "composing an alert", std::move(respond),
      [this, id, preview_only, by, set, r = std::move(parsed.value())](Respond& respond) {
        auto rec = store_.get(id);
        if (!rec) return respond(error(404, Error{"not_found", "id: no incident " + id, "id"}));
        if (rec->state != "active")
          return respond(
              error(409, Error{"conflict", "incident " + id + " is already " + rec->state, "id"}));
        std::vector<dispatchers::AlertPreview> previews;
        for (const auto& a : compose::alerts(r, *rec))
          previews.push_back(deliveries_.dispatcher->preview(a, *rec));
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
          return respond(
              error(422, Error{"confirmation_required",
                               "confirm: a LIVE public alert needs the word LIVE (or RÉEL) typed",
                               "confirm"}));
        std::string text = compose::playbook_text(r, by, rec->incident.status);
        journal_.compose(
            id, std::move(text), by,
            [respond, preview = std::move(preview),
             live = rec->incident.status == Status::actual](Result<Runs::Composed> done) mutable {
              if (!done) return respond(error(status_for(done.error()), done.error()));
              spdlog::warn("incident {}: alert composed in the console ({}), run {}: {}",
                           std::string(preview.at("incident").as_string()),
                           live ? "LIVE" : "exercise", done->run_id, done->status);
              respond(json_response(201, json::object{{"run", done->run_id},
                                                      {"status", done->status},
                                                      {"preview", std::move(preview)}}));
            });
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
  if (kind == "update") {
    // A correction sends its author's words to the whole public: proposed here, it goes out once
    // a second person approves it (GET /api/v1/approvals), as the alert it corrects did.
    if (!request.principal || request.principal->kind != "user")
      return respond(error(403, Error{"forbidden",
                                      "Authorization: correcting a public alert is a person's "
                                      "act: sign in (a machine's token cannot)",
                                      "Authorization", "person_required"}));
    if (note.empty())
      return respond(error(400, Error{"invalid", "note: a correction needs its text", "note"}));
    return journal_.propose_correction(
        id, note, actor->by, [id, respond = std::move(respond)](Result<std::string> r) {
          if (!r) return respond(error(status_for(r.error()), r.error()));
          spdlog::warn("alert {}: a correction waits for approval {}", id, r.value());
          respond(json_response(202, json::object{{"follow_up_of", id},
                                                  {"approval", r.value()},
                                                  {"status", "pending_approval"}}));
        });
  }
  auto made =
      std::make_shared<Result<std::vector<AlertRecord>>>(Error{"storage_unavailable", "", ""});
  journal_.write(
      [made, id, kind, by = actor->by, note](db::Connection& db) {
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
          if (deliveries_.dispatcher) deliveries_.dispatcher->dispatch(a, rec.incident);
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
