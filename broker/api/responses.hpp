#pragma once
// What the API's handlers (one file per resource: incidents.cpp, alerts.cpp…) share: a JSON
// answer, the HTTP status of an Error, a request's JSON body, an integer query parameter, and who
// acts on a state-changing request.

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include <boost/json.hpp>

#include "broker/api/api.hpp"
#include "core/result.hpp"

namespace tocsin {

ApiResponse json_response(int status, const boost::json::value& v);
// Text for HTML or XML: & < > " ' as entities (the pages and TwiML answers that carry a sensor's
// words).
std::string markup_escaped(std::string_view text);
int status_for(const Error& e);
// application/json, one object of at most 64 KB.
Result<boost::json::value> json_body(const ApiRequest& request);
// The query's integer `key`, clamped to [0, max]; `fallback` when absent or not a number.
std::int64_t query_int(const std::map<std::string, std::string>& q, const char* key,
                       std::int64_t fallback, std::int64_t max);

// Who acts: the person, their words, and the machine's token that acted for them, if any
// ("token:NAME": the audit's actor).
struct Actor {
  std::string by, note, via;
};

// Whom a principal's actions are: a user's own id, a bound token's person, else the token itself.
inline const std::string& acting_as(const Principal& p) {
  return p.kind == "token" && !p.person.empty() ? p.person : p.id;
}

// Sets the body's `key` (who acts: "author", "by") to whom the request's principal acts as; a
// body naming someone else there is refused ("forbidden", naming the key: answer 403). Without a
// principal (authentication off), or for a body that is not an object, the body stands as it is.
std::optional<Error> stamp_actor(const ApiRequest& request, boost::json::value& body,
                                 const char* key);

// {"by": "person", "note": "…"}: who acts. A signed-in user acts as themself (`by` may be left
// out, and may not name someone else); a token as acting_as() says (it names nobody else). With
// `confirm`, the body may also carry {"confirm": "LIVE"} (a vote on a live alert); with `notes`,
// {"notes": {"fr": "…", "en": "…"}} (a correction in each language's own words, instead of note).
Result<Actor> actor_of(const ApiRequest& request, std::string* confirm = nullptr,
                       std::map<std::string, std::string>* notes = nullptr);

}  // namespace tocsin
