#include <catch2/catch.hpp>

#include <unistd.h>
#include <algorithm>
#include <fstream>

#include "channels/sms/segments.hpp"
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
