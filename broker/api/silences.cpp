// /api/v1/silences: maintenance windows, created, listed and expired.
#include "broker/api/api.hpp"

#include <spdlog/spdlog.h>
#include <boost/json.hpp>

#include "broker/api/responses.hpp"
#include "core/ulid.hpp"

namespace tocsin {

namespace json = boost::json;

void Api::create_silence(const ApiRequest& request, Respond respond) {
  auto body = json_body(request);
  if (!body) return respond(error(status_for(body.error()), body.error()));
  if (auto refused = stamp_actor(request, body.value(), "author"))
    return respond(error(403, *refused));
  auto set = library_.current();
  auto parsed = silence_from_json(body.value(), now(), silence_limits_,
                                  set ? &set->references.zones : nullptr);
  if (!parsed) return respond(error(400, parsed.error()));
  auto silence = std::make_shared<Silence>(std::move(parsed.value()));
  silence->id = UlidGenerator().next();
  journal_.write([silence](db::Connection& db) { silences::insert(db, *silence); },
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
  if (auto refused = stamp_actor(request, body.value(), "by")) return respond(error(403, *refused));
  const auto* by = body->is_object() ? body->as_object().if_contains("by") : nullptr;
  if (!by || !by->is_string() || by->as_string().empty() || by->as_string().size() > 256)
    return respond(error(400, Error{"invalid", "by: required (who ends the window)", "by"}));
  auto result = std::make_shared<Result<Silence>>(Error{"storage_unavailable", "", ""});
  journal_.write(
      [result, id, who = std::string(by->as_string())](db::Connection& db) {
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
        [&](db::Connection& db) { return silences::list(db, now(), all, std::size_t(limit)); });
    json::array out;
    Timestamp t = now();
    for (const auto& s : list) out.push_back(to_json(s, t));
    return json_response(200, json::object{{"silences", std::move(out)}});
  });
}

}  // namespace tocsin
