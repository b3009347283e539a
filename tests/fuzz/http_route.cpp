// A request target through the route table and the query parser, as the API takes it.
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <string>

#include "broker/api/routes.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tocsin;
  using Table = RouteTable<std::function<void()>>;
  static const Table table = [] {
    Table t;
    auto none = [](ApiRequest&, const Params&, const Query&, std::function<void()>) {};
    for (const char* p : {"/", "/console", "/console/*", "/api/v1/incidents",
                          "/api/v1/incidents/{id}", "/api/v1/incidents/{id}/ack",
                          "/api/v1/incidents/{id}/compose/preview", "/api/v1/receipts/{channel}"})
      t.add("GET", p, "read", none);
    t.add("POST", "/api/v1/incidents", "ingest", none);
    return t;
  }();
  std::string_view target(reinterpret_cast<const char*>(data), size);
  auto q = target.find('?');
  auto m = table.match("GET", target.substr(0, q));
  if (m.route && !m.path_route) std::abort();
  if (q != std::string_view::npos) parse_query(target.substr(q + 1));
  url_decode(target);
  return 0;
}
