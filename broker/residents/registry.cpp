#include "broker/residents/registry.hpp"

#include <algorithm>
#include <map>
#include <set>

#include <boost/json.hpp>

#include "broker/storage/audit.hpp"
#include "broker/storage/sqlite.hpp"
#include "core/alert.hpp"
#include "core/json_text.hpp"

namespace tocsin {

namespace json = boost::json;

namespace residents {

namespace {

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : " ") + s;
  return out;
}

// A contact already someone's, by its blind index.
bool taken(db::Connection& db, const std::string& kind, const std::string& blind) {
  auto st = db.prepare("SELECT 1 FROM resident_contacts WHERE kind = ?1 AND blind = ?2");
  st.bind(1, kind).bind(2, blind);
  return st.step();
}

std::string sealed_place(const SealedBox& box, const ResidentPlace& p) {
  json::object o{{"label", p.label}, {"lat", p.point.lat}, {"lon", p.point.lon}};
  if (!p.address.empty()) o["address"] = p.address;
  return box.seal(json_text(o), "place");
}

// The zones a place falls in, or why it is refused (naming `field`).
Result<std::vector<std::string>> place_zones(const ZoneMap& zones, const ResidentPlace& p,
                                             const std::string& field) {
  if (p.label.size() > 60)
    return Error{"too_large", "a place's name has at most 60 characters", field + ".label"};
  auto found = zones.zones_of(Location{std::nullopt, p.point, {}});
  if (found.empty())
    return Error{"outside",
                 "this place is outside the city: alerts are sent for places inside it only",
                 field};
  return found;
}

// The resident's places' points, opened from their seals, by number.
std::map<std::int64_t, GeoPoint> place_points(db::Connection& db, const SealedBox& box,
                                              const std::string& id) {
  std::map<std::int64_t, GeoPoint> out;
  auto st = db.prepare("SELECT n, sealed FROM resident_places WHERE resident_id = ?1");
  st.bind(1, id);
  while (st.step()) {
    boost::system::error_code ec;
    auto place = json::parse(box.open(st.text(1), "place").value_or("{}"), ec);
    if (ec || !place.is_object() || !place.as_object().contains("lat")) continue;
    out[st.integer(0)] =
        GeoPoint{place.at("lat").to_number<double>(), place.at("lon").to_number<double>()};
  }
  return out;
}

// The zones the resident is in, from their places as they now are.
void rezone(db::Connection& db, const SealedBox& box, const ZoneMap& zones, const std::string& id) {
  std::set<std::string> in;
  for (const auto& [n, point] : place_points(db, box, id))
    for (auto& z : zones.zones_of(Location{std::nullopt, point, {}})) in.insert(std::move(z));
  auto clear = db.prepare("DELETE FROM resident_zones WHERE resident_id = ?1");
  clear.bind(1, id);
  clear.run();
  auto zone = db.prepare("INSERT INTO resident_zones (zone, resident_id) VALUES (?1, ?2)");
  for (const auto& z : in) {
    zone.bind(1, z).bind(2, id);
    zone.run();
  }
}

}  // namespace

std::vector<std::string> category_list(std::string text) {
  for (char& c : text)
    if (c == ';' || c == ',') c = ' ';
  std::vector<std::string> out;
  std::size_t at = 0;
  while ((at = text.find_first_not_of(' ', at)) != std::string::npos) {
    auto end = text.find(' ', at);
    out.push_back(text.substr(at, end == std::string::npos ? end : end - at));
    at = end;
  }
  return out;
}

