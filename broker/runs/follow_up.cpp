#include "broker/runs/follow_up.hpp"

#include <boost/json.hpp>

#include "broker/storage/alerts_table.hpp"
#include "broker/storage/audit.hpp"
#include "broker/storage/incident_store.hpp"
#include "core/json_text.hpp"
#include "core/ulid.hpp"

namespace tocsin {

namespace json = boost::json;

namespace {
json::object by_language(const std::map<std::string, std::string>& notes) {
  json::object o;
  for (const auto& [language, text] : notes) o[language] = text;
  return o;
}
}  // namespace

namespace {}  // namespace

Result<AlertRecord> follow_up_draft(db::Connection& db, const std::string& alert_id,
                                    const std::string& kind, const FollowUpNote& note,
                                    Timestamp at) {
  auto find = db.prepare(std::string(kAlertSelect) + "WHERE id = ?1");
  find.bind(1, alert_id);
  if (!find.step()) return Error{"not_found", "id: no alert " + alert_id, "id"};
  Alert original = read_alert_row(find);
  find.reset();
  auto status = db.prepare("SELECT status FROM alerts WHERE id = ?1");
  status.bind(1, alert_id);
  status.step();
  std::string state = status.text(0);
  status.reset();
  if (!original.is_public)
    return Error{"conflict", "alert " + alert_id + " is not public: nothing to cancel", "id"};
  if (!original.follow_up_of.empty())
    return Error{"conflict", "alert " + alert_id + " is itself a " + kind + "; act on the original",
                 "id"};
  if (state != "dispatched")
    return Error{"conflict", "alert " + alert_id + " is " + state + ": it did not go out", "id"};
  if (kind == "update" && note.empty())
    return Error{"invalid", "note: a correction needs its text", "note"};
  auto done = db.prepare(
      "SELECT count(*) FROM alerts WHERE follow_up_of = ?1 AND template IN ('public-cancel', '') "
      "AND (kind = 'siren' OR template = 'public-cancel')");
  done.bind(1, alert_id);
  done.step();
  bool cancelled = done.integer(0) > 0;
  done.reset();
  if (cancelled) return Error{"conflict", "alert " + alert_id + " is already cancelled", "id"};

  Alert a = original;
  a.id = UlidGenerator().next();
  a.created_at = at;
  a.follow_up_of = alert_id;
  // A cancel says the shipped words only: the coordinator's note stays in the audit trail, never
  // reaches the public (one person's free text must not go out unapproved). A correction's text
  // is what its second person approved.
  if (kind == "update") {
    a.note = note.text;
    a.notes = note.by_language;
  } else {
    a.note.clear();
    a.notes.clear();
  }
  a.approved.reset();
  if (original.kind == "siren") {
    if (kind == "update")
      return Error{"conflict", "a siren cannot be corrected, only cancelled (all-clear)", "id"};
    a.pattern = "all-clear";
    a.template_name = "";
  } else {
    a.template_name = kind == "cancel" ? "public-cancel" : "public-update";
    a.expires = std::chrono::hours(1);
  }
  auto inc = db.prepare(std::string(kIncidentSelect) + "WHERE id = ?1");
  inc.bind(1, a.incident_id);
  if (!inc.step()) return Error{"not_found", "the alert's incident is gone", "id"};
  IncidentRecord record = read_incident_row(inc);
  return AlertRecord{std::move(a), std::move(record)};
}

namespace {

Result<AlertRecord> one(db::Connection& db, const std::string& alert_id, const std::string& kind,
                        const FollowUpNote& note, const std::string& by, Timestamp at) {
  auto made = follow_up_draft(db, alert_id, kind, note, at);
  if (!made) return made;
  const Alert& a = made->alert;
  AlertsTable(db).insert(a);
  json::object audited{{"follow_up", a.id}, {"note", note.text}};
  if (!note.by_language.empty()) audited["notes"] = by_language(note.by_language);
  audit::name_for(audited, by, note.via);
  audit::append(db,
                {at, audit::actor(by, note.via), "alert." + kind, alert_id, json_text(audited)});
  return made;
}

}  // namespace

Result<std::vector<AlertRecord>> follow_up(db::Connection& db, const std::string& alert_id,
                                           const std::string& kind, const FollowUpNote& note,
                                           const std::string& by, Timestamp at) {
  auto first = one(db, alert_id, kind, note, by, at);
  if (!first) return first.error();
  std::vector<AlertRecord> out{std::move(first.value())};
  if (kind != "cancel") return out;
  auto others = db.prepare(
      "SELECT id FROM alerts a WHERE run_id = ?1 AND id != ?2 AND public = 1 AND status = "
      "'dispatched' AND follow_up_of IS NULL AND NOT EXISTS (SELECT 1 FROM alerts c WHERE "
      "c.follow_up_of = a.id AND (c.kind = 'siren' OR c.template = 'public-cancel'))");
  others.bind(1, out.front().alert.run_id).bind(2, alert_id);
  std::vector<std::string> ids;
  while (others.step()) ids.push_back(others.text(0));
  others.reset();
  for (const auto& id : ids) {
    auto more = one(db, id, kind, note, by, at);
    if (more) out.push_back(std::move(more.value()));
  }
  return out;
}

}  // namespace tocsin
