#include "broker/api.hpp"

#include <spdlog/spdlog.h>
#include <boost/json.hpp>

#include "core/ulid.hpp"

namespace tocsin {

namespace json = boost::json;

namespace {

ApiResponse json_response(int status, const json::value& v) {
  return ApiResponse{status, "application/json", json::serialize(v) + "\n", {}};
}

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string url_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out += char(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else {
      out += s[i] == '+' ? ' ' : s[i];
    }
  }
  return out;
}

std::map<std::string, std::string> parse_query(std::string_view q) {
  std::map<std::string, std::string> out;
  while (!q.empty()) {
    auto amp = q.find('&');
    std::string_view pair = q.substr(0, amp);
    auto eq = pair.find('=');
    out[url_decode(pair.substr(0, eq))] =
        eq == std::string_view::npos ? "" : url_decode(pair.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    q.remove_prefix(amp + 1);
  }
  return out;
}

ApiResponse method_not_allowed(const std::string& allow) {
  auto r = Api::error(405, Error{"method_not_allowed", "method: use " + allow, "method"});
  r.headers["Allow"] = allow;
  return r;
}

}  // namespace

Api::Api(Journal& journal, IncidentStore& store, const IncidentLimits& limits,
         BrokerMetrics& metrics, HealthReport health)
    : journal_(journal),
      store_(store),
      limits_(limits),
      metrics_(metrics),
      health_(std::move(health)) {}

Api::~Api() {
  reads_.stop();
}

ApiResponse Api::error(int status, const Error& e) {
  json::object err{{"code", e.code}, {"message", e.message}};
  err["field"] = e.field.empty() ? json::value(nullptr) : json::value(e.field);
  return json_response(status, json::object{{"error", std::move(err)}});
}

void Api::handle(ApiRequest request, Respond respond) {
  std::string_view target = request.target;
  auto qmark = target.find('?');
  std::string path(target.substr(0, qmark));
  auto query = parse_query(qmark == std::string_view::npos ? "" : target.substr(qmark + 1));
  const std::string& m = request.method;

  if (path == "/health") {
    if (m != "GET") return respond(method_not_allowed("GET"));
    return respond(ApiResponse{200, "application/json", health_() + "\n", {}});
  }
  if (path == "/metrics") {
    if (m != "GET") return respond(method_not_allowed("GET"));
    return respond(
        ApiResponse{200, "text/plain; version=0.0.4; charset=utf-8", metrics_.render(), {}});
  }
  if (path == "/api/v1/incidents") {
    if (m == "POST") return create_incident(request, std::move(respond));
    if (m == "GET") return list_incidents(query, std::move(respond));
    return respond(method_not_allowed("GET, POST"));
  }
  constexpr std::string_view prefix = "/api/v1/incidents/";
  if (path.rfind(prefix, 0) == 0) {
    std::string id = path.substr(prefix.size());
    if (m != "GET") return respond(method_not_allowed("GET"));
    if (!is_ulid(id))
      return respond(
          error(404, Error{"not_found", "id: '" + id + "' is not an incident id", "id"}));
    return get_incident(id, std::move(respond));
  }
  respond(error(404, Error{"not_found", "path: no such resource " + path, "path"}));
}

void Api::create_incident(ApiRequest& request, Respond respond) {
  metrics_.received_http.inc();
  std::string_view ct = request.content_type;
  if (ct.substr(0, ct.find(';')) != "application/json") {
    metrics_.rejected("unsupported_media_type");
    return respond(error(415, Error{"unsupported_media_type", "Content-Type: send application/json",
                                    "Content-Type"}));
  }
  auto parsed = parse_incident(request.body, limits_);
  if (!parsed) {
    metrics_.rejected(parsed.error().code);
    return respond(error(parsed.error().code == "too_large" ? 413 : 400, parsed.error()));
  }
  journal_.submit(
      std::move(parsed.value()), [this, respond = std::move(respond)](Result<Accepted> r) {
        if (!r) {
          metrics_.rejected(r.error().code);
          return respond(error(503, r.error()));
        }
        auto resp = json_response(
            r->created ? 201 : 200,
            json::object{{"id", r->incident_id}, {"result", r->created ? "created" : "updated"}});
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
  reads_.post([this, state, limit, respond = std::move(respond)] {
    try {
      json::array items;
      for (const auto& rec : store_.list(state, limit)) items.push_back(to_json(rec));
      respond(json_response(200, json::object{{"incidents", std::move(items)}}));
    } catch (const std::exception& e) {
      spdlog::error("api: listing incidents failed: {}", e.what());
      respond(error(503, Error{"storage_unavailable", "the journal could not be read", ""}));
    }
  });
}

void Api::get_incident(const std::string& id, Respond respond) {
  reads_.post([this, id, respond = std::move(respond)] {
    try {
      auto rec = store_.get(id);
      if (!rec) return respond(error(404, Error{"not_found", "id: no incident " + id, "id"}));
      auto o = to_json(*rec);
      json::array events;
      for (const auto& e : store_.events(id, 1000)) {
        events.push_back(json::object{{"seq", e.seq},
                                      {"at", format_rfc3339(e.at)},
                                      {"kind", e.kind},
                                      {"actor", e.actor},
                                      {"report", json::parse(e.body)}});
      }
      o["events"] = std::move(events);
      respond(json_response(200, o));
    } catch (const std::exception& e) {
      spdlog::error("api: reading incident {} failed: {}", id, e.what());
      respond(error(503, Error{"storage_unavailable", "the journal could not be read", ""}));
    }
  });
}

}  // namespace tocsin
