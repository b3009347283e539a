#include "broker/runs/playbook_library.hpp"

#include <spdlog/spdlog.h>

#include "channels/registry.hpp"

namespace tocsin {

PlaybookLibrary::PlaybookLibrary(
    const PlaybookSources& sources,
    std::function<void(std::shared_ptr<const ActivePlaybooks>)> on_change)
    : sources_(sources), on_change_(std::move(on_change)) {}

namespace {

std::variant<std::shared_ptr<const ActivePlaybooks>, std::vector<std::string>> load_active(
    const PlaybookSources& pc, const std::filesystem::path& dir) {
  auto refs =
      playbooks::load_references({pc.zones, pc.people, pc.templates, pc.schedules, pc.time_zone});
  if (auto* errors = std::get_if<std::vector<std::string>>(&refs)) return std::move(*errors);
  auto& references = std::get<playbooks::References>(refs);
  auto templates = dispatchers::TemplateSet::load(pc.templates, references.schedules.zone());
  if (auto* errors = std::get_if<std::vector<std::string>>(&templates)) return std::move(*errors);
  auto catalog = references.catalog();
  // Playbooks may use the channels configured (with none configured, every channel but the
  // sirens, which a `siren` step sounds), and each one's fallback needs its templates.
  auto allow = [&catalog](const std::string& name) {
    catalog.channels.insert(name);
    if (channels::capabilities(name).rendered) catalog.templated_channels.insert(name);
  };
  if (pc.channels.empty())
    for (const auto& k : channels::channel_kinds()) {
      if (!k.can.sounds) allow(k.name);
    }
  for (const auto& [name, fallback] : pc.channels) {
    allow(name);
    if (!fallback.empty()) catalog.fallbacks[name] = fallback;
  }
  auto set = playbooks::load_playbooks(dir.empty() ? pc.dir : dir, catalog);
  if (!set.ok()) return std::move(set.errors);
  return make_active(std::move(references), std::move(set.playbooks),
                     std::make_shared<const dispatchers::TemplateSet>(
                         std::move(std::get<dispatchers::TemplateSet>(templates))),
                     &catalog);
}

}  // namespace

std::variant<std::shared_ptr<const ActivePlaybooks>, std::vector<std::string>>
load_active_playbooks(const PlaybookSources& pc, const std::filesystem::path& dir) {
  // A file that makes its reader throw (yaml-cpp's InvalidNode in people.yaml or a playbook) is
  // refused as an invalid one is: for check-config, serve's preflight and a reload alike.
  try {
    return load_active(pc, dir);
  } catch (const std::exception& e) {
    return std::vector<std::string>{std::string("cannot be read: ") + e.what()};
  }
}

std::vector<std::string> PlaybookLibrary::reload() {
  const auto& pc = sources_;
  if (!pc.enabled) return {};
  auto loaded = load_active_playbooks(sources_, {});
  if (auto* errors = std::get_if<std::vector<std::string>>(&loaded)) {
    for (const auto& e : *errors) spdlog::error("playbooks: {}", e);
    spdlog::error("playbooks: the set in {} was not loaded; the running set stays",
                  pc.dir.string());
    return *errors;
  }
  auto active = std::get<std::shared_ptr<const ActivePlaybooks>>(loaded);
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
