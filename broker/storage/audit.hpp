#pragma once
// The audit trail: every change a person or a machine makes (a silence, an acknowledgement, a
// vote) appended to `audit`, each row carrying the hash of the one before, so that an edited or
// deleted row breaks the chain from there on. Appended inside the caller's transaction.
//
// Keyed: with a key (use_key, from a file outside the database), each row's hash is an
// HMAC-SHA256, so that whoever can write the database cannot recompute the chain without the key
// too. Checkpoints (the head's seq and hash, with their MAC) are appended to a file outside the
// database at intervals, so that rows cut from the chain's end show: verify() compares.

#include <cstdint>
#include <filesystem>
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

// The chain's key: a file of 64 hex characters (32 random bytes), mode 0600, made when `create`
// and it is missing. Its bytes, or why not.
Result<std::string> load_key(const std::filesystem::path& file, bool create);
// The key every append and verify of this process uses (set once, before any thread appends).
void use_key(std::string key);

// Appends a checkpoint of the chain's head to `file` (a JSON line: seq, hash, at, mac; fsynced)
// if the head moved since the file's last line. Needs the key. Returns whether it wrote one.
Result<bool> checkpoint(db::Connection& db, const std::filesystem::path& file);

struct Verdict {
  std::int64_t rows = 0;
  std::int64_t first_bad = 0;  // 0: the chain holds
  std::string problem;
  std::int64_t checkpoints = 0;  // checked against the chain
};
// Recomputes the chain from the first row; then, given a checkpoints file, checks each one's MAC
// and that the chain still holds the row it recorded, with the same hash (a chain cut at its
// end, or rewritten, fails here).
Verdict verify(db::Connection& db, const std::filesystem::path& checkpoints = {});

// A page of rows after `after` (seq), oldest first; or, when `before` is set, the rows before it,
// newest first.
boost::json::array page(db::Connection& db, std::int64_t after, std::int64_t limit,
                        std::int64_t before = 0);

}  // namespace tocsin::audit
