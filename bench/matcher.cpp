// bench/matcher: how long matching one incident against a set of 500 playbooks takes.
//
//   build/bench/matcher [--playbooks 500] [--incidents 200000]
//
// The set mixes what real sets hold: most playbooks match one exact type, some use type globs,
// and they filter by severity, zone (point in polygon) and attributes.

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "core/zones.hpp"
#include "playbooks/matcher.hpp"
#include "playbooks/parser.hpp"

using namespace tocsin;

int main(int argc, char** argv) {
  CLI::App app{"Match incidents against a set of playbooks"};
  int count = 500;
  long incidents = 200000;
  std::string zones_file = "config/zones.geojson";
  app.add_option("--playbooks", count)->capture_default_str();
  app.add_option("--incidents", incidents)->capture_default_str();
  app.add_option("--zones", zones_file)->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  auto zones = load_zones(zones_file);
  if (!zones) {
    std::fprintf(stderr, "%s\n", zones.error().message.c_str());
    return 1;
  }
  playbooks::Catalog catalog;
  catalog.zones = &zones.value();
  catalog.channels = {"sms"};
  catalog.templated_channels = {"sms"};
  catalog.templates = {"t"};
  catalog.roles = {"duty-officer"};
  const char* zone_ids[] = {"riverside", "old-port", "downtown", "industrial-park", "east-end"};
  std::vector<playbooks::Playbook> set;
  for (int i = 0; i < count; ++i) {
    std::string type = i % 10 == 0
                           ? "family" + std::to_string(i % 50) + ".*"
                           : "family" + std::to_string(i % 50) + ".kind" + std::to_string(i);
    std::string yaml = "id: p" + std::to_string(i) + "\nmatch:\n  type: '" + type +
                       "'\n  severity: { at_least: moderate }\n  zone: [" + zone_ids[i % 5] +
                       "]\n  attributes:\n    level: { \">=\": " + std::to_string(i % 7) +
                       " }\nsteps:\n  - notify: { audience: { roles: [duty-officer] }, channels: "
                       "[sms], template: t }\n";
    auto one = playbooks::parse_playbook(yaml, "p.yaml", catalog);
    if (!one.ok()) {
      std::fprintf(stderr, "%s\n", one.errors.front().c_str());
      return 1;
    }
    set.push_back(std::move(one.playbooks.front()));
  }
  playbooks::Matcher matcher(set, zones.value());

  // Incidents with points spread over the territory (so zones are found by polygon).
  std::vector<Incident> sample;
  for (int i = 0; i < 1000; ++i) {
    Incident inc;
    inc.source = "bench";
    inc.type = "family" + std::to_string(i % 50) + ".kind" + std::to_string((i * 7) % count);
    inc.severity = static_cast<Severity>(1 + i % 4);
    inc.location.point = GeoPoint{45.45 + (i % 100) * 0.002, -73.72 + (i % 37) * 0.007};
    inc.attributes["level"] = double(i % 9);
    sample.push_back(std::move(inc));
  }
  std::size_t matched = 0;
  auto start = std::chrono::steady_clock::now();
  for (long i = 0; i < incidents; ++i) matched += matcher.match(sample[i % sample.size()]).size();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "%d playbooks, %ld incidents: %.2f us per incident (%.0f incidents/s), %.3f matches "
      "per incident\n",
      count, incidents, seconds / double(incidents) * 1e6, double(incidents) / seconds,
      double(matched) / double(incidents));
  return 0;
}
