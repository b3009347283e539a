#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include "core/incident.hpp"
#include "core/json_body.hpp"

using namespace tocsin;

namespace {
const IncidentLimits kLimits;

Error rejected(std::string_view body) {
  auto r = parse_incident(body, kLimits);
  REQUIRE_FALSE(r.ok());
  return r.error();
}
}  // namespace

TEST_CASE("a complete incident report is parsed") {
  auto r = parse_incident(R"({
    "source": "gauge-17", "type": "flood.water_level", "severity": "Severe",
    "urgency": "immediate", "certainty": "observed", "headline": "Rivière des Prairies rising",
    "description": "Level 4.2 m", "location": {"zone": "riverside", "lat": 45.58, "lon": -73.65},
    "attributes": {"level_m": 4.2, "rising": true, "station": "RDP-17"},
    "occurred_at": "2026-04-01T12:30:00Z"})",
                          kLimits);
  REQUIRE(r.ok());
  const Incident& i = r.value();
  CHECK(i.source == "gauge-17");
  CHECK(i.type == "flood.water_level");
  CHECK(i.severity == Severity::severe);
  CHECK(i.urgency == Urgency::immediate);
  CHECK(i.certainty == Certainty::observed);
  CHECK(i.headline == "Rivière des Prairies rising");
  CHECK(i.location.zone == "riverside");
  REQUIRE(i.location.point);
  CHECK(i.location.point->lat == Approx(45.58));
  CHECK(std::get<double>(i.attributes.at("level_m")) == Approx(4.2));
  CHECK(std::get<bool>(i.attributes.at("rising")));
  CHECK(std::get<std::string>(i.attributes.at("station")) == "RDP-17");
  CHECK(format_rfc3339(i.occurred_at) == "2026-04-01T12:30:00.000Z");
  CHECK(i.dedup_key == "gauge-17|flood.water_level|riverside");
}

TEST_CASE("defaults: occurred_at is now, urgency and certainty unknown") {
  auto before = now();
  auto r = parse_incident(R"({"source":"s","type":"fire.alarm","severity":"minor"})", kLimits);
  REQUIRE(r.ok());
  CHECK(r->occurred_at >= before);
  CHECK(r->urgency == Urgency::unknown);
  CHECK(r->certainty == Certainty::unknown);
  CHECK(r->dedup_key == "s|fire.alarm|");
}

TEST_CASE("a polygon location is a closed ring of at least 4 points") {
  auto r = parse_incident(R"({"source":"s","type":"chem.leak","severity":"extreme",
    "location":{"polygon":[{"lat":45,"lon":-73},{"lat":45.1,"lon":-73},{"lat":45.1,"lon":-73.1},
                           {"lat":45,"lon":-73}]}})",
                          kLimits);
  REQUIRE(r.ok());
  CHECK(r->location.polygon.size() == 4);
}

TEST_CASE("to_json gives back what was parsed") {
  auto r = parse_incident(
      R"({"source":"s","type":"a.b","severity":"moderate","location":{"zone":"z"},"attributes":{"n":1}})",
      kLimits);
  REQUIRE(r.ok());
  r->id = "01J0000000000000000000000";
  auto again = parse_incident(
      [&] {
        auto o = to_json(r.value());
        o.erase("id");
        o.erase("received_at");
        return boost::json::serialize(o);
      }(),
      kLimits);
  REQUIRE(again.ok());
  CHECK(again->dedup_key == r->dedup_key);
  CHECK(again->severity == Severity::moderate);
  CHECK(again->location.zone == "z");
}

TEST_CASE("bad input is refused with an error naming the field") {
  struct Case {
    const char* body;
    const char* code;
    const char* field;
  };
  const Case cases[] = {
      {"not json", "not_json", "body"},
      {"[1,2]", "wrong_type", "body"},
      {R"({"type":"a.b","severity":"minor"})", "missing_field", "source"},
      {R"({"source":"s","severity":"minor"})", "missing_field", "type"},
      {R"({"source":"s","type":"a.b"})", "missing_field", "severity"},
      {R"({"source":7,"type":"a.b","severity":"minor"})", "wrong_type", "source"},
      {R"({"source":"s","type":"Not A Type","severity":"minor"})", "invalid_value", "type"},
      {R"({"source":"s","type":"a.b","severity":"apocalyptic"})", "invalid_value", "severity"},
      {R"({"source":"s","type":"a.b","severity":"minor","urgency":"now"})", "invalid_value",
       "urgency"},
      {R"({"source":"s","type":"a.b","severity":"minor","severty":"x"})", "unknown_field",
       "severty"},
      {R"({"source":"s","type":"a.b","severity":"minor","location":{"lat":91,"lon":0}})",
       "out_of_range", "location.lat"},
      {R"({"source":"s","type":"a.b","severity":"minor","location":{"lat":45,"lon":-181}})",
       "out_of_range", "location.lon"},
      {R"({"source":"s","type":"a.b","severity":"minor","location":{"lat":45}})", "missing_field",
       "location.lon"},
      {R"({"source":"s","type":"a.b","severity":"minor","location":{"polygon":[{"lat":1,"lon":1},{"lat":2,"lon":2},{"lat":1,"lon":1}]}})",
       "invalid_value", "location.polygon"},
      {R"({"source":"s","type":"a.b","severity":"minor","location":{"polygon":[{"lat":1,"lon":1},{"lat":2,"lon":2},{"lat":3,"lon":1},{"lat":1,"lon":2}]}})",
       "invalid_value", "location.polygon"},
      {R"({"source":"s","type":"a.b","severity":"minor","location":{"polygon":[{"lat":1,"lon":1},{"lat":2,"lon":2},{"lat":95,"lon":1},{"lat":1,"lon":1}]}})",
       "out_of_range", "location.polygon[2].lat"},
      {R"({"source":"s","type":"a.b","severity":"minor","attributes":{"a":{"b":1}}})", "too_deep",
       "attributes.a"},
      {R"({"source":"s","type":"a.b","severity":"minor","attributes":{"a":null}})", "wrong_type",
       "attributes.a"},
      {R"({"source":"s","type":"a.b","severity":"minor","occurred_at":"yesterday"})",
       "invalid_value", "occurred_at"},
      {R"({"source":"s","type":"a.b","severity":"minor","headline":"a\u0007b"})", "invalid_value",
       "headline"},
      {R"({"source":"s","type":"a.b","severity":"minor","x":[[[[[[[[[[1]]]]]]]]]]})", "too_deep",
       "body"},
  };
  for (const auto& c : cases) {
    INFO(c.body);
    Error e = rejected(c.body);
    CHECK(e.code == c.code);
    CHECK(e.field == c.field);
    CHECK(e.message.find(c.field) != std::string::npos);
  }
}

TEST_CASE("a body that is not UTF-8 is refused before parsing") {
  std::string body = R"({"source":"s","type":"a.b","severity":"minor","headline":"caf)";
  body += "\xC3\x28\"}";
  Error e = rejected(body);
  CHECK(e.code == "not_utf8");
  CHECK_FALSE(is_valid_utf8("\xED\xA0\x80"));  // a surrogate
  CHECK_FALSE(is_valid_utf8("\xC0\xAF"));      // overlong
  CHECK(is_valid_utf8("Alerte à la crue — évacuez"));
}

TEST_CASE("a body over the size limit is refused") {
  IncidentLimits small;
  small.max_bytes = 100;
  std::string body(101, ' ');
  auto r = parse_incident(body, small);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == "too_large");
}
