#include <catch2/catch.hpp>

#include <fstream>

#include "tests/support/process.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/tocsin_server.hpp"

using namespace tocsin::test;
using namespace std::chrono_literals;

TEST_CASE("tocsin check-config validates and exits 0 or 1", "[cli]") {
  TocsinServer server;  // only for its generated configuration
  auto ok = run_command({TOCSIN_BINARY, "check-config", server.config_file()}, 10s);
  CHECK(ok.exit_code == 0);
  CHECK(ok.output.find(": ok") != std::string::npos);

  std::ofstream(server.config_file(), std::ios::app) << "htpp:\n  bind: x\n";
  auto bad = run_command({TOCSIN_BINARY, "check-config", server.config_file()}, 10s);
  CHECK(bad.exit_code == 1);
  CHECK(bad.output.find(server.config_file() + ":") != std::string::npos);
  CHECK(bad.output.find("unknown key 'htpp'") != std::string::npos);

  // The server refuses to start on the same file.
  auto serve = run_command({TOCSIN_BINARY, "serve", "--config", server.config_file()}, 10s);
  CHECK(serve.exit_code == 1);
  CHECK(serve.output.find("refusing to start") != std::string::npos);
}

TEST_CASE("tocsin send sends one incident over ZeroMQ and prints the reply", "[cli]") {
  RedisServer redis;
  TocsinServer server(redis.url());
  server.start();
  auto ok = run_command(
      {TOCSIN_BINARY, "send", "--endpoint", server.zmq_endpoint(), "--source", "gauge-7", "--type",
       "flood.water_level", "--severity", "severe", "--zone", "riverside", "--attr", "level_m=4.2",
       "--attr", "rising=true", "--headline", "Crue de la rivière"},
      20s);
  CHECK(ok.exit_code == 0);
  REQUIRE(ok.output.rfind("ok ", 0) == 0);
  CHECK(ok.output.find(" created") != std::string::npos);
  std::string id = ok.output.substr(3, 26);
  CHECK(query_strings(server.database(),
                      "SELECT attributes FROM incidents WHERE id = '" + id + "'") ==
        std::set<std::string>{R"({"level_m":4.2E0,"rising":true})"});

  auto bad = run_command({TOCSIN_BINARY, "send", "--endpoint", server.zmq_endpoint(), "--type",
                          "flood.water_level", "--severity", "apocalyptic"},
                         20s);
  CHECK(bad.exit_code == 1);
  CHECK(bad.output.find("error invalid_value severity:") != std::string::npos);
}

TEST_CASE("the Python example in docs/protocol.md works against a real broker", "[cli]") {
  RedisServer redis;
  TocsinServer server(redis.url());
  server.start();
  auto r = run_command({"/usr/bin/python3", TOCSIN_SOURCE_DIR "/docs/examples/send_incident.py",
                        server.zmq_endpoint()},
                       30s);
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK(r.output.find("ok ") != std::string::npos);
  CHECK(r.output.find("error invalid_value severity:") != std::string::npos);
  CHECK(query_integer(server.database(), "SELECT count(*) FROM incidents") == 1);
}