Result<std::string> add(db::Connection& db, const SealedBox& box, const ZoneMap& zones,
                        const NewResident& r, bool confirmed, std::size_t max_places,
                        const std::string& id, Timestamp at) {
  if (r.phone.empty() && r.email.empty())
    return Error{"invalid", "give a mobile number, an e-mail address, or both", "phone"};
  if (r.language != "fr" && r.language != "en")
    return Error{"invalid", "the language is fr or en", "language"};
  const auto& known = resident_categories();
  for (const auto& c : r.categories)
    if (std::find(known.begin(), known.end(), c) == known.end())
      return Error{"invalid", "'" + c + "' is not a category (" + joined(known) + ")",
                   "categories"};
  if (r.places.empty()) return Error{"invalid", "give at least one place", "places"};
  if (r.places.size() > max_places)
    return Error{"too_large", "at most " + std::to_string(max_places) + " places", "places"};

  std::set<std::string> in_zones;
  for (std::size_t i = 0; i < r.places.size(); ++i) {
    const auto& p = r.places[i];
    auto found = place_zones(zones, p, "places[" + std::to_string(i) + "]");
    if (!found) return found.error();
    in_zones.insert(found->begin(), found->end());
  }
  const std::string phone_blind = r.phone.empty() ? "" : box.blind("phone", r.phone);
  const std::string email_blind = r.email.empty() ? "" : box.blind("email", r.email);
  if (!r.phone.empty() && taken(db, "phone", phone_blind))
    return Error{"duplicate", "this number is already signed up", "phone"};
  if (!r.email.empty() && taken(db, "email", email_blind))
    return Error{"duplicate", "this address is already signed up", "email"};

  const std::int64_t ms = to_unix_ms(at);
  auto resident = db.prepare(
      "INSERT INTO residents (id, language, categories, created_at, updated_at) VALUES (?1, ?2, "
      "?3, ?4, ?4)");
  resident.bind(1, id).bind(2, r.language).bind(3, joined(r.categories)).bind(4, ms);
  resident.run();
  auto contact = db.prepare(
      "INSERT INTO resident_contacts (resident_id, kind, sealed, blind, confirmed_at) VALUES "
      "(?1, ?2, ?3, ?4, ?5)");
  auto add_contact = [&](const char* kind, const std::string& value, const std::string& blind) {
    if (value.empty()) return;
    contact.bind(1, id).bind(2, kind).bind(3, box.seal(value, kind)).bind(4, blind);
    if (confirmed)
      contact.bind(5, ms);
    else
      contact.bind_null(5);
    contact.run();
  };
  add_contact("phone", r.phone, phone_blind);
  add_contact("email", r.email, email_blind);
  auto place =
      db.prepare("INSERT INTO resident_places (resident_id, n, sealed) VALUES (?1, ?2, ?3)");
  for (std::size_t i = 0; i < r.places.size(); ++i) {
    const auto& p = r.places[i];
    place.bind(1, id).bind(2, std::int64_t(i));
    place.bind(3, sealed_place(box, p));
    place.run();
  }
  auto zone = db.prepare("INSERT INTO resident_zones (zone, resident_id) VALUES (?1, ?2)");
  for (const auto& z : in_zones) {
    zone.bind(1, z).bind(2, id);
    zone.run();
  }
  return id;
}

std::vector<std::string> set_stopped(db::Connection& db, const SealedBox& box,
                                     const std::string& e164, bool stopped, Timestamp at) {
  auto st = db.prepare(
      "UPDATE resident_contacts SET stopped_at = ?3 WHERE kind = 'phone' AND blind = ?1 AND "
      "(stopped_at IS NULL) = ?2 RETURNING resident_id");
  st.bind(1, box.blind("phone", e164)).bind(2, std::int64_t(stopped ? 1 : 0));
  if (stopped)
    st.bind(3, to_unix_ms(at));
  else
    st.bind_null(3);
  std::vector<std::string> ids;
  while (st.step()) ids.push_back(st.text(0));
  st.reset();
  audit::Appender trail(db);
  for (const auto& id : ids)
    trail.append(
        {at, "resident", stopped ? "resident.stop" : "resident.start", id, R"({"channel":"sms"})"});
  return ids;
}

