// The OpenAPI document (docs/openapi.yaml, built in) against the route table the server really
// has: every route described, every operation described a route. The operations' answers are
// checked against a running server in tests/system/openapi_test.cpp.
#include <catch2/catch.hpp>

#include <algorithm>
#include <iterator>

#include <boost/json.hpp>

#include "broker/api/api.hpp"
#include "broker/api/openapi.hpp"
#include "broker/build_info.hpp"
#include "broker/journal/journal.hpp"
#include "broker/storage/sqlite.hpp"
#include "tests/support/temp_dir.hpp"

using namespace tocsin;

namespace {

std::string listed(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += "\n  " + i;
  return out;
}

}  // namespace

TEST_CASE("the OpenAPI document describes exactly the routes the API has") {
  test::TempDir dir;
  const std::string db = (dir.path() / "tocsin.db").string();
  {
    sqlite::Connection c(db, sqlite::Connection::Mode::read_write);
    sqlite::migrate(c);
  }
  BrokerMetrics metrics;
  Journal journal{JournalOptions{db, "n1", 4096, "full", {}}, metrics};
  IncidentStore store(db);
  PlaybookSources sources;
  PlaybookLibrary library(sources, [](std::shared_ptr<const ActivePlaybooks>) {});
  Api api(
      journal, store, IncidentLimits{}, metrics, [] { return std::string("{}"); }, library);

  const auto routes = api.route_list();
  const auto documented = openapi_operations(openapi_document());
  REQUIRE(routes.size() > 40);
  std::vector<std::string> undocumented, unrouted;
  std::set_difference(routes.begin(), routes.end(), documented.begin(), documented.end(),
                      std::back_inserter(undocumented));
  std::set_difference(documented.begin(), documented.end(), routes.begin(), routes.end(),
                      std::back_inserter(unrouted));
  INFO("routes not in docs/openapi.yaml:" << listed(undocumented));
  INFO("operations in docs/openapi.yaml that are no route:" << listed(unrouted));
  CHECK(undocumented.empty());
  CHECK(unrouted.empty());
}

TEST_CASE("the OpenAPI document is typed as written: numbers, booleans, quoted strings") {
  const auto& doc = openapi_document();
  CHECK(doc.at("openapi") == "3.1.0");
  CHECK(doc.at("info").at("version") == kVersion);
  // A status code quoted in YAML is a key; a limit is a number, a flag a boolean.
  const auto& report = doc.at("components").at("schemas").at("IncidentReport");
  CHECK(report.at("properties").at("source").at("maxLength") == 128);
  CHECK(report.at("additionalProperties") == false);
  CHECK(
      doc.at("components").at("schemas").at("Location").at("properties").at("lat").at("minimum") ==
      -90);
  const auto& all = doc.at("paths").at("/api/v1/silences").at("get").at("parameters").at(0);
  CHECK(all.at("schema").at("enum").at(0) == "1");  // "1" quoted: a string
  // An anchor's alias is the same answers.
  CHECK(doc.at("paths").at("/api/v1/incidents/{id}/resolve").at("post").at("responses") ==
        doc.at("paths").at("/api/v1/incidents/{id}/ack").at("post").at("responses"));
}
