#pragma once
// The public alerts standing now, as the public page (/alerts) and the public WebSocket's
// snapshot show them: each released public alert (not an exercise's) until it expires, in the
// words it was sent in (the live page's rendering, else the text message's), with its area, its
// updates in order, and marked cancelled once a cancellation of it went out. Read through a
// board that keeps the answer for a second (thousands of pages opening at once during an
// emergency ask the database once) and forgets it when the alerts change.

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "broker/storage/database.hpp"
#include "core/time.hpp"
#include "core/zones.hpp"

namespace tocsin {

struct PublicAlert {
  std::string id;
  std::string incident_id;
  std::vector<std::string> zones;           // the incident's, the most specific first
  std::map<std::string, std::string> area;  // by language: the zones' names, most specific first
  Timestamp issued_at{};
  Timestamp expires_at{};
  std::optional<Timestamp> cancelled_at;
  std::map<std::string, std::string> text;  // by language
  struct Update {
    Timestamp at{};
    std::map<std::string, std::string> text;  // by language
  };
  std::vector<Update> updates;
};

// Every public alert standing at `at` (the newest first, at most `limit`).
std::vector<PublicAlert> public_alerts_now(db::Connection& db, const ZoneMap& zones, Timestamp at,
                                           std::size_t limit = 50);

// As JSON (RFC 3339 times in UTC): texts in `language` only, or both when it is empty.
boost::json::object to_json(const PublicAlert& alert, const std::string& language);
// {"type": "snapshot", "alerts": [...]}: what a public WebSocket session gets first.
boost::json::object public_snapshot(const std::vector<PublicAlert>& alerts,
                                    const std::string& language);

// The transparency figures, aggregates only: public alerts sent per month (the last 24, UTC) and
// category, the median time from a report to its alert's first public delivery, residents who
// can be reached per zone and language. Every count is rounded to 10, and null below 10 (a
// count that small could point at someone).
boost::json::object public_stats(db::Connection& db, const ZoneMap& zones, Timestamp at);
// A count as published: rounded to 10; null below 10.
boost::json::value published_count(std::int64_t n);

class PublicBoard {
 public:
  using Read = std::function<std::vector<PublicAlert>()>;
  explicit PublicBoard(Read read, std::chrono::milliseconds keep = std::chrono::seconds(1))
      : read_(std::move(read)), keep_(keep) {}
  std::vector<PublicAlert> current();
  void invalidate();

 private:
  Read read_;
  std::chrono::milliseconds keep_;
  std::mutex mutex_;
  std::vector<PublicAlert> kept_;
  std::chrono::steady_clock::time_point read_at_{};
  bool valid_ = false;
};

}  // namespace tocsin
