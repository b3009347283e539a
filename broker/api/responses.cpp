#include "broker/api/responses.hpp"

#include <algorithm>

#include "core/json_body.hpp"
#include "core/json_text.hpp"

namespace tocsin {

namespace json = boost::json;

std::string markup_escaped(std::string_view text) {
  std::string out;
  for (char c : text) switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  return out;
}

std::optional<Error> stamp_actor(const ApiRequest& request, json::value& body, const char* key) {
  if (!request.principal || !body.is_object()) return std::nullopt;
  auto& o = body.as_object();
  const std::string& self = acting_as(*request.principal);
  if (auto* given = o.if_contains(key);
      given && (!given->is_string() || given->as_string() != self))
    return Error{"forbidden", std::string(key) + ": " + self + " acts as itself", key};
  o[key] = self;
  return std::nullopt;
}

ApiResponse json_response(int status, const json::value& v) {
  return ApiResponse{status, "application/json", json_text(v) + "\n", {}};
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
  if (e.code == "internal") return 500;
  return 400;
}

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

// {"by": "person", "note": "…"}: who acts. A signed-in user acts as themself (`by` may be left
// out, and may not name someone else). A token is never a person: one bound to a person at its
// creation (`token add NAME --for PERSON`) acts as that person, through itself (`via`); any
// other acts as itself ("token:NAME") and may not name anyone. With
// `confirm`, the body may also carry {"confirm": "LIVE"} (a vote on a live alert); with `notes`,
// {"notes": {"fr": "…", "en": "…"}} (a correction in each language's own words, instead of note).
Result<Actor> actor_of(const ApiRequest& request, std::string* confirm,
                       std::map<std::string, std::string>* notes) {
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
  if (request.principal && request.principal->kind == "token") {
    const Principal& t = *request.principal;
    const std::string& self = t.person.empty() ? t.id : t.person;
    if (by && (!by->is_string() || by->as_string() != self))
      return Error{"forbidden",
                   t.person.empty()
                       ? "by: " + t.id +
                             " is bound to nobody, so it acts as itself and cannot act for "
                             "anyone (bind a token to a person: tocsin token add NAME --for "
                             "PERSON)"
                       : "by: " + t.id + " acts for " + t.person + " only",
                   "by", "token_not_bound"};
    return t.person.empty() ? Actor{t.id, note, ""} : Actor{t.person, note, t.id};
  }
  // No principal: the API without accounts (tests of the API alone); the body names who acts.
  if (!by) return Error{"missing_field", "by: is required (who does this)", "by"};
  std::string who;
  if (auto e = f.text("by", true, 128, who)) return *e;
  return Actor{who, note, ""};
}

}  // namespace tocsin