bool set_contact_stopped(db::Connection& db, const std::string& id, const std::string& kind,
                         bool stopped, Timestamp at) {
  auto st = db.prepare(
      "UPDATE resident_contacts SET stopped_at = ?4 WHERE resident_id = ?1 AND kind = ?2 AND "
      "(stopped_at IS NULL) = ?3");
  st.bind(1, id).bind(2, kind).bind(3, std::int64_t(stopped ? 1 : 0));
  if (stopped)
    st.bind(4, to_unix_ms(at));
  else
    st.bind_null(4);
  st.run();
  if (db.changes() == 0) return false;
  audit::Appender(db).append(
      {at, "resident", stopped ? "resident.stop" : "resident.start", id,
       json_text(json::object{{"channel", kind == "phone" ? "sms" : kind}})});
  return true;
}

std::optional<std::string> find_by_contact(db::Connection& db, const SealedBox& box,
                                           const std::string& kind, const std::string& value) {
  auto st = db.prepare("SELECT resident_id FROM resident_contacts WHERE kind = ?1 AND blind = ?2");
  st.bind(1, kind).bind(2, box.blind(kind, value));
  if (!st.step()) return std::nullopt;
  return st.text(0);
}

Result<bool> set_preferences(db::Connection& db, const std::string& id, const std::string& language,
                             const std::vector<std::string>& categories, Timestamp at) {
  if (language != "fr" && language != "en")
    return Error{"invalid", "the language is fr or en", "language"};
  const auto& known = resident_categories();
  for (const auto& c : categories)
    if (std::find(known.begin(), known.end(), c) == known.end())
      return Error{"invalid", "'" + c + "' is not a category (" + joined(known) + ")",
                   "categories"};
  auto st = db.prepare(
      "UPDATE residents SET language = ?2, categories = ?3, updated_at = ?4 WHERE id = ?1");
  st.bind(1, id).bind(2, language).bind(3, joined(categories)).bind(4, to_unix_ms(at));
  st.run();
  if (db.changes() == 0) return Error{"not_found", "no such resident", "id"};
  audit::Appender(db).append(
      {at, "resident", "resident.update", id,
       json_text(json::object{{"language", language}, {"categories", joined(categories)}})});
  return true;
}

Result<bool> add_place(db::Connection& db, const SealedBox& box, const ZoneMap& zones,
                       const std::string& id, const ResidentPlace& place, std::size_t max_places,
                       Timestamp at) {
  auto found = place_zones(zones, place, "place");
  if (!found) return found.error();
  auto held = db.prepare(
      "SELECT count(*), coalesce(max(n), -1) FROM resident_places WHERE resident_id = ?1");
  held.bind(1, id);
  held.step();
  if (held.integer(0) == 0) return Error{"not_found", "no such resident", "id"};
  if (std::size_t(held.integer(0)) >= max_places)
    return Error{"too_large", "at most " + std::to_string(max_places) + " places", "place"};
  const std::int64_t n = held.integer(1) + 1;
  held.reset();
  auto insert =
      db.prepare("INSERT INTO resident_places (resident_id, n, sealed) VALUES (?1, ?2, ?3)");
  insert.bind(1, id).bind(2, n).bind(3, sealed_place(box, place));
  insert.run();
  rezone(db, box, zones, id);
  audit::Appender(db).append({at, "resident", "resident.place_add", id, "{}"});
  return true;
}

Result<bool> remove_place(db::Connection& db, const SealedBox& box, const ZoneMap& zones,
                          const std::string& id, std::size_t n, Timestamp at) {
  auto held = db.prepare("SELECT n FROM resident_places WHERE resident_id = ?1 ORDER BY n");
  held.bind(1, id);
  std::vector<std::int64_t> numbers;
  while (held.step()) numbers.push_back(held.integer(0));
  held.reset();
  if (n >= numbers.size()) return Error{"not_found", "no such place", "place"};
  if (numbers.size() == 1)
    return Error{"invalid", "a subscription follows at least one place", "place"};
  auto st = db.prepare("DELETE FROM resident_places WHERE resident_id = ?1 AND n = ?2");
  st.bind(1, id).bind(2, numbers[n]);
  st.run();
  rezone(db, box, zones, id);
  audit::Appender(db).append({at, "resident", "resident.place_remove", id, "{}"});
  return true;
}

