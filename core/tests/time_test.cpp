#include <catch2/catch.hpp>

#include "core/time.hpp"

using namespace tocsin;

TEST_CASE("RFC 3339 round trip in UTC with milliseconds") {
  auto t = parse_rfc3339("2026-04-01T12:30:05.250Z");
  REQUIRE(t);
  CHECK(format_rfc3339(*t) == "2026-04-01T12:30:05.250Z");
  CHECK(to_unix_ms(*t) == 1775046605250);
}

TEST_CASE("RFC 3339 offsets are converted to UTC") {
  auto t = parse_rfc3339("2026-04-01T08:30:00-04:00");
  REQUIRE(t);
  CHECK(format_rfc3339(*t) == "2026-04-01T12:30:00.000Z");
}

TEST_CASE("RFC 3339 refuses what is not a date-time") {
  for (const char* bad :
       {"", "2026-04-01", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z", "2026-04-01T25:00:00Z",
        "2026-04-01T12:30:00", "yesterday", "2026-04-01T12:30:00Zjunk", "2026-04-01T12:30:00.Z"}) {
    INFO(bad);
    CHECK_FALSE(parse_rfc3339(bad));
  }
}
