#pragma once
// On-call overrides made in the console or through the API: stored, audited, cancelled; the
// OverrideBook (core/schedules.hpp) holds the ones that have not ended for the dispatcher.

#include <vector>

#include <boost/json/fwd.hpp>

#include "broker/storage/database.hpp"
#include "core/result.hpp"
#include "core/schedules.hpp"

namespace tocsin::overrides {

// {person, instead_of?, from, to, reason}: times on the city's clock or RFC 3339; `by` and the
// schedule from the request. Every refusal names the field.
Result<ScheduleOverride> from_json(const boost::json::value& body, const Schedules& schedules,
                                   const Schedule& schedule, const Directory& people,
                                   Timestamp now);
boost::json::object to_json(const ScheduleOverride& o, const Schedules& schedules);

// In the caller's write transaction; each appends its audit row (without contact details).
void insert(db::Connection& db, const ScheduleOverride& o);
Result<ScheduleOverride> cancel(db::Connection& db, const std::string& schedule,
                                const std::string& id, const std::string& by, Timestamp at);
// Those not cancelled that end after `at`, oldest first.
std::vector<ScheduleOverride> current(db::Connection& db, Timestamp at);

}  // namespace tocsin::overrides
