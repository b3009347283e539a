// /api/v1/audit: the audit trail, newest first, a page at a time.
#include "broker/api/api.hpp"

#include <boost/json.hpp>

#include "broker/api/responses.hpp"
#include "broker/storage/audit.hpp"

namespace tocsin {

namespace json = boost::json;

void Api::list_audit(const std::map<std::string, std::string>& query, Respond respond) {
  auto after = query_int(query, "after", 0, std::numeric_limits<std::int64_t>::max());
  auto limit = query_int(query, "limit", 100, 1000);
  auto before = query_int(query, "before", 0, std::numeric_limits<std::int64_t>::max());
  read("audit", std::move(respond), [this, after, limit, before] {
    auto rows = store_.with_connection(
        [&](db::Connection& db) { return audit::page(db, after, limit, before); });
    json::object o{{"entries", rows}};
    if (!rows.empty() && std::int64_t(rows.size()) == limit)
      o["next"] = std::string("/api/v1/audit?") + (before > 0 ? "before=" : "after=") +
                  std::to_string(rows.back().as_object().at("seq").as_int64()) +
                  "&limit=" + std::to_string(limit);
    return json_response(200, o);
  });
}

}  // namespace tocsin
