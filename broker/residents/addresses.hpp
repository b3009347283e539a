#pragma once
// The city's civic address file (municipal open data: id, civic number, street, municipality,
// postal code, lat, lon), so that a resident finds their home by typing it: accents, case and
// punctuation aside, and "st-laurent" finds "Saint-Laurent". Public data, kept in clear.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "broker/storage/database.hpp"
#include "core/incident.hpp"
#include "core/result.hpp"

namespace tocsin {

struct CivicAddress {
  std::string id;
  std::string number;  // 1234, 12A
  std::string street;  // Boulevard Saint-Laurent
  std::string municipality;
  std::string postal_code;
  GeoPoint point;
  std::string text() const;  // "1234 Boulevard Saint-Laurent, Montréal H2X 2S6"
};

// The words a search compares: lower case, without accents, punctuation as spaces, st/ste as
// saint/sainte.
std::string address_search_key(std::string_view text);

namespace addresses {

// Replaces the table with the file's rows (CSV with a header: id, number, street, municipality,
// postal_code, lat, lon), in the caller's transaction: their count, or the first problems as
// FILE:LINE: column: message (nothing is replaced then).
Result<std::size_t> import(db::Connection& db, std::string_view csv, const std::string& file);

// At most `limit` addresses whose every word of `query` begins a word of theirs.
std::vector<CivicAddress> search(db::Connection& db, std::string_view query,
                                 std::size_t limit = 10);
std::optional<CivicAddress> find(db::Connection& db, const std::string& id);

}  // namespace addresses

}  // namespace tocsin
