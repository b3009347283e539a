#pragma once
// Reads playbook files and validates them as a whole: every error, with file:line:column.

#include <filesystem>
#include <string>
#include <vector>

#include "playbooks/playbook.hpp"

namespace tocsin::playbooks {

struct PlaybookSet {
  std::vector<Playbook> playbooks;
  std::vector<std::string> errors;  // empty: the set may be used
  bool ok() const { return errors.empty(); }
};

constexpr std::size_t kMaxPlaybookBytes = 256 * 1024;

// Every *.yaml / *.yml file in dir, in name order. Ids must be unique across the set.
PlaybookSet load_playbooks(const std::filesystem::path& dir, const Catalog& catalog);

// One playbook from text (`file` names it in messages). `origin` says who may start it, and so
// how many approvers its public steps need (playbook.hpp).
PlaybookSet parse_playbook(const std::string& text, const std::string& file, const Catalog& catalog,
                           Origin origin = Origin::file);

}  // namespace tocsin::playbooks
