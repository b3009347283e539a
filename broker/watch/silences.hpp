#pragma once
// Maintenance windows ("silences"): while one is open, the incidents it matches are journaled as
// usual but start no playbook run. Each has an end (never open-ended), a reason and an author;
// creating and expiring one is audited.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/fwd.hpp>

#include "broker/journal/muter.hpp"
#include "broker/storage/database.hpp"
#include "core/incident.hpp"
#include "core/result.hpp"
#include "core/zones.hpp"

namespace tocsin {

struct Silence {
  std::string id;
  std::string source;  // glob (flood-gauge-*); empty: any source
  std::string type;    // glob (flood.*); empty: any type
  std::string zone;    // a zone id; empty: anywhere
  Timestamp starts_at{};
  Timestamp ends_at{};
  std::string reason;
  std::string author;
  Timestamp created_at{};
  std::optional<Timestamp> expired_at;  // ended early, by expired_by
  std::string expired_by;

  bool open_at(Timestamp t) const;
  bool matches(const Incident& incident, const ZoneMap* zones) const;
};

struct SilenceLimits {
  std::chrono::seconds max_window = std::chrono::hours(7 * 24);
  std::size_t max_reason = 500;
};

// A window as asked for: {source?, type?, zone?, starts_at? (default now), ends_at | duration,
// reason, author}. Every refusal names the field.
Result<Silence> silence_from_json(const boost::json::value& body, Timestamp now,
                                  const SilenceLimits& limits, const ZoneMap* zones);
boost::json::object to_json(const Silence& s, Timestamp now);

namespace silences {
// In the caller's write transaction; each also appends its audit row.
void insert(db::Connection& db, const Silence& s);
Result<Silence> expire(db::Connection& db, const std::string& id, const std::string& by,
                       Timestamp at);
std::vector<Silence> open_at(db::Connection& db, Timestamp at);
// The most recent first; ended ones too when `all`.
std::vector<Silence> list(db::Connection& db, Timestamp at, bool all, std::size_t limit);
}  // namespace silences

// The maintenance windows as the journal's Muter: the windows open at the transaction's time,
// read once per reports' transaction.
class WindowMuter : public Muter {
 public:
  // Muter
  void begin(db::Connection& db, Timestamp at) override { open_ = silences::open_at(db, at); }
  std::optional<Mute> muted(const Incident& incident, const ZoneMap* zones) override;

 private:
  std::vector<Silence> open_;
};

}  // namespace tocsin
