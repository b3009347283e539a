#include <catch2/catch.hpp>

#include "fixtures.hpp"
#include "playbooks/matcher.hpp"

using namespace tocsin;
using namespace tocsin::playbooks;
using namespace tocsin::playbooks::test;

namespace {
std::string playbook(const std::string& id, const std::string& match) {
  return "id: " + id + "\nmatch:\n" + match + "steps:\n  - wait: { for: 1m }\n";
}
}  // namespace

TEST_CASE("matching: types, globs, severity order, sources, zones by polygon, attributes") {
  std::vector<Playbook> set;
  auto add = [&](const std::string& id, const std::string& match) {
    set.push_back(parse_one(playbook(id, match)));
  };
  add("exact", "  type: flood.water_level\n");
  add("glob", "  type: flood.*\n");
  add("any", "  type: '*'\n  severity: extreme\n");
  add("at-least-severe", "  type: flood.water_level\n  severity: { at_least: severe }\n");
  add("riverside", "  type: flood.water_level\n  zone: [riverside]\n");
  add("gauges", "  type: flood.water_level\n  source: 'gauge-*'\n");
  add("high", "  type: flood.water_level\n  attributes:\n    level_m: { \">=\": 4.0 }\n");
  add("station-in", "  type: flood.water_level\n  attributes:\n    station: { in: [A, B] }\n");
  add("no-station", "  type: flood.water_level\n  attributes:\n    station: { exists: false }\n");
  add("rising", "  type: flood.water_level\n  attributes:\n    rising: { \"==\": true }\n");
  Matcher m(set, test_zones());

  auto ids = [&](const std::string& json) {
    std::vector<std::string> out;
    for (const auto* p : m.match(incident(json))) out.push_back(p->id);
    return out;
  };
  using V = std::vector<std::string>;

  CHECK(ids(R"({"source":"s","type":"flood.water_level","severity":"minor"})") ==
        V{"exact", "glob", "no-station"});
  CHECK(ids(R"({"source":"s","type":"flood.ice_jam","severity":"minor"})") == V{"glob"});
  CHECK(ids(R"({"source":"s","type":"fire.alarm","severity":"extreme"})") == V{"any"});
  CHECK(ids(R"({"source":"s","type":"flood.water_level","severity":"severe"})") ==
        V{"exact", "glob", "at-least-severe", "no-station"});
  // A point inside the riverside polygon matches the zone; a point outside does not.
  CHECK(
      ids(R"({"source":"s","type":"flood.water_level","severity":"minor","location":{"lat":45.58,"lon":-73.65}})") ==
      V{"exact", "glob", "riverside", "no-station"});
  CHECK(
      ids(R"({"source":"s","type":"flood.water_level","severity":"minor","location":{"lat":45.62,"lon":-73.65}})") ==
      V{"exact", "glob", "no-station"});
  CHECK(
      ids(R"({"source":"s","type":"flood.water_level","severity":"minor","location":{"zone":"riverside"}})") ==
      V{"exact", "glob", "riverside", "no-station"});
  CHECK(ids(R"({"source":"gauge-17","type":"flood.water_level","severity":"minor"})") ==
        V{"exact", "glob", "gauges", "no-station"});
  CHECK(
      ids(R"({"source":"s","type":"flood.water_level","severity":"minor","attributes":{"level_m":4.0,"station":"B","rising":true}})") ==
      V{"exact", "glob", "high", "station-in", "rising"});
  // Wrong types and missing attributes satisfy no comparison.
  CHECK(
      ids(R"({"source":"s","type":"flood.water_level","severity":"minor","attributes":{"level_m":"4.5","station":"C","rising":"true"}})") ==
      V{"exact", "glob"});
  CHECK(
      ids(R"({"source":"s","type":"flood.water_level","severity":"minor","attributes":{"level_m":3.99}})") ==
      V{"exact", "glob", "no-station"});
}

TEST_CASE("attribute operators") {
  Attributes a{{"n", 5.0}, {"s", std::string("x")}, {"b", true}};
  auto holds = [&](std::string op, AttributeValue v) {
    AttributeCondition c{"n", op, {v}, true};
    return c.holds(a);
  };
  CHECK(holds("==", 5.0));
  CHECK(holds("!=", 4.0));
  CHECK(holds("<", 6.0));
  CHECK(holds("<=", 5.0));
  CHECK(holds(">", 4.0));
  CHECK(holds(">=", 5.0));
  CHECK_FALSE(holds(">", 5.0));
  CHECK_FALSE(holds("==", std::string("5")));
  CHECK(holds("!=", std::string("5")));
  AttributeCondition in{"s", "in", {std::string("y"), std::string("x")}, true};
  CHECK(in.holds(a));
  AttributeCondition missing{"zzz", ">", {1.0}, true};
  CHECK_FALSE(missing.holds(a));
  AttributeCondition absent{"zzz", "exists", {}, false};
  CHECK(absent.holds(a));
}

TEST_CASE("globs") {
  CHECK(glob_match("flood.*", "flood.water_level"));
  CHECK(glob_match("*", ""));
  CHECK(glob_match("a*b*c", "axxbyyc"));
  CHECK_FALSE(glob_match("flood.*", "flooding"));
  CHECK_FALSE(glob_match("a*b", "acc"));
}
