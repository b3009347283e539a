#include "core/faults.hpp"

#include <charconv>
#include <cstdlib>
#include <map>
#include <mutex>

namespace tocsin::faults {

namespace {
std::mutex mutex;
std::map<std::string, long, std::less<>> remaining;  // -1: every time
}  // namespace

std::atomic<bool> detail::any{false};

bool detail::fires(std::string_view point) {
  std::lock_guard lock(mutex);
  auto it = remaining.find(point);
  if (it == remaining.end() || it->second == 0) return false;
  if (it->second > 0) --it->second;
  return true;
}

void configure_from_environment() {
  const char* spec = std::getenv("TOCSIN_FAULTS");
  if (!spec || !*spec) return;
  std::lock_guard lock(mutex);
  std::string_view rest(spec);
  while (!rest.empty()) {
    auto comma = rest.find(',');
    std::string_view entry = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    if (entry.empty()) continue;
    auto eq = entry.find('=');
    std::string_view name = entry.substr(0, eq);
    long count = -1;
    if (eq != std::string_view::npos) {
      std::string_view n = entry.substr(eq + 1);
      auto [end, ec] = std::from_chars(n.data(), n.data() + n.size(), count);
      if (ec != std::errc{} || end != n.data() + n.size() || count < 1)
        throw std::invalid_argument("TOCSIN_FAULTS: " + std::string(entry) +
                                    ": a point's count is a whole number from 1 (name=N)");
    }
    if (name.empty())
      throw std::invalid_argument("TOCSIN_FAULTS: " + std::string(entry) + ": no point named");
    remaining[std::string(name)] = count;
  }
  detail::any.store(!remaining.empty());
}

}  // namespace tocsin::faults
