#pragma once
// Reads incidents from the journal database over its own read-only connection (WAL readers never
// block the writer). Blocking: call it off the Asio threads.

#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "broker/sqlite.hpp"
#include "core/incident.hpp"

namespace tocsin {

struct IncidentEvent {
  std::int64_t seq = 0;
  Timestamp at{};
  std::string kind;
  std::string actor;
  std::string body;  // JSON text
};

class IncidentStore {
 public:
  explicit IncidentStore(const std::filesystem::path& database);

  std::vector<IncidentRecord> list(const std::string& state, std::size_t limit);
  std::vector<IncidentRecord> all_active();
  std::optional<IncidentRecord> get(const std::string& id);
  std::vector<IncidentEvent> events(const std::string& id, std::size_t limit);

 private:
  std::vector<IncidentRecord> read(sqlite::Statement& st);

  IncidentLimits limits_;
  std::mutex mutex_;
  sqlite::Connection db_;
};

}  // namespace tocsin
