// /api/v1/login, /logout, /tokens: sessions and machines' tokens.
#include "broker/api/api.hpp"

#include <boost/json.hpp>

#include "broker/api/responses.hpp"
#include "broker/runs/playbook_library.hpp"

namespace tocsin {

namespace json = boost::json;

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
  off_thread("signing in", std::move(respond),
             [this, user = *user, password = *password, remote = request.remote](Respond& respond) {
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
               auto resp =
                   json_response(200, json::object{{"id", r->principal.id},
                                                   {"role", r->principal.role},
                                                   {"language", r->principal.language},
                                                   {"scopes", std::move(scopes)},
                                                   {"csrf_token", r->principal.csrf},
                                                   {"time_zone", time_zone_},
                                                   {"expires_at", format_rfc3339(r->expires_at)}});
               resp.headers["Set-Cookie"] = auth_->cookie(*r);
               respond(std::move(resp));
             });
}

void Api::logout(const ApiRequest& request, Respond respond) {
  const Principal& who = *request.principal;
  if (who.kind != "user")
    return respond(error(400, Error{"invalid", "a token has no session to end", ""}));
  auth_->logout(who, Auth::session_cookie(request.headers));
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
  const auto* person = o ? o->if_contains("for") : nullptr;
  const auto* sources = o ? o->if_contains("sources") : nullptr;
  std::vector<std::string> globs;
  if (sources) {
    if (!sources->is_array())
      return respond(error(
          400, Error{"invalid", "sources: a list of globs such as [\"gauge-*\"]", "sources"}));
    for (const auto& g : sources->as_array()) {
      if (!g.is_string())
        return respond(error(400, Error{"invalid", "sources: a list of strings", "sources"}));
      globs.emplace_back(g.as_string());
    }
  }
  if (!name || !name->is_string())
    return respond(error(400, Error{"invalid", "name: required", "name"}));
  std::string bound;
  if (person) {
    auto set = library_.current();
    if (!person->is_string() || person->as_string().empty() || !set ||
        !set->references.people.find(std::string(person->as_string())))
      return respond(error(400, Error{"invalid",
                                      "for: the person the token acts for, an id of the staff "
                                      "directory",
                                      "for"}));
    bound = person->as_string();
  }
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
       [this, n = std::string(name->as_string()), wanted, by, bound, globs] {
         auto r = auth_->create_token(n, wanted, by, bound, globs);
         if (!r) return error(status_for(r.error()), r.error());
         json::object made{{"id", r->first}, {"name", n}, {"token", r->second}};
         if (!bound.empty()) made["for"] = bound;
         return json_response(201, made);
       });
}

}  // namespace tocsin
