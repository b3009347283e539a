#include "broker/playbook_library.hpp"

#include <spdlog/spdlog.h>

namespace tocsin {

PlaybookLibrary::PlaybookLibrary(
    const Config& config, std::function<void(std::shared_ptr<const ActivePlaybooks>)> on_change)
    : config_(config), on_change_(std::move(on_change)) {}

std::vector<std::string> PlaybookLibrary::reload() {
  const auto& pc = config_.playbooks;
  if (!pc.enabled) return {};
  auto refs = playbooks::load_references({pc.zones, pc.people, pc.templates});
  if (auto* errors = std::get_if<std::vector<std::string>>(&refs)) {
    for (const auto& e : *errors) spdlog::error("playbooks: {}", e);
    return *errors;
  }
  auto& references = std::get<playbooks::References>(refs);
  auto set = playbooks::load_playbooks(pc.dir, references.catalog());
  if (!set.ok()) {
    for (const auto& e : set.errors) spdlog::error("playbooks: {}", e);
    spdlog::error("playbooks: the set in {} was not loaded; the running set stays",
                  pc.dir.string());
    return set.errors;
  }
  auto active = make_active(std::move(references), std::move(set.playbooks));
  spdlog::info("playbooks: {} loaded from {}", active->playbooks.size(), pc.dir.string());
  {
    std::lock_guard lock(mutex_);
    current_ = active;
  }
  if (on_change_) on_change_(active);
  return {};
}

std::shared_ptr<const ActivePlaybooks> PlaybookLibrary::current() const {
  std::lock_guard lock(mutex_);
  return current_;
}

}  // namespace tocsin
