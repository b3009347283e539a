#pragma once
// Deliveries in SQLite, written through the journal's writer (SQLite keeps one writer) in the
// slices it takes between reports: a mass alert's rows go in slices of their own. Also reads
// back, at start-up, what a crash or a stop left unfinished.

#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "broker/journal/intake.hpp"
#include "dispatchers/dispatcher.hpp"

namespace tocsin {

class SqliteDeliveryLedger : public dispatchers::DeliveryLedger {
 public:
  // `changed` is told, after each commit, of the alerts whose delivery counts changed.
  SqliteDeliveryLedger(Intake& journal, std::filesystem::path database,
                       std::function<void(std::vector<std::string> alert_ids)> changed);
  ~SqliteDeliveryLedger() override;

  // dispatchers::DeliveryLedger
  void record(std::shared_ptr<const dispatchers::AlertContent> content,
              std::vector<Delivery> deliveries, bool dispatched,
              std::function<void(bool committed)> done) override;
  void update(const Delivery& delivery) override;
  std::shared_ptr<const dispatchers::AlertContent> content(const std::string& alert_id) override;
  void block(const Alert& alert, const std::vector<std::string>& problems) override;

  // A provider's receipt: the delivery it knows as `provider_ref` on `channel` reached its
  // recipient (delivered) or not (failed). `done` gets the delivery as changed (nullopt: none
  // matched), after the commit.
  void receipt(const std::string& channel, const std::string& provider_ref, DeliveryState state,
               const std::string& error, std::function<void(std::optional<Delivery>)> done);

 private:
  struct Statements;
  Statements& statements(db::Connection& db);  // the writer thread's, prepared once
  static void insert(Statements& st, const Delivery& d);

  Intake& journal_;
  std::filesystem::path database_;
  std::function<void(std::vector<std::string>)> changed_;
  std::mutex read_mutex_;
  std::unique_ptr<db::Connection> reader_;  // opened on first use
  std::unique_ptr<Statements> statements_;
};

// What was left unfinished in the database: alerts never dispatched, and deliveries queued or in
// progress, with the content of their alerts.
struct Unfinished {
  std::vector<std::pair<Alert, IncidentRecord>> pending_alerts;
  std::vector<std::pair<std::shared_ptr<const dispatchers::AlertContent>, std::vector<Delivery>>>
      deliveries;
};
Unfinished load_unfinished(const std::filesystem::path& database);

}  // namespace tocsin
