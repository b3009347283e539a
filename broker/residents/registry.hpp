#pragma once
// The residents the city reaches: who they are (language, the categories they chose), how
// (contacts, sealed, each confirmed or not, stopped or not) and where (places, sealed, with the
// zones each falls in). The one owner of the resident tables: writes run in the caller's
// transaction (the journal's, or the CLI's beside it); reads for the dispatcher go through
// ResidentDirectory on a connection of its own.

#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "broker/residents/sealed_box.hpp"
#include "broker/storage/database.hpp"
#include "core/incident.hpp"
#include "core/result.hpp"
#include "core/time.hpp"
#include "core/zones.hpp"
#include "dispatchers/dispatcher.hpp"

namespace tocsin {

namespace sqlite {
class Connection;
}

// A resident's id as a delivery's recipient: "resident:" and their ULID (never a contact).
inline constexpr std::string_view kResidentPrefix = "resident:";
inline bool is_resident(std::string_view recipient_id) {
  return recipient_id.substr(0, kResidentPrefix.size()) == kResidentPrefix;
}

// tocsin.yaml `residents:`.
struct ResidentsConfig {
  bool enabled = false;
  std::optional<std::string> key;                    // residents.key_file (_env, _credential)
  std::vector<std::string> allowed_countries{"CA"};  // ISO 3166; the first reads national numbers
  std::size_t max_places = 5;
  std::size_t max_codes_per_day = 1000;  // confirmation codes and links sent, in all
};

struct ResidentPlace {
  std::string label;  // home, work, "ma mère"…: the resident's words, sealed with the point
  GeoPoint point;
  std::string address;  // the civic address it was found by, or empty (a point on the map)
};

struct NewResident {
  std::string phone;  // E.164, or empty
  std::string email;  // lower case, or empty
  std::string language = "fr";
  std::vector<std::string> categories;  // of resident_categories()
  std::vector<ResidentPlace> places;
};

namespace residents {

// Categories as a list, from text that separates them by spaces, ';' or ',' (as stored, or as a
// list's cell).
std::vector<std::string> category_list(std::string text);

// Checks and stores a resident; its id. Refused, naming the field: no contact, a contact another
// resident has (found through the blind index), no place, too many, a place outside every zone of
// the city, an unknown category or language. `confirmed`: the contacts count as confirmed (an
// import of an existing opt-in list); otherwise nothing but a confirmation is sent to them.
Result<std::string> add(db::Connection& db, const SealedBox& box, const ZoneMap& zones,
                        const NewResident& r, bool confirmed, std::size_t max_places,
                        const std::string& id, Timestamp at);

// STOP (stopped) or START (not) from a phone number, audited as the resident's own act (their
// id, never the number): the residents whose number it is (none: it is no resident's).
std::vector<std::string> set_stopped(db::Connection& db, const SealedBox& box,
                                     const std::string& e164, bool stopped, Timestamp at);

// A resident's contact of `kind` (email, phone) stopped, or started again, from the web: the
// e-mail's unsubscribe link, or their page. Audited resident.stop / resident.start with the
// channel. False: no such contact, or it already was.
bool set_contact_stopped(db::Connection& db, const std::string& id, const std::string& kind,
                         bool stopped, Timestamp at);

// The resident whose contact of `kind` (phone, email) this is, found by its blind index.
std::optional<std::string> find_by_contact(db::Connection& db, const SealedBox& box,
                                           const std::string& kind, const std::string& value);

// A resident's own changes: their alerts' language and categories (checked as add checks them).
Result<bool> set_preferences(db::Connection& db, const std::string& id, const std::string& language,
                             const std::vector<std::string>& categories, Timestamp at);

// A place added to a resident's subscription (checked as add checks one, within `max_places`),
// or place `n` (as export_data numbers them from 0) removed, never the last; the zones the
// resident is in follow. Audited under their id, without the place.
Result<bool> add_place(db::Connection& db, const SealedBox& box, const ZoneMap& zones,
                       const std::string& id, const ResidentPlace& place, std::size_t max_places,
                       Timestamp at);
Result<bool> remove_place(db::Connection& db, const SealedBox& box, const ZoneMap& zones,
                          const std::string& id, std::size_t n, Timestamp at);

// Retention: a sign-up none of whose contacts was confirmed within `after` of it is erased
// (audited `resident.purge`), a contact left unconfirmed that long beside a confirmed one is
// dropped, and codes and send counts past their use are deleted. The residents erased.
std::int64_t purge_unconfirmed(db::Connection& db, Timestamp at, std::chrono::hours after);

// Erasure: the resident and everything of theirs gone at once (contacts, places, zones, codes),
// audited as `resident.erase` under their id alone. Their past deliveries keep their id and
// state (the counts), never an address. False: no such resident.
bool erase(db::Connection& db, const std::string& id, const std::string& by, Timestamp at,
           const char* action = "resident.erase");

// Everything the city holds on a resident, opened from its seals (what they download): id,
// language, categories, created_at, contacts (kind, value, confirmed_at, stopped_at), places
// (label, lat, lon). nullopt: no such resident.
std::optional<boost::json::object> export_data(db::Connection& db, const SealedBox& box,
                                               const std::string& id);

// Residents with at least one contact that may be sent to (confirmed, not stopped), in all or in
// one zone.
std::int64_t count(db::Connection& db, const std::string& zone = "");

}  // namespace residents

// Reads for the dispatcher: the contacts an alert reaches, opened from their seals. Thread-safe.
class ResidentDirectory {
 public:
  ResidentDirectory(std::filesystem::path database, std::shared_ptr<const SealedBox> box);
  ~ResidentDirectory();

  // Every resident with a place in one of `zones` and a contact that may be sent to, each once:
  // those who chose `category` (every one if it is empty or `everyone`).
  std::vector<dispatchers::Contact> in_zones(const std::vector<std::string>& zones,
                                             const std::string& category, bool everyone);
  // One resident by recipient id ("resident:…"), with only the contacts that may be sent to.
  std::optional<dispatchers::Contact> find(const std::string& recipient_id);

 private:
  sqlite::Connection& connection();
  std::filesystem::path database_;
  std::shared_ptr<const SealedBox> box_;
  std::mutex mutex_;
  std::unique_ptr<sqlite::Connection> db_;
};

}  // namespace tocsin
