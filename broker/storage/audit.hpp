#pragma once
// The audit trail: every change a person or a machine makes (a silence, an acknowledgement, a
// vote) appended to `audit`, each row carrying the SHA-256 of the one before, so that an edited
// or deleted row breaks the chain from there on. Appended inside the caller's transaction.

#include <cstdint>
#include <string>

#include <boost/json/fwd.hpp>

#include "broker/storage/database.hpp"
#include "core/result.hpp"
#include "core/time.hpp"

namespace tocsin {
// SHA-256 of the bytes, in lower-case hex.
std::string sha256_hex(std::string_view bytes);
}  // namespace tocsin

namespace tocsin::audit {

struct Entry {
  Timestamp at{};
  std::string actor;    // a person, a token's name, or a component (cli, playbook)
  std::string action;   // silence.create, silence.expire, incident.ack, approval.approve…
  std::string subject;  // the id acted on
  std::string detail;   // JSON object
};

// A change a machine made for a person (a token naming `by`): the machine (`via`, "token:NAME")
// is the row's actor, and the person it named goes in the detail as `for`. Without `via`, the
// person is the actor.
inline const std::string& actor(const std::string& by, const std::string& via) {
  return via.empty() ? by : via;
}
void name_for(boost::json::object& detail, const std::string& by, const std::string& via);

// Appends one row; the caller holds a write transaction (BEGIN IMMEDIATE) on `db`.
void append(db::Connection& db, const Entry& entry);

// The same, with its statements prepared once: for the journal's writer, which appends a row for
// each report.
class Appender {
 public:
  explicit Appender(db::Connection& db);
  void append(const Entry& entry);

 private:
  db::Statement last_, insert_;
};

struct Verdict {
  std::int64_t rows = 0;
  std::int64_t first_bad = 0;  // 0: the chain holds
  std::string problem;
};
// Recomputes the chain from the first row.
Verdict verify(db::Connection& db);

// A page of rows after `after` (seq), oldest first; or, when `before` is set, the rows before it,
// newest first.
boost::json::array page(db::Connection& db, std::int64_t after, std::int64_t limit,
                        std::int64_t before = 0);

}  // namespace tocsin::audit
