#pragma once
// Sensor heartbeats. config/sources.yaml declares the sources expected to speak and how often
// (expect_every); a report or a heartbeat counts as speaking. A source silent for
// grace × expect_every raises an incident of type source.silent through the journal, resolved
// when it speaks again. Last-seen times are kept in memory: after a restart every source gets a
// full grace period.

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include <boost/json/fwd.hpp>

#include "broker/journal/intake.hpp"

namespace tocsin {

struct ExpectedSource {
  std::string id;
  std::chrono::seconds expect_every{};
  int grace = 3;
};

// Every problem as file:line:column.
std::variant<std::vector<ExpectedSource>, std::vector<std::string>> load_sources(
    const std::filesystem::path& file);

class SourceWatch {
 public:
  SourceWatch(Intake& journal, std::vector<ExpectedSource> sources);
  ~SourceWatch();

  void start();
  void stop();
  // Thread-safe and cheap: called for every report and heartbeat.
  void seen(const std::string& source);
  bool expects(const std::string& source) const;
  boost::json::array list() const;
  std::size_t silent() const;  // how many expected sources are silent now

 private:
  struct State {
    ExpectedSource expected;
    Timestamp last_seen;
    bool ever_seen = false;
    bool silent = false;
    std::string incident_id;  // the open source.silent incident
  };
  void check();

  Intake& journal_;
  mutable std::mutex mutex_;
  std::condition_variable_any wake_;
  std::map<std::string, State> sources_;
  std::jthread thread_;
};

}  // namespace tocsin
