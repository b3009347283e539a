#pragma once
// The playbook set in force, loaded from the configuration's paths and reloaded on demand
// (SIGHUP, POST /api/v1/playbooks/reload). A reload that fails keeps the running set.

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <variant>
#include <vector>

#include <filesystem>
#include <utility>

#include "broker/runs/runs.hpp"

namespace tocsin {

// Where the playbook set is read from (tocsin.yaml `playbooks:`), and the channels it may use.
struct PlaybookSources {
  bool enabled = false;  // the section is present
  std::filesystem::path dir, people, zones, templates;
  std::filesystem::path schedules;  // on-call schedules; empty: none
  std::string time_zone = "UTC";    // city.time_zone: the schedules' clock
  // The configured channels, each with the one it falls back to ("": none). Empty: every
  // channel Tocsin has, but the sirens (a `siren` step sounds them).
  std::vector<std::pair<std::string, std::string>> channels;
};

// References (zones, people, templates) and the playbooks of `dir` (default: playbooks.dir),
// validated as a whole: the set, or every error.
std::variant<std::shared_ptr<const ActivePlaybooks>, std::vector<std::string>>
load_active_playbooks(const PlaybookSources& sources, const std::filesystem::path& dir);

class PlaybookLibrary {
 public:
  // `on_change` gets each new set once validated (the journal starts using it).
  PlaybookLibrary(const PlaybookSources& sources,
                  std::function<void(std::shared_ptr<const ActivePlaybooks>)> on_change);

  // Loads references and playbooks, validated as a whole. Empty: loaded; else every error.
  std::vector<std::string> reload();
  std::shared_ptr<const ActivePlaybooks> current() const;
  bool enabled() const { return sources_.enabled; }  // the configuration has a playbooks section

 private:
  const PlaybookSources& sources_;
  std::function<void(std::shared_ptr<const ActivePlaybooks>)> on_change_;
  mutable std::mutex mutex_;
  std::shared_ptr<const ActivePlaybooks> current_;
};

}  // namespace tocsin
