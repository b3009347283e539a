#include "broker/storage/alerts_table.hpp"
#include "core/json_text.hpp"

#include <boost/json.hpp>

namespace tocsin {

namespace json = boost::json;

namespace {

std::string strings(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& s : v) a.emplace_back(s);
  return json_text(a);
}

}  // namespace

AlertsTable::AlertsTable(db::Connection& db)
    : insert_(db.prepare(
          "INSERT INTO alerts (id, incident_id, run_id, playbook_id, step, kind, audience, "
          "channels, template, public, zones, pattern, duration_s, status, created_at, "
          "cap_status, allow_in_exercise, grouped, expires_s, approved, follow_up_of, note, "
          "notes) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, 'pending', ?14, "
          "?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22)")),
      dispatched_(db.prepare("UPDATE alerts SET status = 'dispatched' WHERE id = ?1")),
      blocked_(db.prepare("UPDATE alerts SET status = 'blocked', problems = ?2 WHERE id = ?1")) {}

void AlertsTable::insert(const Alert& a, const std::string& grouped) {
  auto& st = insert_;
  st.bind(1, a.id).bind(2, a.incident_id).bind(3, a.run_id).bind(4, a.playbook_id);
  st.bind(5, std::int64_t(a.step)).bind(6, a.kind).bind(7, json_text(to_json(a.audience)));
  st.bind(8, strings(a.channels)).bind(9, a.template_name).bind(10, std::int64_t(a.is_public));
  st.bind(11, strings(a.zones)).bind(12, a.pattern).bind(13, std::int64_t(a.duration.count()));
  st.bind(14, to_unix_ms(a.created_at)).bind(15, to_string(a.status));
  st.bind(16, std::int64_t(a.allow_in_exercise)).bind(17, grouped);
  st.bind(18, std::int64_t(a.expires.count()));
  if (a.approved)
    st.bind(19, json_text(to_json(*a.approved)));
  else
    st.bind_null(19);
  if (a.follow_up_of.empty())
    st.bind_null(20);
  else
    st.bind(20, a.follow_up_of);
  json::object notes;
  for (const auto& [language, text] : a.notes) notes[language] = text;
  st.bind(21, a.note).bind(22, json_text(notes));
  st.run();
}

void AlertsTable::dispatched(const std::string& alert_id) {
  dispatched_.bind(1, alert_id);
  dispatched_.run();
}

void AlertsTable::blocked(const std::string& alert_id, const std::string& problems) {
  blocked_.bind(1, alert_id).bind(2, problems);
  blocked_.run();
}

IncidentEvents::IncidentEvents(db::Connection& db)
    : insert_(db.prepare(
          "INSERT INTO incident_events (incident_id, at, kind, actor, body) VALUES (?1, ?2, ?3, "
          "?4, ?5)")) {}

void IncidentEvents::append(const std::string& incident_id, Timestamp at, std::string_view kind,
                            std::string_view actor, std::string_view body) {
  insert_.bind(1, incident_id).bind(2, to_unix_ms(at)).bind(3, kind).bind(4, actor).bind(5, body);
  insert_.run();
}

}  // namespace tocsin
