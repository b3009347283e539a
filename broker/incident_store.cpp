#include "broker/incident_store.hpp"

#include <boost/json.hpp>

namespace tocsin {

namespace json = boost::json;

namespace {

constexpr const char* kColumns =
    "SELECT id, dedup_key, state, source, type, severity, urgency, certainty, headline, "
    "description, location, attributes, occurred_at, received_at, created_at, updated_at, updates "
    "FROM incidents ";

// Rows were validated when they were written; a row that no longer reads is reported, not guessed.
template <class T>
T decode(Result<T> r, const std::string& what) {
  if (!r) throw std::runtime_error("stored " + what + " does not read: " + r.error().message);
  return std::move(r).value();
}

}  // namespace

IncidentStore::IncidentStore(const std::filesystem::path& database)
    : limits_(IncidentLimits::unlimited()),
      db_(database.string(), sqlite::Connection::Mode::read_only) {}

std::vector<IncidentRecord> IncidentStore::read(sqlite::Statement& st) {
  std::vector<IncidentRecord> out;
  while (st.step()) {
    IncidentRecord r;
    Incident& i = r.incident;
    i.id = st.text(0);
    i.dedup_key = st.text(1);
    r.state = st.text(2);
    i.source = st.text(3);
    i.type = st.text(4);
    i.severity = parse_severity(st.text(5)).value_or(Severity::unknown);
    i.urgency = parse_urgency(st.text(6)).value_or(Urgency::unknown);
    i.certainty = parse_certainty(st.text(7)).value_or(Certainty::unknown);
    i.headline = st.text(8);
    i.description = st.text(9);
    if (!st.is_null(10))
      i.location = decode(location_from_json(json::parse(st.text(10)), limits_), "location");
    i.attributes = decode(attributes_from_json(json::parse(st.text(11)), limits_), "attributes");
    i.occurred_at = from_unix_ms(st.integer(12));
    i.received_at = from_unix_ms(st.integer(13));
    r.created_at = from_unix_ms(st.integer(14));
    r.updated_at = from_unix_ms(st.integer(15));
    r.updates = st.integer(16);
    out.push_back(std::move(r));
  }
  st.reset();
  return out;
}

std::vector<IncidentRecord> IncidentStore::list(const std::string& state, std::size_t limit) {
  std::lock_guard lock(mutex_);
  auto st =
      db_.prepare(std::string(kColumns) + (state.empty() ? "WHERE ?1 = ?1 " : "WHERE state = ?1 ") +
                  "ORDER BY updated_at DESC, id DESC LIMIT ?2");
  st.bind(1, state).bind(2, std::int64_t(limit));
  return read(st);
}

std::vector<IncidentRecord> IncidentStore::all_active() {
  std::lock_guard lock(mutex_);
  auto st = db_.prepare(std::string(kColumns) + "WHERE state = 'active'");
  return read(st);
}

std::optional<IncidentRecord> IncidentStore::get(const std::string& id) {
  std::lock_guard lock(mutex_);
  auto st = db_.prepare(std::string(kColumns) + "WHERE id = ?1");
  st.bind(1, id);
  auto rows = read(st);
  if (rows.empty()) return std::nullopt;
  return std::move(rows.front());
}

std::vector<IncidentEvent> IncidentStore::events(const std::string& id, std::size_t limit) {
  std::lock_guard lock(mutex_);
  auto st = db_.prepare(
      "SELECT seq, at, kind, actor, body FROM incident_events WHERE incident_id = ?1 ORDER BY seq "
      "LIMIT ?2");
  st.bind(1, id).bind(2, std::int64_t(limit));
  std::vector<IncidentEvent> out;
  while (st.step())
    out.push_back({st.integer(0), from_unix_ms(st.integer(1)), st.text(2), st.text(3), st.text(4)});
  return out;
}

}  // namespace tocsin
