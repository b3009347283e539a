// The route table and the one query-string parser.
#include <catch2/catch.hpp>

#include <functional>
#include <string>

#include "broker/api/routes.hpp"

using namespace tocsin;

namespace {
struct Answer {};
using Table = RouteTable<std::function<void(Answer)>>;
auto noop = [](auto&, const Params&, const Query&, auto) {};
}  // namespace

TEST_CASE("a route matches its method and pattern, and captures its segments") {
  Table t;
  bool open = false;
  t.add("GET", "/api/v1/incidents", "read", noop);
  t.add("POST", "/api/v1/incidents", "ingest", noop);
  t.add("POST", "/api/v1/incidents/{id}/ack", "operate", noop);
  t.add("GET", "/console/*", "", noop);
  t.add("GET", "/health", "read", noop, &open);

  auto ack = t.match("POST", "/api/v1/incidents/01ARZ3NDEKTSV4RRFFQ69G5FAV/ack");
  REQUIRE(ack.route);
  CHECK(ack.route->scope == "operate");
  CHECK(ack.params.at("id") == "01ARZ3NDEKTSV4RRFFQ69G5FAV");

  CHECK(t.match("POST", "/api/v1/incidents").route->scope == "ingest");
  CHECK(t.match("GET", "/api/v1/incidents").route->scope == "read");
  CHECK(!t.match("GET", "/api/v1/incidents/x/ack/more").path_route);  // no such path
  CHECK(!t.match("GET", "/api/v1").path_route);

  auto wrong = t.match("DELETE", "/api/v1/incidents");
  CHECK(!wrong.route);
  REQUIRE(wrong.path_route);
  CHECK(wrong.allow == "GET, POST");

  auto file = t.match("GET", "/console/app.js");
  REQUIRE(file.route);
  CHECK(file.params.at("*") == "app.js");
  CHECK(!t.match("GET", "/consoles").path_route);

  // /health's scope gives way when it is configured public.
  CHECK(t.match("GET", "/health").route->needs() == "read");
  open = true;
  CHECK(t.match("GET", "/health").route->needs().empty());
}

TEST_CASE("query strings are URL-decoded, names and values alike") {
  auto q = parse_query(
      "person=jean%2Dtremblay&lang=fr&q=rue+Saint-Laurent&name%C3%A9=%C3%A9t%C3%A9&empty");
  CHECK(q.at("person") == "jean-tremblay");
  CHECK(q.at("lang") == "fr");
  CHECK(q.at("q") == "rue Saint-Laurent");
  CHECK(q.at("name\xC3\xA9") == "\xC3\xA9t\xC3\xA9");
  CHECK(q.at("empty").empty());
  CHECK(url_decode("100%") == "100%");  // a stray % stays as it is
  CHECK(url_decode("%zz") == "%zz");
  CHECK(parse_query("").empty());
}
