// The OpenAPI document a running server serves, held to that server: every operation it lists is
// asked, and answers with a status the document lists for it (an error as the Error schema
// says); then tests/browser/openapi.mjs validates the document against OpenAPI 3.1's schema
// and its report schema against the server's parser. That every route is in the document is
// checked on the route table itself (broker/api/tests/openapi_test.cpp).
#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include "tests/support/process.hpp"
#include "tests/support/tocsin_server.hpp"

namespace json = boost::json;

using namespace tocsin::test;
using namespace std::chrono_literals;

namespace {

// A path with its parameters filled: an id of nothing, the SMS channel, a console file.
std::string filled(std::string path) {
  for (auto [name, value] :
       {std::pair{"{id}", "01ARZ3NDEKTSV4RRFFQ69G5FAV"}, std::pair{"{channel}", "sms"},
        std::pair{"{path}", "app.js"}, std::pair{"{override}", "01ARZ3NDEKTSV4RRFFQ69G5FAV"}})
    for (auto at = path.find(name); at != std::string::npos; at = path.find(name))
      path.replace(at, std::string(name).size(), value);
  return path;
}

}  // namespace

TEST_CASE("every operation of the served OpenAPI document answers as it says", "[api][openapi]") {
  ServerOptions options;
  options.playbooks_dir = TOCSIN_SOURCE_DIR "/config/playbooks";
  options.http_yaml = "  web_dir: " TOCSIN_SOURCE_DIR "/web\n";
  TocsinServer server(options);
  server.start();

  // Public, as the console's files are: a client generator needs no account.
  auto served = http_request(server.http_port(), "GET", "/api/v1/openapi.json");
  REQUIRE(served);
  REQUIRE(served->status == 200);
  CHECK(served->headers["content-type"] == "application/json");
  auto document = json::parse(served->body);
  CHECK(document.at("openapi") == "3.1.0");

  std::size_t asked = 0;
  for (const auto& [path, item] : document.at("paths").as_object()) {
    for (const auto& [method, operation] : item.as_object()) {
      if (method != "get" && method != "post") {
        FAIL("an operation the test cannot ask: " << method << " " << path);
        continue;
      }
      std::string upper = method == "get" ? "GET" : "POST";
      std::string target = filled(std::string(path));
      const bool form = path == "/api/v1/receipts/{channel}";
      auto r = server.request(upper, target, upper == "GET" ? "" : (form ? "" : "{}"),
                              form ? "application/x-www-form-urlencoded" : "application/json");
      INFO(upper << " " << target);
      REQUIRE(r);
      INFO("answered " << r->status << ": " << r->body.substr(0, 300));
      ++asked;
      // A route, and the method is right: no 404 for the path itself, no 405.
      CHECK(r->status != 405);
      auto error = r->headers["content-type"] == "application/json" && r->status >= 400
                       ? json::parse(r->body)
                       : json::value();
      if (r->status == 404 && error.is_object()) CHECK(error.at("error").at("field") != "path");
      // Its status is one the document gives for it.
      CHECK(operation.at("responses").as_object().contains(std::to_string(r->status)));
      // An error is the Error schema: code, message, field.
      if (error.is_object()) {
        const auto& e = error.at("error");
        CHECK(e.at("code").is_string());
        CHECK(e.at("message").is_string());
        CHECK(e.as_object().contains("field"));
      }
    }
  }
  CHECK(asked > 40);

  auto r = run_command({"node", TOCSIN_SOURCE_DIR "/tests/browser/openapi.mjs", "--base",
                        "http://127.0.0.1:" + std::to_string(server.http_port()), "--token",
                        server.token(), "--docs", TOCSIN_SOURCE_DIR "/docs"},
                       120s);
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK(r.output.find("openapi: valid OpenAPI 3.1") != std::string::npos);
  CHECK(r.output.find("bad reports refused by the schema and the server alike") !=
        std::string::npos);
  CHECK(r.output.find("openapi: every check held") != std::string::npos);
}
