#include "broker/watch/siren_watch.hpp"

#include <algorithm>
#include "core/json_text.hpp"

#include <spdlog/spdlog.h>
#include <boost/json.hpp>

namespace tocsin {

void SirenWatch::controllers(std::map<std::string, std::vector<std::string>> zones_by_controller) {
  std::lock_guard lock(mutex_);
  zones_ = std::move(zones_by_controller);
}

std::string SirenWatch::by_zone() const {
  namespace json = boost::json;
  std::lock_guard lock(mutex_);
  std::map<std::string, json::array> zones;
  for (const auto& [id, covered] : zones_) {
    json::object c{{"id", id}, {"polled", false}};
    if (auto it = last_.find(id); it != last_.end()) {
      const auto& s = it->second;
      c = json::object{{"id", id},
                       {"polled", true},
                       {"reachable", s.reachable},
                       {"sounding", s.sounding},
                       {"fault_code", s.fault_code},
                       {"ac_power", s.ac_power},
                       {"battery_percent", s.battery_percent},
                       {"error", s.error},
                       {"polled_at", format_rfc3339(s.at)}};
    }
    for (const auto& z : covered) zones[z].push_back(c);
  }
  json::array out;
  for (auto& [zone, list] : zones)
    out.push_back(json::object{{"zone", zone}, {"controllers", std::move(list)}});
  return json_text(json::object{{"zones", std::move(out)}});
}

void SirenWatch::on_status(const channels::SirenStatus& s) {
  {
    std::lock_guard lock(mutex_);
    last_[s.controller] = s;
  }
  std::vector<std::pair<std::string, std::string>> fields{
      {"controller", s.controller},
      {"reachable", s.reachable ? "1" : "0"},
      {"sounding", s.sounding},
      {"ac_power", s.ac_power ? "1" : "0"},
      {"battery_percent", std::to_string(s.battery_percent)},
      {"fault_code", std::to_string(s.fault_code)},
      {"last_sequence", std::to_string(s.last_sequence)},
      {"error", s.error},
      {"polled_at", format_rfc3339(s.at)}};
  live_.set_hash("tocsin:siren:" + s.controller, std::move(fields));

  std::string fault = !s.reachable        ? "unreachable"
                      : s.fault_code != 0 ? "fault " + std::to_string(s.fault_code)
                                          : "";
  {
    std::lock_guard lock(mutex_);
    std::string& last = reported_[s.controller];
    if (fault == last) return;  // report changes only: a fault once, not at every poll
    last = fault;
  }
  if (fault.empty()) {
    spdlog::info("siren {}: back to normal", s.controller);
    return;
  }
  Incident i = raised_by_tocsin(
      "tocsin/siren-poller", "siren.fault", s.controller, "Siren " + s.controller + ": " + fault,
      s.reachable ? "The controller reports fault code " + std::to_string(s.fault_code)
                  : "The controller does not answer: " + s.error,
      {{"controller", s.controller},
       {"reachable", s.reachable},
       {"fault_code", double(s.fault_code)},
       {"ac_power", s.ac_power}});
  spdlog::warn("siren {}: {}; raising a siren.fault incident", s.controller, fault);
  journal_.submit(std::move(i), [controller = s.controller](Result<Accepted> r) {
    if (!r)
      spdlog::error("siren {}: the fault incident was not stored: {}", controller,
                    r.error().message);
  });
}

std::size_t SirenWatch::unreachable() const {
  std::lock_guard lock(mutex_);
  return std::size_t(
      std::count_if(last_.begin(), last_.end(), [](const auto& s) { return !s.second.reachable; }));
}

}  // namespace tocsin
