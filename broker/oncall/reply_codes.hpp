#pragma once
// The numbers staff answer a page with by SMS ("1A" acknowledges): one per person and incident,
// the smallest from 1 to 99 not held by another of that person's active incidents, so two pages at
// once stay apart and a number is used again once its incident is closed. Made (in the journal's
// transaction) the first time a page to that person for that incident is sent, kept in memory for
// the next pages, and read back when a reply comes.

#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "broker/journal/intake.hpp"
#include "broker/storage/database.hpp"

namespace tocsin {

class ReplyCodes {
 public:
  explicit ReplyCodes(Intake& journal) : journal_(journal) {}

  // The codes of active incidents, at start.
  void load(db::Connection& db);
  // The person's number for the incident, made and stored if it has none (waiting for the commit,
  // at most 5 s). nullopt: none could be stored (all 99 in use, the journal failing).
  std::optional<int> code_for(const std::string& person, const std::string& incident);
  // The incident the person's number names: the newest code with that number.
  static std::optional<std::string> incident_of(db::Connection& db, const std::string& person,
                                                int number);

 private:
  Intake& journal_;
  std::mutex mutex_;
  std::map<std::pair<std::string, std::string>, int> known_;  // (person, incident) → number
};

}  // namespace tocsin
