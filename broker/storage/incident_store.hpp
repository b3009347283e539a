#pragma once
// Reads incidents from the journal database over its own read-only connection (WAL readers never
// block the writer). Blocking: call it off the Asio threads.

#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/fwd.hpp>

#include "broker/storage/sqlite.hpp"
#include "core/alert.hpp"
#include "core/incident.hpp"

namespace tocsin {

struct IncidentEvent {
  std::int64_t seq = 0;
  Timestamp at{};
  std::string kind;
  std::string actor;
  std::string body;  // JSON text
};

// SELECT … FROM incidents with the columns read_incident_row expects; add WHERE and ORDER BY.
constexpr const char* kIncidentSelect =
    "SELECT id, dedup_key, state, source, type, severity, urgency, certainty, headline, "
    "description, location, attributes, occurred_at, received_at, created_at, updated_at, updates, "
    "acknowledged_at, acknowledged_by, status, silenced_by, folded FROM incidents ";
IncidentRecord read_incident_row(const db::Statement& st);

// SELECT … FROM alerts with the columns read_alert_row expects.
constexpr const char* kAlertSelect =
    "SELECT id, incident_id, run_id, playbook_id, kind, audience, channels, template, public, "
    "zones, pattern, duration_s, created_at, cap_status, allow_in_exercise, step, expires_s, "
    "approved, follow_up_of, note, notes FROM alerts ";
Alert read_alert_row(const db::Statement& st);

// SELECT … FROM deliveries with the columns read_delivery_row expects.
constexpr const char* kDeliverySelect =
    "SELECT id, alert_id, incident_id, channel, recipient, address, language, state, attempts, "
    "last_error, provider_ref, fallback_of, created_at, next_attempt_at FROM deliveries ";
Delivery read_delivery_row(const db::Statement& st);

class IncidentStore;
// {"type": "snapshot", "seq", "incidents": [each active incident with its runs and its alerts
// (with delivery counts by state)], "approvals": [pending]}: what a console starts from.
boost::json::object console_snapshot(IncidentStore& store, std::uint64_t seq);

class IncidentStore {
 public:
  explicit IncidentStore(const std::filesystem::path& database);

  std::vector<IncidentRecord> list(const std::string& state, std::size_t limit);
  std::vector<IncidentRecord> all_active();
  std::optional<IncidentRecord> get(const std::string& id);
  std::vector<IncidentEvent> events(const std::string& id, std::size_t limit);

  // For the API, as JSON arrays.
  boost::json::array runs(const std::string& incident_id);
  boost::json::array alerts(const std::string& incident_id, std::size_t limit);
  boost::json::array approvals(const std::string& status, std::size_t limit);
  // One alert with its deliveries counted by state and the first `limit` of them.
  std::optional<boost::json::object> alert(const std::string& id, std::size_t limit);
  // Any other read, under the store's lock (silences, the audit trail).
  template <class F>
  auto with_connection(F&& f) {
    std::lock_guard lock(mutex_);
    return f(db_);
  }
  // Delivery counts by state for each alert named.
  std::map<std::string, std::map<std::string, std::int64_t>> delivery_counts(
      const std::vector<std::string>& alert_ids);

 private:
  std::vector<IncidentRecord> read(db::Statement& st);
  // Delivery counts by state for one alert (every state present); the caller holds mutex_.
  std::map<std::string, std::int64_t> counts_of(const std::string& alert_id);

  std::mutex mutex_;
  sqlite::Connection db_;
};

}  // namespace tocsin