std::int64_t purge_unconfirmed(db::Connection& db, Timestamp at, std::chrono::hours after) {
  const std::int64_t before = to_unix_ms(at - after);
  auto stale = db.prepare(
      "SELECT r.id FROM residents r WHERE r.created_at < ?1 AND NOT EXISTS (SELECT 1 FROM "
      "resident_contacts c WHERE c.resident_id = r.id AND c.confirmed_at IS NOT NULL)");
  stale.bind(1, before);
  std::vector<std::string> ids;
  while (stale.step()) ids.push_back(stale.text(0));
  stale.reset();
  for (const auto& id : ids) erase(db, id, "retention", at, "resident.purge");
  auto contacts = db.prepare(
      "DELETE FROM resident_contacts WHERE confirmed_at IS NULL AND resident_id IN (SELECT id "
      "FROM residents WHERE created_at < ?1)");
  contacts.bind(1, before);
  contacts.run();
  auto codes = db.prepare("DELETE FROM resident_codes WHERE expires_at < ?1");
  codes.bind(1, to_unix_ms(at));
  codes.run();
  // The sends count for a day at most (the rate limits' longest window).
  auto sends = db.prepare("DELETE FROM resident_sends WHERE sent_at < ?1");
  sends.bind(1, to_unix_ms(at - std::chrono::hours(24)));
  sends.run();
  return std::int64_t(ids.size());
}

bool erase(db::Connection& db, const std::string& id, const std::string& by, Timestamp at,
           const char* action) {
  for (const char* table :
       {"resident_codes", "resident_zones", "resident_places", "resident_contacts"}) {
    auto st = db.prepare(std::string("DELETE FROM ") + table + " WHERE resident_id = ?1");
    st.bind(1, id);
    st.run();
  }
  auto st = db.prepare("DELETE FROM residents WHERE id = ?1");
  st.bind(1, id);
  st.run();
  if (db.changes() == 0) return false;
  audit::Appender(db).append({at, by, action, id, "{}"});
  return true;
}

std::optional<json::object> export_data(db::Connection& db, const SealedBox& box,
                                        const std::string& id) {
  auto who = db.prepare("SELECT language, categories, created_at FROM residents WHERE id = ?1");
  who.bind(1, id);
  if (!who.step()) return std::nullopt;
  auto when = [](std::int64_t ms) { return format_rfc3339(from_unix_ms(ms)); };
  json::array categories;
  for (const auto& c : category_list(who.text(1))) categories.emplace_back(c);
  json::object out{{"id", id},
                   {"language", who.text(0)},
                   {"categories", std::move(categories)},
                   {"created_at", when(who.integer(2))}};
  json::array contacts;
  auto c = db.prepare(
      "SELECT kind, sealed, confirmed_at, stopped_at FROM resident_contacts WHERE resident_id = "
      "?1 ORDER BY kind DESC");
  c.bind(1, id);
  while (c.step()) {
    json::object o{{"kind", c.text(0)}, {"value", box.open(c.text(1), c.text(0)).value_or("")}};
    o["confirmed_at"] = c.is_null(2) ? json::value(nullptr) : json::value(when(c.integer(2)));
    o["stopped_at"] = c.is_null(3) ? json::value(nullptr) : json::value(when(c.integer(3)));
    contacts.push_back(std::move(o));
  }
  out["contacts"] = std::move(contacts);
  json::array places;
  auto p = db.prepare("SELECT sealed FROM resident_places WHERE resident_id = ?1 ORDER BY n");
  p.bind(1, id);
  while (p.step()) {
    boost::system::error_code ec;
    auto place = json::parse(box.open(p.text(0), "place").value_or("{}"), ec);
    places.push_back(ec ? json::value(json::object()) : place);
  }
  out["places"] = std::move(places);
  return out;
}

