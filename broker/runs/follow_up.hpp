#pragma once
// Cancel or correct a public alert in one action: a new alert on every channel the original went
// to, to the same audience and area, with the shared `public-cancel` / `public-update` templates
// (and the coordinator's note); a siren alert gets the all-clear. Audited.

#include <map>
#include <string>

#include "broker/runs/runs.hpp"
#include "broker/storage/database.hpp"
#include "core/result.hpp"

namespace tocsin {

// The coordinator's words: one text for every language, or each language's own (fr and en).
// And the machine that asked for the follow-up for `by`, if any (the audit's actor).
struct FollowUpNote {
  std::string text;
  std::map<std::string, std::string> by_language;
  std::string via;  // "token:NAME"
  bool empty() const { return text.empty() && by_language.empty(); }
};

// In the caller's write transaction. kind: cancel | update (an update needs a note). A cancel
// also cancels the other public alerts of the same run still standing (its sirens): one action.
// The first alert made is the one asked for.
Result<std::vector<AlertRecord>> follow_up(db::Connection& db, const std::string& alert_id,
                                           const std::string& kind, const FollowUpNote& note,
                                           const std::string& by, Timestamp at);

}  // namespace tocsin
