#include "broker/storage/incident_store.hpp"

#include <boost/json.hpp>

namespace tocsin {

namespace json = boost::json;

namespace {

constexpr const char* kColumns = kIncidentSelect;

// Rows were validated when they were written; a row that no longer reads is reported, not guessed.
template <class T>
T decode(Result<T> r, const std::string& what) {
  if (!r) throw std::runtime_error("stored " + what + " does not read: " + r.error().message);
  return std::move(r).value();
}

json::value ms_or_null(const db::Statement& st, int c) {
  return st.is_null(c) ? json::value(nullptr)
                       : json::value(format_rfc3339(from_unix_ms(st.integer(c))));
}

constexpr const char* kAlertJsonSelect =
    "SELECT id, incident_id, run_id, playbook_id, step, kind, audience, channels, template, "
    "public, zones, pattern, duration_s, status, created_at, cap_status, grouped, expires_s, "
    "approved, problems, follow_up_of, note, notes FROM alerts ";

// The incidents a grouped run's alert speaks for, as the API shows them.
json::array group_json(const std::string& stored) {
  json::array out;
  for (const auto& m : group_from_json(json::parse(stored)))
    out.push_back(json::object{{"incident_id", m.id},
                               {"source", m.source},
                               {"type", m.type},
                               {"headline", m.headline},
                               {"zone", m.zone},
                               {"severity", to_string(m.severity)}});
  return out;
}

json::object alert_row_json(const db::Statement& st) {
  return json::object{
      {"id", st.text(0)},
      {"incident_id", st.text(1)},
      {"run_id", st.text(2)},
      {"playbook", st.text(3)},
      {"step", st.integer(4) + 1},
      {"kind", st.text(5)},
      {"audience", json::parse(st.text(6))},
      {"channels", json::parse(st.text(7))},
      {"template", st.text(8)},
      {"public", st.integer(9) != 0},
      {"zones", json::parse(st.text(10))},
      {"pattern", st.text(11)},
      {"duration_s", st.integer(12)},
      {"status", st.text(13)},
      {"created_at", ms_or_null(st, 14)},
      {"cap_status", st.text(15)},
      {"group", group_json(st.text(16))},
      {"expires_s", st.integer(17)},
      {"approved_reach", st.is_null(18) ? json::value(nullptr) : json::parse(st.text(18))},
      {"problems", json::parse(st.text(19))},
      {"follow_up_of", st.is_null(20) ? json::value(nullptr) : json::value(st.text(20))},
      {"note", st.text(21)},
      {"notes", json::parse(st.text(22))}};
}

}  // namespace

IncidentStore::IncidentStore(const std::filesystem::path& database)
    : db_(database.string(), sqlite::Connection::Mode::read_only) {}

IncidentRecord read_incident_row(const db::Statement& st) {
  static const IncidentLimits limits = IncidentLimits::unlimited();
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
    i.location = decode(location_from_json(json::parse(st.text(10)), limits), "location");
  i.attributes = decode(attributes_from_json(json::parse(st.text(11)), limits), "attributes");
  i.occurred_at = from_unix_ms(st.integer(12));
  i.received_at = from_unix_ms(st.integer(13));
  r.created_at = from_unix_ms(st.integer(14));
  r.updated_at = from_unix_ms(st.integer(15));
  r.updates = st.integer(16);
  if (!st.is_null(17)) {
    r.acknowledged_at = from_unix_ms(st.integer(17));
    r.acknowledged_by = st.text(18);
  }
  i.status = parse_status(st.text(19)).value_or(Status::actual);
  if (!st.is_null(20)) r.silenced_by = st.text(20);
  r.folded = st.integer(21);
  return r;
}

Alert read_alert_row(const db::Statement& st) {
  Alert a;
  a.id = st.text(0);
  a.incident_id = st.text(1);
  a.run_id = st.text(2);
  a.playbook_id = st.text(3);
  a.kind = st.text(4);
  a.audience = audience_from_json(json::parse(st.text(5)));
  json::value channels = json::parse(st.text(6)), zones = json::parse(st.text(9));
  for (const auto& c : channels.as_array()) a.channels.emplace_back(c.as_string());
  a.template_name = st.text(7);
  a.is_public = st.integer(8) != 0;
  for (const auto& z : zones.as_array()) a.zones.emplace_back(z.as_string());
  a.pattern = st.text(10);
  a.duration = std::chrono::seconds(st.integer(11));
  a.created_at = from_unix_ms(st.integer(12));
  a.status = parse_status(st.text(13)).value_or(Status::actual);
  a.allow_in_exercise = st.integer(14) != 0;
  a.step = std::size_t(st.integer(15));
  a.expires = std::chrono::seconds(st.integer(16));
  if (!st.is_null(17)) a.approved = reach_from_json(json::parse(st.text(17)));
  if (!st.is_null(18)) a.follow_up_of = st.text(18);
  a.note = st.text(19);
  const json::value notes = json::parse(st.text(20));
  for (const auto& [language, text] : notes.as_object())
    a.notes[std::string(language)] = std::string(text.as_string());
  return a;
}

Delivery read_delivery_row(const db::Statement& st) {
  Delivery d;
  d.id = st.text(0);
  d.alert_id = st.text(1);
  d.incident_id = st.text(2);
  d.channel = st.text(3);
  d.recipient = Recipient{st.text(4), st.text(5), st.text(6)};
  d.state = delivery_state_from(st.text(7)).value_or(DeliveryState::queued);
  d.attempts = int(st.integer(8));
  d.last_error = st.text(9);
  d.provider_ref = st.text(10);
  if (!st.is_null(11)) d.fallback_of = st.text(11);
  d.created_at = from_unix_ms(st.integer(12));
  d.next_attempt_at = from_unix_ms(st.integer(13));
  return d;
}

std::optional<json::object> IncidentStore::alert(const std::string& id, std::size_t limit) {
  std::lock_guard lock(mutex_);
  auto st = db_.prepare(std::string(kAlertJsonSelect) + "WHERE id = ?1");
  st.bind(1, id);
  if (!st.step()) return std::nullopt;
  json::object out = alert_row_json(st);
  json::object counts;
  std::int64_t total = 0;
  for (const auto& [state, n] : counts_of(id)) {
    counts[state] = n;
    total += n;
  }
  out["delivery_counts"] = std::move(counts);
  out["delivery_total"] = total;
  auto d = db_.prepare(std::string(kDeliverySelect) +
                       "WHERE alert_id = ?1 ORDER BY created_at, id LIMIT ?2");
  d.bind(1, id).bind(2, std::int64_t(limit));
  json::array items;
  while (d.step()) {
    Delivery row = read_delivery_row(d);
    json::object o{{"id", row.id},
                   {"channel", row.channel},
                   {"recipient", row.recipient.id},
                   {"language", row.recipient.language},
                   {"state", to_string(row.state)},
                   {"attempts", row.attempts},
                   {"created_at", format_rfc3339(row.created_at)}};
    if (!row.last_error.empty()) o["last_error"] = row.last_error;
    if (!row.fallback_of.empty()) o["fallback_of"] = row.fallback_of;
    if (!row.provider_ref.empty()) o["provider_ref"] = row.provider_ref;
    if (row.state == DeliveryState::queued && row.attempts > 0)
      o["next_attempt_at"] = format_rfc3339(row.next_attempt_at);
    items.push_back(std::move(o));
  }
  out["deliveries"] = std::move(items);
  return out;
}

std::map<std::string, std::map<std::string, std::int64_t>> IncidentStore::delivery_counts(
    const std::vector<std::string>& alert_ids) {
  std::lock_guard lock(mutex_);
  std::map<std::string, std::map<std::string, std::int64_t>> out;
  for (const auto& id : alert_ids) out[id] = counts_of(id);
  return out;
}

std::map<std::string, std::int64_t> IncidentStore::counts_of(const std::string& alert_id) {
  auto st =
      db_.prepare("SELECT state, count(*) FROM deliveries WHERE alert_id = ?1 GROUP BY state");
  std::map<std::string, std::int64_t> counts;
  for (const char* s : {"queued", "sending", "sent", "delivered", "failed"}) counts[s] = 0;
  st.bind(1, alert_id);
  while (st.step()) counts[st.text(0)] = st.integer(1);
  return counts;
}

std::vector<IncidentRecord> IncidentStore::read(db::Statement& st) {
  std::vector<IncidentRecord> out;
  while (st.step()) out.push_back(read_incident_row(st));
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

json::array IncidentStore::runs(const std::string& incident_id) {
  std::lock_guard lock(mutex_);
  auto st = db_.prepare(
      "SELECT id, playbook_id, playbook_hash, status, step, due_at, created_at, updated_at FROM "
      "playbook_runs WHERE incident_id = ?1 ORDER BY created_at, playbook_id");
  st.bind(1, incident_id);
  json::array out;
  while (st.step())
    out.push_back(json::object{{"id", st.text(0)},
                               {"playbook", st.text(1)},
                               {"playbook_hash", st.text(2)},
                               {"status", st.text(3)},
                               {"step", st.integer(4) + 1},
                               {"due_at", ms_or_null(st, 5)},
                               {"started_at", ms_or_null(st, 6)},
                               {"updated_at", ms_or_null(st, 7)}});
  return out;
}

json::array IncidentStore::alerts(const std::string& incident_id, std::size_t limit) {
  std::lock_guard lock(mutex_);
  auto st = db_.prepare(std::string(kAlertJsonSelect) +
                        "WHERE incident_id = ?1 ORDER BY created_at, id LIMIT ?2");
  st.bind(1, incident_id).bind(2, std::int64_t(limit));
  json::array out;
  while (st.step()) out.push_back(alert_row_json(st));
  st.reset();
  auto by_channel = db_.prepare(
      "SELECT channel, state, count(*) FROM deliveries WHERE alert_id = ?1 GROUP BY channel, "
      "state");
  auto controllers = db_.prepare(
      "SELECT recipient, state, last_error FROM deliveries WHERE alert_id = ?1 AND channel = "
      "'siren' ORDER BY recipient");
  for (auto& a : out) {
    std::string id(a.as_object().at("id").as_string());
    json::object counts;
    for (const auto& [state, n] : counts_of(id)) counts[state] = n;
    a.as_object()["delivery_counts"] = std::move(counts);
    // Per channel, every state present (the console draws one bar per channel).
    json::object channels;
    by_channel.bind(1, id);
    while (by_channel.step()) {
      auto& c = channels[by_channel.text(0)];
      if (!c.is_object())
        c = json::object{
            {"queued", 0}, {"sending", 0}, {"sent", 0}, {"delivered", 0}, {"failed", 0}};
      c.as_object()[by_channel.text(1)] = by_channel.integer(2);
    }
    by_channel.reset();
    a.as_object()["channel_counts"] = std::move(channels);
    if (a.as_object().at("kind") == "siren") {
      json::array sirens;
      controllers.bind(1, id);
      while (controllers.step()) {
        json::object c{{"controller", controllers.text(0)}, {"state", controllers.text(1)}};
        if (!controllers.is_null(2) && !controllers.text(2).empty())
          c["error"] = controllers.text(2);
        sirens.push_back(std::move(c));
      }
      controllers.reset();
      a.as_object()["controllers"] = std::move(sirens);
    }
  }
  return out;
}

json::array IncidentStore::approvals(const std::string& status, std::size_t limit) {
  std::lock_guard lock(mutex_);
  auto st = db_.prepare(
      "SELECT a.id, a.run_id, a.incident_id, a.playbook_id, a.step, a.role, a.required, "
      "a.distinct_from_initiator, a.initiator, a.status, a.due_at, a.created_at, a.closed_at, "
      "(SELECT json_group_array(json_object('person', person, 'decision', decision, 'note', "
      "note)) FROM approval_votes v WHERE v.approval_id = a.id), a.preview, (SELECT status FROM "
      "incidents i WHERE i.id = a.incident_id), a.break_glass, a.kind, a.correction FROM "
      "approvals a WHERE ?1 = '' OR a.status = ?1 ORDER BY a.created_at DESC LIMIT ?2");
  st.bind(1, status).bind(2, std::int64_t(limit));
  json::array out;
  while (st.step())
    out.push_back(json::object{
        {"id", st.text(0)},
        {"run_id", st.text(1)},
        {"incident_id", st.text(2)},
        {"playbook", st.text(3)},
        {"step", st.integer(4) + 1},
        {"role", st.text(5)},
        {"required", st.integer(6)},
        {"distinct_from_initiator", st.integer(7) != 0},
        {"initiator", st.text(8)},
        {"status", st.text(9)},
        {"due_at", ms_or_null(st, 10)},
        {"created_at", ms_or_null(st, 11)},
        {"closed_at", ms_or_null(st, 12)},
        {"votes", json::parse(st.text(13))},
        {"preview", json::parse(st.text(14))},
        {"incident_status", st.text(15)},
        {"break_glass", st.integer(16) != 0},
        {"kind", st.text(17)},
        {"correction", st.is_null(18) ? json::value(nullptr) : json::parse(st.text(18))}});
  return out;
}

json::object console_snapshot(IncidentStore& store, std::uint64_t seq) {
  json::array incidents;
  for (const auto& rec : store.all_active()) {
    const std::string& id = rec.incident.id;
    auto o = to_json(rec);
    o["runs"] = store.runs(id);
    o["alerts"] = store.alerts(id, 200);
    incidents.push_back(std::move(o));
  }
  return json::object{{"type", "snapshot"},
                      {"seq", seq},
                      {"incidents", std::move(incidents)},
                      {"approvals", store.approvals("pending", 200)}};
}

}  // namespace tocsin