std::int64_t count(db::Connection& db, const std::string& zone) {
  const char* reachable =
      "EXISTS (SELECT 1 FROM resident_contacts c WHERE c.resident_id = r.id AND c.confirmed_at IS "
      "NOT NULL AND c.stopped_at IS NULL)";
  auto st = zone.empty()
                ? db.prepare(std::string("SELECT count(*) FROM residents r WHERE ") + reachable)
                : db.prepare(std::string("SELECT count(*) FROM resident_zones z JOIN residents r "
                                         "ON r.id = z.resident_id WHERE z.zone = ?1 AND ") +
                             reachable);
  if (!zone.empty()) st.bind(1, zone);
  st.step();
  return st.integer(0);
}

}  // namespace residents

ResidentDirectory::ResidentDirectory(std::filesystem::path database,
                                     std::shared_ptr<const SealedBox> box)
    : database_(std::move(database)), box_(std::move(box)) {}

ResidentDirectory::~ResidentDirectory() = default;

sqlite::Connection& ResidentDirectory::connection() {
  if (!db_)
    db_ = std::make_unique<sqlite::Connection>(database_.string(),
                                               sqlite::Connection::Mode::read_only);
  return *db_;
}

namespace {

// A contact row opened from its seal into `who`; false if it does not open (another key).
bool open_into(const SealedBox& box, const std::string& kind, const std::string& sealed,
               dispatchers::Contact& who) {
  auto value = box.open(sealed, kind);
  if (!value) return false;
  (kind == "phone" ? who.phone : who.email) = std::move(*value);
  return true;
}

bool chose(const std::string& categories, const std::string& category) {
  return (" " + categories + " ").find(" " + category + " ") != std::string::npos;
}

}  // namespace

std::vector<dispatchers::Contact> ResidentDirectory::in_zones(const std::vector<std::string>& zones,
                                                              const std::string& category,
                                                              bool everyone) {
  std::lock_guard lock(mutex_);
  auto st = connection().prepare(
      "SELECT r.id, r.language, r.categories, c.kind, c.sealed FROM resident_zones z JOIN "
      "residents r ON r.id = z.resident_id JOIN resident_contacts c ON c.resident_id = r.id WHERE "
      "z.zone = ?1 AND c.confirmed_at IS NOT NULL AND c.stopped_at IS NULL");
  std::map<std::string, dispatchers::Contact> found;  // by id: once, whatever its places
  for (const auto& zone : zones) {
    st.bind(1, zone);
    while (st.step()) {
      if (!everyone && !category.empty() && !chose(st.text(2), category)) continue;
      auto& who = found[st.text(0)];
      who.id = std::string(kResidentPrefix) + st.text(0);
      who.language = st.text(1);
      open_into(*box_, st.text(3), st.text(4), who);
    }
    st.reset();
  }
  std::vector<dispatchers::Contact> out;
  out.reserve(found.size());
  for (auto& [id, who] : found)
    if (!who.phone.empty() || !who.email.empty()) out.push_back(std::move(who));
  return out;
}

std::optional<dispatchers::Contact> ResidentDirectory::find(const std::string& recipient_id) {
  if (!is_resident(recipient_id)) return std::nullopt;
  std::lock_guard lock(mutex_);
  auto st = connection().prepare(
      "SELECT r.language, c.kind, c.sealed FROM residents r JOIN resident_contacts c ON "
      "c.resident_id = r.id WHERE r.id = ?1 AND c.confirmed_at IS NOT NULL AND c.stopped_at IS "
      "NULL");
  st.bind(1, recipient_id.substr(kResidentPrefix.size()));
  dispatchers::Contact who;
  who.id = recipient_id;
  while (st.step()) {
    who.language = st.text(0);
    open_into(*box_, st.text(1), st.text(2), who);
  }
  if (who.phone.empty() && who.email.empty()) return std::nullopt;
  return who;
}

}  // namespace tocsin
