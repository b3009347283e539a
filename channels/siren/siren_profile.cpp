#include "channels/siren/siren_profile.hpp"

#include <algorithm>
#include <map>

namespace tocsin::channels::siren {

namespace {
const std::map<std::string, std::uint16_t>& default_codes() {
  static const std::map<std::string, std::uint16_t> codes{
      {"wail", 1}, {"steady", 2}, {"hi-lo", 3}, {"pulsed", 4}, {"all-clear", 5}, {"test", 6}};
  return codes;
}
}  // namespace

std::optional<std::uint16_t> default_pattern_code(const std::string& pattern) {
  auto it = default_codes().find(pattern);
  if (it == default_codes().end()) return std::nullopt;
  return it->second;
}

std::string default_pattern_name(std::uint16_t code) {
  if (code == 0) return "silent";
  for (const auto& [name, c] : default_codes())
    if (c == code) return name;
  return "unknown";
}

std::optional<SirenProfile> SirenProfile::named(const std::string& name) {
  if (name != "default" && name != "federal-signal") return std::nullopt;
  SirenProfile p;
  p.name_ = name;
  return p;
}

std::optional<SirenCommand> SirenProfile::command(const std::string& pattern, int duration_s,
                                                  std::uint16_t sequence) const {
  SirenCommand c;
  if (name_ == "default") {
    auto code = default_pattern_code(pattern);
    if (!code) return std::nullopt;
    std::uint16_t duration = std::uint16_t(std::clamp(duration_s, 0, 65535));
    c.writes.push_back({0, {*code, duration, sequence}});
    c.confirm = {Confirmation::Kind::register_equals, 14, sequence};
    return c;
  }
  // federal-signal
  static const std::map<std::string, std::uint16_t> tones{
      {"wail", 1}, {"pulsed", 2}, {"hi-lo", 3}, {"steady", 4}};
  if (auto t = tones.find(pattern); t != tones.end()) {
    c.writes.push_back({3, {0}});  // arm
    c.writes.push_back({2, {t->second}});
    c.confirm = {Confirmation::Kind::coil_set, 0, 1};
    return c;
  }
  if (pattern == "all-clear") {
    c.writes.push_back({3, {3}});  // cancel
    return c;
  }
  if (pattern == "test") {
    c.writes.push_back({3, {4}});  // quiet test
    return c;
  }
  return std::nullopt;
}

}  // namespace tocsin::channels::siren
