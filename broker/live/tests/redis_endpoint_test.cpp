#include <catch2/catch.hpp>

#include "broker/live/redis_endpoint.hpp"

using namespace tocsin;

TEST_CASE("redis URLs") {
  auto tcp = parse_redis_url("redis://:s3cret@10.0.0.5:6380/2");
  REQUIRE(tcp);
  CHECK(tcp->host == "10.0.0.5");
  CHECK(tcp->port == 6380);
  CHECK(tcp->db == 2);
  CHECK(tcp->password == "s3cret");
  CHECK(tcp->describe().find("s3cret") == std::string::npos);

  auto unix_socket = parse_redis_url("unix:///run/redis.sock?db=3");
  REQUIRE(unix_socket);
  CHECK(unix_socket->unix_path == "/run/redis.sock");
  CHECK(unix_socket->db == 3);

  CHECK(parse_redis_url("redis://localhost")->port == 6379);
  CHECK_FALSE(parse_redis_url("http://localhost"));
  CHECK_FALSE(parse_redis_url("unix://relative"));
}
