#include <catch2/catch.hpp>

#include <unistd.h>
#include <algorithm>
#include <fstream>

#include "channels/sms/segments.hpp"
#include "core/schedules.hpp"
#include "core/time.hpp"
#include "dispatchers/templates.hpp"

using namespace tocsin;
using namespace tocsin::dispatchers;

namespace {

const ZoneMap& shipped_zones() {
  static const ZoneMap zones = [] {
    auto z = load_zones(TOCSIN_SOURCE_DIR "/config/zones.geojson");
    REQUIRE(z.ok());
    return z.value();
  }();
  return zones;
}

IncidentRecord flood() {
  auto r = parse_incident(R"({"source":"gauge-17","type":"flood.water_level","severity":"severe",
      "location":{"lat":45.585,"lon":-73.65},"attributes":{"level_m":4.3}})",
                          IncidentLimits{});
  REQUIRE(r.ok());
  IncidentRecord rec;
  rec.incident = r.value();
  return rec;
}

struct Dir {
  std::filesystem::path path =
      std::filesystem::temp_directory_path() / ("tocsin-tpl-" + std::to_string(::getpid()));
  Dir() { std::filesystem::create_directories(path); }
  ~Dir() { std::filesystem::remove_all(path); }
  void write(const std::string& name, const std::string& text) {
    std::ofstream(path / name) << text;
  }
};

}  // namespace

TEST_CASE("the shipped templates render in each language, numbers and zone names localized") {
  auto loaded = TemplateSet::load(TOCSIN_SOURCE_DIR "/config/templates");
  REQUIRE(std::holds_alternative<TemplateSet>(loaded));
  const auto& set = std::get<TemplateSet>(loaded);
  CHECK(set.has({"flood-public", "fr", "sms"}));

  auto fr = set.render({"flood-staff", "fr", "sms"}, flood(), shipped_zones());
  REQUIRE(fr.ok());
  CHECK(fr.value() ==
        "Tocsin: crue riverside, niveau 4,3 m (grave). Accusez réception dans la console.");
  auto en = set.render({"flood-public", "en", "sms"}, flood(), shipped_zones());
  REQUIRE(en.ok());
  CHECK(en.value() ==
        "FLOOD WARNING Rivière des Prairies riverside: keep away from the riverbanks, follow City "
        "instructions.");
  auto public_fr = set.render({"flood-public", "fr", "sms"}, flood(), shipped_zones());
  REQUIRE(public_fr.ok());
  CHECK(public_fr.value().find("Berges de la rivière des Prairies") != std::string::npos);
  // Every shipped SMS fits one segment for this incident.
  for (const auto& key : set.keys()) {
    if (key.channel != "sms") continue;
    auto text = set.render(key, flood(), shipped_zones());
    REQUIRE(text.ok());
    INFO(key.name << "." << key.language << ": " << text.value());
    CHECK(channels::sms::count_segments(text.value()).segments <= 2);
  }
}

TEST_CASE("plain text is not HTML-escaped, HTML templates are") {
  Dir dir;
  dir.write("t.en.sms.mustache", "{{incident.headline}}");
  dir.write("t.en.email.html.mustache", "<p>{{incident.headline}}</p>");
  auto loaded = TemplateSet::load(dir.path);
  REQUIRE(std::holds_alternative<TemplateSet>(loaded));
  auto rec = flood();
  rec.incident.headline = "Rue <Notre-Dame> & quai";
  const auto& set = std::get<TemplateSet>(loaded);
  CHECK(set.render({"t", "en", "sms"}, rec, shipped_zones()).value() == "Rue <Notre-Dame> & quai");
  CHECK(set.render({"t", "en", "email.html"}, rec, shipped_zones()).value() ==
        "<p>Rue &lt;Notre-Dame&gt; &amp; quai</p>");
  auto missing = set.render({"t", "fr", "sms"}, rec, shipped_zones());
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message == "template: no t.fr.sms.mustache");
}

