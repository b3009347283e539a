#include "broker/playbook_cli.hpp"

#include <fstream>
#include <iostream>
#include <sstream>

#include "playbooks/matcher.hpp"
#include "playbooks/parser.hpp"
#include "playbooks/references.hpp"

namespace tocsin {

namespace {

struct Loaded {
  playbooks::References refs;
  playbooks::PlaybookSet set;
};

std::optional<Loaded> load(const Config& config, const std::string& dir, std::ostream& err) {
  if (!config.playbooks.enabled) {
    err << config.source_file << ": has no playbooks section (people, zones, templates)\n";
    return std::nullopt;
  }
  auto refs = playbooks::load_references(
      {config.playbooks.zones, config.playbooks.people, config.playbooks.templates});
  if (auto* errors = std::get_if<std::vector<std::string>>(&refs)) {
    for (const auto& e : *errors) err << e << "\n";
    return std::nullopt;
  }
  Loaded l{std::move(std::get<playbooks::References>(refs)), {}};
  l.set = playbooks::load_playbooks(dir.empty() ? config.playbooks.dir : std::filesystem::path(dir),
                                    l.refs.catalog());
  for (const auto& e : l.set.errors) err << e << "\n";
  if (!l.set.ok()) return std::nullopt;
  return l;
}

}  // namespace

int playbook_check(const Config& config, const std::string& dir, std::ostream& out,
                   std::ostream& err) {
  auto l = load(config, dir, err);
  if (!l) return 1;
  for (const auto& p : l->set.playbooks)
    out << p.id << ": ok (" << p.steps.size() << " steps, " << p.hash << ")\n";
  out << l->set.playbooks.size() << " playbooks valid\n";
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
  auto zones = l->refs.zones.zones_of(incident->location);
  out << "incident: " << incident->type << ", " << to_string(incident->severity) << ", from "
      << incident->source << ", zones: ";
  for (std::size_t i = 0; i < zones.size(); ++i) out << (i ? "," : "") << zones[i];
  out << (zones.empty() ? "none" : "") << "\n";
  playbooks::Matcher matcher(l->set.playbooks, l->refs.zones);
  auto matched = matcher.match(*incident);
  out << matched.size() << " of " << l->set.playbooks.size()
      << " playbooks match (dry run: nothing is sent)\n";
  for (const auto* p : matched) {
    out << "\nplaybook " << p->id << "\n";
    for (const auto& line : playbooks::dry_run(*p, *incident, options)) out << "  " << line << "\n";
  }
  return 0;
}

}  // namespace tocsin
