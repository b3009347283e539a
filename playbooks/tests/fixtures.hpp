#pragma once
// A small world for playbook tests: two square zones, a few roles, groups and templates.

#include <catch2/catch.hpp>

#include "core/zones.hpp"
#include "playbooks/parser.hpp"

namespace tocsin::playbooks::test {

inline const ZoneMap& test_zones() {
  static const ZoneMap zones = [] {
    auto z = parse_zones(R"({"type":"FeatureCollection","features":[
      {"type":"Feature","properties":{"id":"riverside"},"geometry":{"type":"Polygon",
       "coordinates":[[[-73.70,45.57],[-73.60,45.57],[-73.60,45.60],[-73.70,45.60],[-73.70,45.57]]]}},
      {"type":"Feature","properties":{"id":"old-port"},"geometry":{"type":"Polygon",
       "coordinates":[[[-73.56,45.50],[-73.54,45.50],[-73.54,45.51],[-73.56,45.51],[-73.56,45.50]]]}}]})",
                         "zones");
    REQUIRE(z.ok());
    return z.value();
  }();
  return zones;
}

inline Catalog test_catalog() {
  Catalog c;
  c.channels = {"sms", "email", "console", "websocket", "webhook", "cap"};
  c.templated_channels = {"sms", "email", "console", "websocket"};
  c.templates = {"staff", "public", "escalation"};
  c.roles = {"duty-officer", "approver"};
  c.groups = {"eoc-managers"};
  c.people = {"mgagnon"};
  c.schedules = {"duty-officer"};
  c.zones = &test_zones();
  return c;
}

inline Playbook parse_one(const std::string& yaml) {
  auto set = parse_playbook(yaml, "test.yaml", test_catalog());
  INFO((set.errors.empty() ? std::string() : set.errors.front()));
  REQUIRE(set.ok());
  REQUIRE(set.playbooks.size() == 1);
  return set.playbooks.front();
}

inline Incident incident(const std::string& json) {
  auto r = parse_incident(json, IncidentLimits{});
  INFO(json);
  REQUIRE(r.ok());
  return r.value();
}

}  // namespace tocsin::playbooks::test
