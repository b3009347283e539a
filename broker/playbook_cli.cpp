#include "broker/playbook_cli.hpp"

#include <fstream>
#include <iostream>
#include <sstream>

#include "broker/playbook_library.hpp"

namespace tocsin {

namespace {

std::shared_ptr<const ActivePlaybooks> load(const Config& config, const std::string& dir,
                                            std::ostream& err) {
  if (!config.playbooks.enabled) {
    err << config.source_file << ": has no playbooks section (people, zones, templates)\n";
    return nullptr;
  }
  auto loaded = load_active_playbooks(config, dir);
  if (auto* errors = std::get_if<std::vector<std::string>>(&loaded)) {
    for (const auto& e : *errors) err << e << "\n";
    return nullptr;
  }
  return std::get<std::shared_ptr<const ActivePlaybooks>>(loaded);
}

}  // namespace

int playbook_check(const Config& config, const std::string& dir, std::ostream& out,
                   std::ostream& err) {
  auto l = load(config, dir, err);
  if (!l) return 1;
  for (const auto& p : l->playbooks)
    out << p.id << ": ok (" << p.steps.size() << " steps, " << p.hash << ")\n";
  out << l->playbooks.size() << " playbooks valid\n";
  return 0;
}

int playbook_test(const Config& config, const std::string& dir, const std::string& incident_file,
                  const playbooks::DryRunOptions& options, std::ostream& out, std::ostream& err) {
  auto l = load(config, dir, err);
  if (!l) return 1;
  auto incident = read_incident_file(incident_file, config.limits);
  if (!incident) {
    err << incident.error().message << "\n";
    return 1;
  }
  auto zones = l->references.zones.zones_of(incident->location);
  out << "incident: " << incident->type << ", " << to_string(incident->severity) << ", from "
      << incident->source << ", zones: ";
  for (std::size_t i = 0; i < zones.size(); ++i) out << (i ? "," : "") << zones[i];
  out << (zones.empty() ? "none" : "") << "\n";
  auto matched = l->matcher.match(*incident);
  out << matched.size() << " of " << l->playbooks.size()
      << " playbooks match (dry run: nothing is sent)\n";
  for (const auto* p : matched) {
    out << "\nplaybook " << p->id << "\n";
    for (const auto& line : playbooks::dry_run(*p, *incident, options)) out << "  " << line << "\n";
  }
  return 0;
}

}  // namespace tocsin
