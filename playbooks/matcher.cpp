#include "playbooks/matcher.hpp"

#include <algorithm>

namespace tocsin::playbooks {

Matcher::Matcher(const std::vector<Playbook>& playbooks, const ZoneMap& zones)
    : playbooks_(&playbooks), zones_(&zones) {
  for (std::size_t i = 0; i < playbooks.size(); ++i) {
    bool glob = false;
    for (const auto& t : playbooks[i].match.types) {
      if (t.find('*') != std::string::npos)
        glob = true;
      else
        by_type_[t].push_back(i);
    }
    if (glob) by_glob_.push_back(i);
  }
}

bool Matcher::rest_matches(const Playbook& p, const Incident& incident,
                           const std::vector<std::string>& zones) const {
  const MatchSpec& m = p.match;
  if (m.at_least && incident.severity < *m.at_least) return false;
  if (!m.severities.empty() &&
      std::find(m.severities.begin(), m.severities.end(), incident.severity) == m.severities.end())
    return false;
  if (!m.sources.empty() && std::none_of(m.sources.begin(), m.sources.end(), [&](const auto& g) {
        return glob_match(g, incident.source);
      }))
    return false;
  if (!m.zones.empty() && std::none_of(m.zones.begin(), m.zones.end(), [&](const auto& z) {
        return std::find(zones.begin(), zones.end(), z) != zones.end();
      }))
    return false;
  for (const auto& c : m.attributes)
    if (!c.holds(incident.attributes)) return false;
  return true;
}

std::vector<const Playbook*> Matcher::match(const Incident& incident) const {
  std::vector<const Playbook*> out;
  if (!playbooks_) return out;
  std::vector<std::size_t> candidates;
  if (auto it = by_type_.find(incident.type); it != by_type_.end()) candidates = it->second;
  for (std::size_t i : by_glob_) {
    const auto& types = (*playbooks_)[i].match.types;
    if (std::any_of(types.begin(), types.end(),
                    [&](const auto& t) { return glob_match(t, incident.type); }))
      candidates.push_back(i);
  }
  if (candidates.empty()) return out;
  std::sort(candidates.begin(), candidates.end());
  candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
  std::vector<std::string> zones = zones_->zones_of(incident.location);  // once per incident
  for (std::size_t i : candidates)
    if (rest_matches((*playbooks_)[i], incident, zones)) out.push_back(&(*playbooks_)[i]);
  return out;
}

}  // namespace tocsin::playbooks
