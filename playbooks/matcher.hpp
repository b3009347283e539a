#pragma once
// Which playbooks an incident matches. Compiled once per playbook set: playbooks with exact
// types are found by a hash lookup, only the ones with type globs are scanned.

#include <string>
#include <unordered_map>
#include <vector>

#include "core/zones.hpp"
#include "playbooks/playbook.hpp"

namespace tocsin::playbooks {

class Matcher {
 public:
  Matcher() = default;
  // `playbooks` and `zones` must outlive the matcher.
  Matcher(const std::vector<Playbook>& playbooks, const ZoneMap& zones);

  // In the order of the set (file name order).
  std::vector<const Playbook*> match(const Incident& incident) const;

 private:
  bool rest_matches(const Playbook& p, const Incident& incident,
                    const std::vector<std::string>& zones) const;

  const std::vector<Playbook>* playbooks_ = nullptr;
  const ZoneMap* zones_ = nullptr;
  std::unordered_map<std::string, std::vector<std::size_t>> by_type_;
  std::vector<std::size_t> by_glob_;
};

}  // namespace tocsin::playbooks
