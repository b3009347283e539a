#pragma once
// The one writer of two tables every part of the server adds to:
// - `alerts`: a run's step or a follow-up (cancel, correction) makes an alert, `pending`; the
//   delivery ledger marks it `dispatched` once its deliveries are stored, or `blocked`;
// - `incident_events`: each incident's history (reports, people's actions, its runs' steps).
// Both on the journal's thread, in the caller's transaction.

#include <string>

#include "broker/storage/database.hpp"
#include "core/alert.hpp"
#include "core/time.hpp"

namespace tocsin {

class AlertsTable {
 public:
  explicit AlertsTable(db::Connection& db);
  // A new alert, `pending`. `grouped`: JSON of its group's incidents (a storm's run).
  void insert(const Alert& alert, const std::string& grouped = "[]");
  void dispatched(const std::string& alert_id);
  // Not sent: `problems` (a JSON array of strings) says why.
  void blocked(const std::string& alert_id, const std::string& problems);

 private:
  db::Statement insert_, dispatched_, blocked_;
};

class IncidentEvents {
 public:
  explicit IncidentEvents(db::Connection& db);
  // kind: report, update, acknowledge, resolve, run, grouped…; body: JSON.
  void append(const std::string& incident_id, Timestamp at, std::string_view kind,
              std::string_view actor, std::string_view body);

 private:
  db::Statement insert_;
};

}  // namespace tocsin
