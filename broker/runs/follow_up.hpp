#pragma once
// Cancel or correct a public alert: a new alert on every channel the original went to, to the
// same audience and area, with the shared `public-cancel` / `public-update` templates; a siren
// alert gets the all-clear. A cancel is one action and says the shipped words only (its note is
// audited, not sent). A correction carries the coordinator's text, so it is first proposed
// (Runs::propose_correction) and made here only once a second person approved it. Audited.

#include <map>
#include <string>

#include "broker/runs/runs.hpp"
#include "broker/storage/database.hpp"
#include "core/result.hpp"

namespace tocsin {

// In the caller's write transaction. kind: cancel | update (an update needs a note). A cancel
// also cancels the other public alerts of the same run still standing (its sirens): one action.
// The first alert made is the one asked for.
Result<std::vector<AlertRecord>> follow_up(db::Connection& db, const std::string& alert_id,
                                           const std::string& kind, const FollowUpNote& note,
                                           const std::string& by, Timestamp at);

// The follow-up alert follow_up() would make for one alert (checked the same way), not stored:
// what a proposed correction would reach, for its preview and lint.
Result<AlertRecord> follow_up_draft(db::Connection& db, const std::string& alert_id,
                                    const std::string& kind, const FollowUpNote& note,
                                    Timestamp at);

}  // namespace tocsin
