// The server under abuse, tried as an attacker would: a flood of logins with huge names, a
// person's name guessed at from one address. Bounds are asserted far from today's numbers and far
// from yesterday's growth, never as timings.

#include <catch2/catch.hpp>

#include <fstream>
#include <string>

#include <boost/json.hpp>

#include "tests/support/tocsin_server.hpp"

using namespace tocsin::test;
namespace json = boost::json;

namespace {

// The process's resident memory, in KiB (VmRSS in /proc/PID/status).
long resident_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

std::optional<HttpResponse> login(const TocsinServer& s, const std::string& user,
                                  const std::string& password) {
  return http_request(s.http_port(), "POST", "/api/v1/login",
                      json::serialize(json::object{{"user", user}, {"password", password}}));
}

}  // namespace

TEST_CASE("a flood of logins with 60 KB names does not grow the server's memory", "[abuse]") {
  TocsinServer server;
  server.add_user("mgagnon", "operator", "correct horse battery");
  server.start();
  long before = resident_kib(server.process().pid());
  REQUIRE(before > 0);
  int refused = 0;
  for (int i = 0; i < 1500; ++i) {
    std::string name(60 * 1024 - 64, char('a' + i % 26));
    name += std::to_string(i);
    auto r = login(server, name, "x");
    REQUIRE(r);
    refused += r->status == 401 || r->status == 429;
  }
  CHECK(refused == 1500);
  long after = resident_kib(server.process().pid());
  INFO("VmRSS " << before << " KiB before, " << after << " KiB after");
  // 1,500 names of 60 KB kept would be 88 MB; the limiter keeps none of them.
  CHECK(after - before < 24 * 1024);
}

TEST_CASE("wrong passwords for one name slow that name from that address, not everyone",
          "[abuse]") {
  TocsinServer server;
  server.add_user("mgagnon", "operator", "correct horse battery");
  server.add_user("jtremblay", "operator", "staple battery horse");
  server.start();
  for (int i = 0; i < 5; ++i)
    CHECK(login(server, "mgagnon", "wrong password " + std::to_string(i))->status == 401);
  auto slowed = login(server, "mgagnon", "correct horse battery");
  REQUIRE(slowed);
  CHECK(slowed->status == 429);
  CHECK(std::stoi(slowed->headers.at("retry-after")) >= 1);
  // Another person at the same address (a shared office) is not locked out by it.
  auto other = login(server, "jtremblay", "staple battery horse");
  REQUIRE(other);
  CHECK(other->status == 200);
  // Unknown names fail as known ones do, and count against the address the same way.
  for (int i = 0; i < 3; ++i)
    CHECK(login(server, "nobody" + std::to_string(i), "x")->status == 401);
}
