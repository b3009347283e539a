// JSON text as people write it: numbers in their shortest form, strings escaped, and what is
// written reads back the same.
#include <catch2/catch.hpp>

#include <limits>

#include <boost/json.hpp>

#include "core/json_text.hpp"

using namespace tocsin;
namespace json = boost::json;

TEST_CASE("numbers are written as people write them, and read back the same") {
  json::object o{
      {"level_m", 4.2}, {"lat", 45.5599}, {"lon", -73.65},
      {"zero", 0.0},    {"half", -0.5},   {"big", 1e21},
      {"tiny", 1.5e-7}, {"count", 3},     {"max", std::numeric_limits<std::uint64_t>::max()}};
  const std::string text = json_text(o);
  CHECK(text == R"({"level_m":4.2,"lat":45.5599,"lon":-73.65,"zero":0.0,"half":-0.5,"big":1e+21,)"
                R"("tiny":1.5e-07,"count":3,"max":18446744073709551615})");
  CHECK(json::parse(text) == json::value(o));
  // JSON has no infinity: null, not a text no parser reads.
  CHECK(json_text(json::array{std::numeric_limits<double>::infinity()}) == "[null]");
}

TEST_CASE("strings are escaped as RFC 8259 asks, UTF-8 kept as it is") {
  json::value v = json::array{"Rivière \"des\" Prairies\\\n\t\x01", true, nullptr, json::object{}};
  const std::string text = json_text(v);
  CHECK(text == R"(["Rivière \"des\" Prairies\\\n\t\u0001",true,null,{}])");
  CHECK(json::parse(text) == v);
}