TEST_CASE("a template that does not compile, or is misnamed, is an error naming the file") {
  Dir dir;
  dir.write("good.fr.sms.mustache", "ok");
  dir.write("broken.fr.sms.mustache", "{{#incident}}never closed");
  dir.write("flood.de.sms.mustache", "Hochwasser");
  auto loaded = TemplateSet::load(dir.path);
  REQUIRE(std::holds_alternative<std::vector<std::string>>(loaded));
  auto errors = std::get<std::vector<std::string>>(loaded);
  std::sort(errors.begin(), errors.end());
  REQUIRE(errors.size() == 2);
  CHECK(errors[0].rfind((dir.path / "broken.fr.sms.mustache").string() + ": Unclosed section", 0) ==
        0);
  CHECK(errors[1] == (dir.path / "flood.de.sms.mustache").string() +
                         ": not named NAME.LANG.CHANNEL.mustache (LANG fr or en)");
}

TEST_CASE("a message about an exercise says so, even from a template without a marking") {
  auto loaded = TemplateSet::load(TOCSIN_SOURCE_DIR "/config/templates");
  REQUIRE(std::holds_alternative<TemplateSet>(loaded));
  const auto& set = std::get<TemplateSet>(loaded);
  auto rec = flood();
  rec.incident.status = Status::exercise;
  auto fr = render_message(set, shipped_zones(), "flood-staff", rec, "fr", "sms");
  REQUIRE(fr.ok());
  CHECK(fr->text.rfind("EXERCICE: Tocsin: crue", 0) == 0);
  auto en = render_message(set, shipped_zones(), "flood-staff", rec, "en", "email");
  REQUIRE(en.ok());
  CHECK(en->subject.rfind("EXERCISE: Flood", 0) == 0);
  CHECK(en->text.rfind("EXERCISE: ", 0) == 0);
  rec.incident.status = Status::actual;
  auto real = render_message(set, shipped_zones(), "flood-staff", rec, "fr", "sms");
  CHECK(real->text.rfind("Tocsin: crue", 0) == 0);
}

TEST_CASE("times are on the city's clock, as fr-CA and en-CA write them, across DST changes") {
  const auto* city = find_time_zone("America/Toronto");
  REQUIRE(city);
  auto at = [](const char* text) { return *parse_rfc3339(text); };
  CHECK(time_text(at("2026-12-07T19:39:00Z"), "fr", city) == "7 décembre 2026, 14 h 39");
  CHECK(time_text(at("2026-12-07T19:39:00Z"), "en", city) == "December 7, 2026, 2:39 p.m.");
  CHECK(time_text(at("2026-12-08T05:00:00Z"), "en", city) == "December 8, 2026, 12:00 a.m.");
  CHECK(time_text(at("2026-12-07T17:05:59Z"), "en", city) == "December 7, 2026, 12:05 p.m.");
  // November 1, 2026: 1:30 happens twice, first on daylight time, then on standard time.
  CHECK(time_text(at("2026-11-01T05:30:00Z"), "fr", city) == "1er novembre 2026, 1 h 30");
  CHECK(time_text(at("2026-11-01T06:30:00Z"), "fr", city) == "1er novembre 2026, 1 h 30");
  CHECK(time_text(at("2026-11-01T07:30:00Z"), "en", city) == "November 1, 2026, 2:30 a.m.");
  // March 8, 2026: the clocks jump from 2:00 to 3:00.
  CHECK(time_text(at("2026-03-08T06:59:00Z"), "fr", city) == "8 mars 2026, 1 h 59");
  CHECK(time_text(at("2026-03-08T07:00:00Z"), "fr", city) == "8 mars 2026, 3 h 00");
  CHECK(time_text(at("2026-03-08T07:00:00Z"), "en", city) == "March 8, 2026, 3:00 a.m.");
  // A city on UTC (or none) says so.
  CHECK(time_text(at("2026-12-07T19:39:00Z"), "fr", nullptr) == "7 décembre 2026, 19 h 39 UTC");
  CHECK(time_text(at("2026-12-07T19:39:00Z"), "en", find_time_zone("UTC")) ==
        "December 7, 2026, 7:39 p.m. UTC");

  // A message gives the incident's time on the city's clock.
  auto loaded = TemplateSet::load(TOCSIN_SOURCE_DIR "/config/templates", city);
  REQUIRE(std::holds_alternative<TemplateSet>(loaded));
  auto record = flood();
  record.incident.occurred_at = at("2026-11-01T06:30:00Z");
  auto mail = std::get<TemplateSet>(loaded).render({"flood-public", "en", "email"}, record,
                                                   shipped_zones());
  REQUIRE(mail.ok());
  CHECK(mail.value().find("Reported at: November 1, 2026, 1:30 a.m.\n") != std::string::npos);
}
