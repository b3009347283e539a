#include "broker/runs/runs.hpp"

#include "broker/runs/follow_up.hpp"

#include <spdlog/spdlog.h>
#include <boost/json.hpp>

#include "broker/storage/audit.hpp"
#include "broker/storage/incident_store.hpp"
#include "core/json_text.hpp"

namespace tocsin {

namespace json = boost::json;
using playbooks::Event;
using playbooks::RunStatus;

std::shared_ptr<const ActivePlaybooks> make_active(
    playbooks::References references, std::vector<playbooks::Playbook> list,
    std::shared_ptr<const dispatchers::TemplateSet> templates,
    const playbooks::Catalog* configured) {
  auto a = std::make_shared<ActivePlaybooks>();
  a->templates = std::move(templates);
  a->references = std::move(references);
  a->playbooks = std::move(list);
  a->matcher = playbooks::Matcher(a->playbooks, a->references.zones);
  a->catalog = a->references.catalog();
  if (configured) {
    a->catalog.channels = configured->channels;
    a->catalog.templated_channels = configured->templated_channels;
    a->catalog.fallbacks = configured->fallbacks;
  }
  a->loaded_at = now();
  return a;
}

namespace {

constexpr const char* kRunColumns =
    "SELECT id, incident_id, playbook_id, playbook_hash, playbook_text, state, group_key FROM "
    "playbook_runs ";

// The alert a run's step makes (its id and run set by the caller).
Alert alert_of(const playbooks::AlertRequest& r, const IncidentRecord& incident,
               const std::string& playbook_id, Timestamp at) {
  Alert a;
  a.incident_id = incident.incident.id;
  a.playbook_id = playbook_id;
  a.kind = r.kind;
  a.audience = r.audience;
  a.channels = r.channels;
  a.template_name = r.template_name;
  a.is_public = r.is_public;
  a.zones = r.zones;
  a.pattern = r.pattern;
  a.duration = r.duration;
  a.created_at = at;
  a.status = incident.incident.status;
  a.allow_in_exercise = r.allow_in_exercise;
  a.step = r.step;
  a.expires = r.expires;
  return a;
}

}  // namespace

Runs::Runs(db::Connection& db, UlidGenerator& ids)
    : db_(db),
      audit_(db),
      ids_(ids),
      insert_run_(db.prepare(
          "INSERT INTO playbook_runs (id, incident_id, playbook_id, playbook_hash, playbook_text, "
          "status, step, due_at, state, created_at, updated_at, group_key) VALUES (?1, ?2, ?3, ?4, "
          "?5, ?6, ?7, ?8, ?9, ?10, ?10, ?11)")),
      update_run_(
          db.prepare("UPDATE playbook_runs SET status = ?2, step = ?3, due_at = ?4, state = ?5, "
                     "updated_at = ?6 WHERE id = ?1")),
      open_runs_(db.prepare(std::string(kRunColumns) +
                            "WHERE incident_id = ?1 AND status NOT IN ('completed', 'cancelled', "
                            "'rejected') ORDER BY created_at, playbook_id")),
      run_by_id_(db.prepare(std::string(kRunColumns) + "WHERE id = ?1")),
      insert_approval_(db.prepare(
          "INSERT INTO approvals (id, run_id, incident_id, playbook_id, step, role, required, "
          "distinct_from_initiator, initiator, status, due_at, created_at, preview, break_glass) "
          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'pending', ?10, ?11, ?12, ?13)")),
      close_approval_(db.prepare(
          "UPDATE approvals SET status = ?2, closed_at = ?3 WHERE run_id = ?1 AND status = "
          "'pending' AND kind = 'step'")),
      approval_by_id_(db.prepare(
          "SELECT run_id, status, preview, step, kind, correction, role, initiator, due_at, "
          "incident_id FROM approvals WHERE id = ?1")),
      insert_vote_(db.prepare(
          "INSERT INTO approval_votes (approval_id, person, decision, at, note) VALUES (?1, ?2, "
          "?3, ?4, ?5)")),
      incident_by_id_(db.prepare(std::string(kIncidentSelect) + "WHERE id = ?1")),
      // A playbook runs once per incident: its own run, or the group run it joined.
      playbooks_run_(db.prepare(
          "SELECT playbook_id FROM playbook_runs WHERE incident_id = ?1 UNION SELECT r.playbook_id "
          "FROM run_members m JOIN playbook_runs r ON r.id = m.run_id WHERE m.incident_id = ?1")),
      due_runs_(
          db.prepare("SELECT id, due_at FROM playbook_runs WHERE due_at IS NOT NULL AND status IN "
                     "('waiting', 'awaiting_approval')")),
      find_group_(db.prepare(
          "SELECT id FROM playbook_runs WHERE playbook_id = ?1 AND group_key = ?2 AND status NOT "
          "IN ('completed', 'cancelled', 'rejected') ORDER BY created_at DESC LIMIT 1")),
      insert_member_(db.prepare(
          "INSERT INTO run_members (run_id, incident_id, joined_at) VALUES (?1, ?2, ?3) ON "
          "CONFLICT DO NOTHING")),
      members_(db.prepare(
          "SELECT i.id, i.source, i.type, i.headline, i.location, "
          "i.severity, i.occurred_at FROM run_members m JOIN incidents i ON i.id = m.incident_id "
          "WHERE m.run_id = ?1 ORDER BY m.joined_at, i.id")),
      member_runs_(db.prepare(std::string(kRunColumns) +
                              "WHERE id IN (SELECT run_id FROM run_members WHERE incident_id = ?1) "
                              "AND incident_id != ?1 AND status NOT IN ('completed', 'cancelled', "
                              "'rejected')")),
      approved_preview_(db.prepare("SELECT preview FROM approvals WHERE run_id = ?1 AND status = "
                                   "'approved' AND kind = 'step' ORDER BY created_at DESC LIMIT "
                                   "1")),
      insert_version_(
          db.prepare("INSERT INTO playbook_versions (hash, text) VALUES (?1, ?2) ON CONFLICT DO "
                     "NOTHING")),
      version_text_(db.prepare("SELECT text FROM playbook_versions WHERE hash = ?1")),
      alerts_table_(db),
      events_(db) {}

void Runs::discard() {
  timers_.clear();
  alerts_.clear();
  reviews_.clear();
  stored_versions_.clear();  // what the rollback took back may be stored again
}

std::vector<RunTimer> Runs::pending_timers() {
  std::vector<RunTimer> out;
  while (due_runs_.step()) out.push_back({due_runs_.text(0), from_unix_ms(due_runs_.integer(1))});
  due_runs_.reset();
  return out;
}

const playbooks::Playbook* Runs::playbook_for(const std::string& hash, const std::string& text) {
  if (active_)
    for (const auto& p : active_->playbooks)
      if (p.hash == hash) return &p;
  if (auto it = older_.find(hash); it != older_.end()) return it->second.get();
  // Started under an earlier set: its own text (with the run before schema 9, else kept once
  // by hash), checked against today's references.
  std::string stored = text;
  if (stored.empty()) {
    version_text_.bind(1, hash);
    if (version_text_.step()) stored = version_text_.text(0);
    version_text_.reset();
  }
  auto set = playbooks::parse_playbook(stored, "run:" + hash,
                                       active_ ? active_->catalog : playbooks::Catalog{},
                                       playbooks::Origin::stored);
  if (!set.ok()) {
    spdlog::error("runs: the playbook version {} of an open run no longer validates: {}", hash,
                  set.errors.front());
    return nullptr;
  }
  auto& slot = older_[hash];
  slot = std::make_unique<playbooks::Playbook>(std::move(set.playbooks.front()));
  return slot.get();
}

std::optional<Runs::LoadedRun> Runs::load(db::Statement& st) {
  LoadedRun r;
  r.id = st.text(0);
  r.incident_id = st.text(1);
  r.playbook_id = st.text(2);
  r.playbook = playbook_for(st.text(3), st.text(4));
  if (!r.playbook) return std::nullopt;
  r.state = playbooks::run_state_from_json(json::parse(st.text(5)));
  if (!st.is_null(6)) r.group_key = st.text(6);
  return r;
}

std::vector<Runs::LoadedRun> Runs::open_runs(const std::string& incident_id) {
  std::vector<LoadedRun> out;
  open_runs_.bind(1, incident_id);
  while (open_runs_.step())
    if (auto r = load(open_runs_)) out.push_back(std::move(*r));
  open_runs_.reset();
  return out;
}

std::optional<IncidentRecord> Runs::incident(const std::string& id) {
  incident_by_id_.bind(1, id);
  std::optional<IncidentRecord> out;
  if (incident_by_id_.step()) out = read_incident_row(incident_by_id_);
  incident_by_id_.reset();
  return out;
}

void Runs::apply(LoadedRun& run, const playbooks::Effects& fx, const IncidentRecord& incident,
                 Timestamp at, std::vector<std::string>& resolve) {
  const auto& s = run.state;
  update_run_.bind(1, run.id).bind(2, to_string(s.status)).bind(3, std::int64_t(s.step));
  if (s.due)
    update_run_.bind(4, to_unix_ms(*s.due));
  else
    update_run_.bind_null(4);
  update_run_.bind(5, json_text(playbooks::to_json(s))).bind(6, to_unix_ms(at));
  update_run_.run();

  // Closed first: the alerts an approval lets through carry what it approved.
  if (fx.approval_closed) {
    close_approval_.bind(1, run.id).bind(2, *fx.approval_closed).bind(3, to_unix_ms(at));
    close_approval_.run();
  }
  // An alert of a grouped run lists every incident of the group.
  IncidentRecord grouped;
  if (!run.group_key.empty() && !fx.alerts.empty()) {
    grouped = incident;
    grouped.group = members(run.id);
  }
  const IncidentRecord& about = run.group_key.empty() ? incident : grouped;
  std::string grouped_json = json_text(to_json(about.group));
  for (const auto& a : fx.alerts) {
    Alert alert = alert_of(a, incident, run.playbook_id, at);
    alert.id = ids_.next();
    alert.run_id = run.id;
    if (a.is_public) alert.approved = approved_reach(run.id, a.step);
    alerts_table_.insert(alert, grouped_json);
    alerts_.push_back(AlertRecord{std::move(alert), about});
  }
  if (fx.approval_opened) {
    const auto& ap = *fx.approval_opened;
    insert_approval_.bind(1, ids_.next()).bind(2, run.id).bind(3, incident.incident.id);
    insert_approval_.bind(4, run.playbook_id).bind(5, std::int64_t(ap.step)).bind(6, ap.role);
    insert_approval_.bind(7, std::int64_t(ap.count));
    insert_approval_.bind(8, std::int64_t(ap.distinct_from_initiator)).bind(9, s.initiator);
    insert_approval_.bind(10, to_unix_ms(ap.due)).bind(11, to_unix_ms(at));
    json::array reach;
    for (const auto& r : preview(*run.playbook, ap.step, incident)) reach.push_back(to_json(r));
    insert_approval_.bind(12, json_text(reach)).bind(13, std::int64_t(ap.break_glass));
    insert_approval_.run();
  }
  if (s.due) timers_.push_back({run.id, *s.due});
  if (fx.resolve_incident) resolve.push_back(incident.incident.id);
  // Each step the run took is the incident's history and the audit trail's (a machine's change).
  // The history keeps what happened by name too, for the console to say in its reader's language.
  for (const auto& entry : fx.timeline) {
    spdlog::info("run {} ({} for incident {}): {}", run.id, run.playbook_id, incident.incident.id,
                 entry.text);
    json::object args;
    for (const auto& [key, value] : entry.args) args[key] = value;
    json::object body{{"run", run.id},      {"playbook", run.playbook_id},
                      {"line", entry.text}, {"what", entry.what},
                      {"step", entry.step}, {"args", std::move(args)}};
    events_.append(incident.incident.id, at, "run", "playbook", json_text(body));
    json::object audited{
        {"playbook", run.playbook_id}, {"line", entry.text}, {"incident", incident.incident.id}};
    audit_.append({at, "playbook:" + run.playbook_id, "run.step", run.id, json_text(audited)});
  }
}

std::string Runs::start(const playbooks::Playbook& p, const IncidentRecord& incident, Timestamp at,
                        std::vector<std::string>& resolve, const std::string& group_key,
                        const std::string& initiator) {
  LoadedRun run{ids_.next(), incident.incident.id, p.id, group_key, &p, {}};
  Event started{
      Event::Kind::start, at, initiator.empty() ? incident.incident.source : initiator, {}};
  started.person = !initiator.empty();  // a composed alert's author, signed in
  auto fx = playbooks::advance(p, run.state, started, incident.incident);
  insert_run_.bind(1, run.id).bind(2, run.incident_id).bind(3, p.id).bind(4, p.hash);
  if (stored_versions_.insert(p.hash).second) {
    insert_version_.bind(1, p.hash).bind(2, p.text);
    insert_version_.run();
  }
  insert_run_.bind(5, "").bind(6, to_string(run.state.status));  // the text is in playbook_versions
  insert_run_.bind(7, std::int64_t(run.state.step)).bind_null(8);
  insert_run_.bind(9, "{}").bind(10, to_unix_ms(at));
  if (group_key.empty())
    insert_run_.bind_null(11);
  else
    insert_run_.bind(11, group_key);
  insert_run_.run();
  if (!group_key.empty()) {
    insert_member_.bind(1, run.id).bind(2, run.incident_id).bind(3, to_unix_ms(at));
    insert_member_.run();
  }
  apply(run, fx, incident, at, resolve);
  return run.id;
}

Result<Runs::Composed> Runs::compose(const std::string& text, const std::string& incident_id,
                                     const std::string& by, Timestamp at,
                                     std::vector<std::string>& resolve) {
  if (!active_) return Error{"unavailable", "no playbook set is loaded", ""};
  auto set =
      playbooks::parse_playbook(text, "composed", active_->catalog, playbooks::Origin::composed);
  if (!set.ok()) return Error{"invalid", set.errors.front(), "body"};
  const auto& parsed = set.playbooks.front();
  const playbooks::Playbook* p = nullptr;
  if (auto it = older_.find(parsed.hash); it != older_.end()) {
    p = it->second.get();
  } else {
    auto& slot = older_[parsed.hash];
    slot = std::make_unique<playbooks::Playbook>(std::move(set.playbooks.front()));
    p = slot.get();
  }
  auto inc = incident(incident_id);
  if (!inc) return Error{"not_found", "id: no incident " + incident_id, "id"};
  if (inc->state != "active")
    return Error{"conflict", "incident " + incident_id + " is already " + inc->state, "id"};
  std::string id = start(*p, *inc, at, resolve, "", by);
  run_by_id_.bind(1, id);
  std::string status = "running";
  if (run_by_id_.step())
    if (auto r = load(run_by_id_)) status = to_string(r->state.status);
  run_by_id_.reset();
  return Composed{id, status};
}

std::vector<Reach> Runs::preview(const playbooks::Playbook& p, std::size_t approval_step,
                                 const IncidentRecord& incident) {
  std::vector<Reach> out;
  if (!preview_) return out;
  for (std::size_t i : playbooks::gated_public_steps(p, approval_step)) {
    Alert a = alert_of(*playbooks::alert_request(p.steps[i], i), incident, p.id, now());
    if (a.status != Status::actual && !a.allow_in_exercise) continue;  // held back anyway
    out.push_back(preview_(a, incident));
  }
  return out;
}

std::optional<Reach> Runs::approved_reach(const std::string& run_id, std::size_t step) {
  approved_preview_.bind(1, run_id);
  std::optional<Reach> out;
  if (approved_preview_.step()) {
    json::value stored = json::parse(approved_preview_.text(0));
    for (const auto& r : stored.as_array()) {
      auto reach = reach_from_json(r);
      if (reach.step == step) out = std::move(reach);
    }
  }
  approved_preview_.reset();
  return out;
}

std::string Runs::group_key(const playbooks::Playbook& p, const Incident& incident) const {
  std::string key;
  for (const auto& by : p.group_by) {
    std::string value;
    if (by == "source") {
      value = incident.source;
    } else if (by == "type") {
      value = incident.type;
    } else if (incident.location.zone) {
      value = *incident.location.zone;
    } else if (active_) {
      auto in = active_->references.zones.zones_of(incident.location);
      if (!in.empty()) value = in.front();
    }
    key += (key.empty() ? "" : "|") + by + "=" + value;
  }
  return key;
}

std::optional<std::string> Runs::group_run(const playbooks::Playbook& p, const std::string& key) {
  find_group_.bind(1, p.id).bind(2, key);
  std::optional<std::string> id;
  if (find_group_.step()) id = find_group_.text(0);
  find_group_.reset();
  return id;
}

void Runs::join(const std::string& run_id, const IncidentRecord& incident, Timestamp at) {
  insert_member_.bind(1, run_id).bind(2, incident.incident.id).bind(3, to_unix_ms(at));
  insert_member_.run();
  events_.append(incident.incident.id, at, "grouped", "playbook",
                 json_text(json::object{{"run", run_id}}));
  audit_.append({at, "playbook", "run.join", run_id,
                 json_text(json::object{{"incident", incident.incident.id}})});
}

std::vector<GroupMember> Runs::members(const std::string& run_id) {
  std::vector<GroupMember> out;
  members_.bind(1, run_id);
  while (members_.step()) {
    GroupMember m;
    m.id = members_.text(0);
    m.source = members_.text(1);
    m.type = members_.text(2);
    m.headline = members_.text(3);
    if (!members_.is_null(4)) {  // the location's JSON: its zone, if it names one
      boost::system::error_code ec;
      auto where = json::parse(members_.text(4), ec);
      if (auto* z = !ec && where.is_object() ? where.as_object().if_contains("zone") : nullptr;
          z && z->is_string())
        m.zone = std::string(z->as_string());
    }
    m.severity = parse_severity(members_.text(5)).value_or(Severity::unknown);
    m.occurred_at = from_unix_ms(members_.integer(6));
    out.push_back(std::move(m));
  }
  members_.reset();
  return out;
}

std::vector<std::string> Runs::reported(const IncidentRecord& incident, bool created,
                                        Timestamp at) {
  std::vector<std::string> resolve;
  if (!created) {
    for (auto& run : open_runs(incident.incident.id)) {
      auto fx = playbooks::advance(*run.playbook, run.state,
                                   Event{Event::Kind::updated, at, incident.incident.source, {}},
                                   incident.incident);
      if (!fx.refused) apply(run, fx, incident, at, resolve);
    }
  }
  if (!active_) return resolve;
  // Each playbook runs once per incident: an update starts only playbooks that had not matched.
  auto matched = active_->matcher.match(incident.incident);
  if (matched.empty()) return resolve;
  std::set<std::string> running;
  if (!created) {
    playbooks_run_.bind(1, incident.incident.id);
    while (playbooks_run_.step()) running.insert(playbooks_run_.text(0));
    playbooks_run_.reset();
  }
  for (const auto* p : matched) {
    if (running.count(p->id)) continue;
    std::string key = p->group_by.empty() ? std::string() : group_key(*p, incident.incident);
    if (!key.empty()) {
      if (auto run = group_run(*p, key)) {
        join(*run, incident, at);
        continue;
      }
    }
    start(*p, incident, at, resolve, key);
  }
  return resolve;
}

std::vector<std::string> Runs::incident_event(const IncidentRecord& incident, Event::Kind kind,
                                              const std::string& by, Timestamp at) {
  std::vector<std::string> resolve;
  // Acknowledging any incident of a group acknowledges the group's run; resolving one does not
  // end the run the others still need.
  if (kind == Event::Kind::acknowledged) {
    std::vector<LoadedRun> grouped;
    member_runs_.bind(1, incident.incident.id);
    while (member_runs_.step())
      if (auto r = load(member_runs_)) grouped.push_back(std::move(*r));
    member_runs_.reset();
    for (auto& run : grouped) {
      auto lead = this->incident(run.incident_id);
      if (!lead) continue;
      auto fx =
          playbooks::advance(*run.playbook, run.state, Event{kind, at, by, {}}, lead->incident);
      if (!fx.refused) apply(run, fx, *lead, at, resolve);
    }
  }
  for (auto& run : open_runs(incident.incident.id)) {
    auto fx =
        playbooks::advance(*run.playbook, run.state, Event{kind, at, by, {}}, incident.incident);
    if (!fx.refused) apply(run, fx, incident, at, resolve);
  }
  return resolve;
}

namespace {
// Approving what goes LIVE to the public is deliberate and a person's: the word typed (the
// Hawaii lesson), and signed in (a machine's token may act for someone, never be them).
std::optional<Error> live_proof(bool live, const VoteProof& proof, const std::string& what) {
  if (live && !proof.typed_live)
    return Error{"confirmation_required",
                 "confirm: approving a LIVE " + what + " needs the word LIVE (or RÉEL) typed",
                 "confirm"};
  if (live && !proof.signed_in)
    return Error{"forbidden",
                 "Authorization: approving a LIVE " + what +
                     " is a person's act: sign in (a machine's token cannot)",
                 "Authorization", "person_required"};
  return std::nullopt;
}
}  // namespace

void Runs::record_vote(const std::string& approval_id, const std::string& by, bool approve,
                       const VoteProof& proof, Timestamp at) {
  insert_vote_.bind(1, approval_id).bind(2, by).bind(3, approve ? "approve" : "reject");
  insert_vote_.bind(4, to_unix_ms(at)).bind(5, proof.reason);
  insert_vote_.run();
}

Result<Runs::Proposed> Runs::propose_correction(const std::string& alert_id,
                                                const FollowUpNote& note, const std::string& by,
                                                Timestamp at) {
  auto waiting = db_.prepare(
      "SELECT id FROM approvals WHERE kind = 'correction' AND status = 'pending' AND corrects = "
      "?1");
  waiting.bind(1, alert_id);
  if (waiting.step())
    return Error{"conflict",
                 "id: a correction of alert " + alert_id + " already waits for approval (" +
                     waiting.text(0) + ")",
                 "id"};
  auto draft = follow_up_draft(db_, alert_id, "update", note, at);
  if (!draft) return draft.error();
  const Alert& a = draft->alert;
  Reach reach = preview_ ? preview_(a, draft->incident) : Reach{};
  reach.step = a.step;
  if (!reach.problems.empty()) {
    std::string problems;
    for (const auto& p : reach.problems) problems += (problems.empty() ? "" : "; ") + p;
    return Error{"unprocessable", "notes: the correction would be blocked: " + problems, "notes"};
  }
  // Approved by someone with the role that released the alert it corrects.
  auto released = db_.prepare(
      "SELECT role FROM approvals WHERE run_id = ?1 AND kind = 'step' AND status = 'approved' "
      "ORDER BY step DESC LIMIT 1");
  released.bind(1, a.run_id);
  std::string role = released.step() ? released.text(0) : "approver";
  released.reset();
  json::object notes;
  for (const auto& [language, text] : note.by_language) notes[language] = text;
  json::object body{
      {"alert", alert_id}, {"note", note.text}, {"notes", notes}, {"by", by}, {"via", note.via}};
  std::string id = ids_.next();
  auto insert = db_.prepare(
      "INSERT INTO approvals (id, run_id, incident_id, playbook_id, step, role, required, "
      "distinct_from_initiator, initiator, status, due_at, created_at, preview, break_glass, kind, "
      "correction, corrects) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, 1, ?7, 'pending', ?8, ?9, ?10, 0, "
      "'correction', ?11, ?12)");
  insert.bind(1, id).bind(2, a.run_id).bind(3, a.incident_id).bind(4, a.playbook_id);
  insert.bind(5, std::int64_t(a.step)).bind(6, role).bind(7, by);
  insert.bind(8, to_unix_ms(at + kCorrectionWait)).bind(9, to_unix_ms(at));
  insert.bind(10, json_text(json::array{to_json(reach)})).bind(11, json_text(body));
  insert.bind(12, alert_id);
  insert.run();
  json::object detail{{"approval", id}, {"note", note.text}, {"notes", notes}};
  audit::name_for(detail, by, note.via);
  audit_.append(
      {at, audit::actor(by, note.via), "alert.correction_proposed", alert_id, json_text(detail)});
  return Proposed{id, a.incident_id};
}

Result<std::string> Runs::vote_correction(const std::string& approval_id,
                                          const PendingCorrection& c, const std::string& by,
                                          bool approve, const VoteProof& proof, Timestamp at) {
  auto close = [&](const char* status) {
    auto st = db_.prepare("UPDATE approvals SET status = ?2, closed_at = ?3 WHERE id = ?1");
    st.bind(1, approval_id).bind(2, status).bind(3, to_unix_ms(at));
    st.run();
  };
  const Person* person = active_ ? active_->references.people.find(by) : nullptr;
  if (!person) return Error{"forbidden", "by: '" + by + "' is not in the staff directory", "by"};
  if (!person->has_role(c.role))
    return Error{"forbidden", by + " does not have the role " + c.role, "by", "missing_role"};
  if (by == c.proposer)
    return Error{"forbidden", by + " proposed this correction: another person approves it", "by",
                 "own_approval"};
  if (at > c.due) {
    close("expired");
    return Error{"conflict", "approval " + approval_id + " expired: propose the correction again",
                 "id"};
  }
  auto inc = incident(c.incident_id);
  if (auto refused =
          live_proof(approve && inc && inc->incident.status == Status::actual, proof, "correction"))
    return *refused;
  record_vote(approval_id, by, approve, proof, at);
  if (!approve) {
    close("rejected");
    return std::string("rejected");
  }
  auto made = follow_up(db_, c.alert_id, "update", c.note, c.proposer, at);
  if (!made) {
    close("cancelled");  // the alert was cancelled meanwhile, or its incident is gone
    return made.error();
  }
  close("approved");
  for (auto& rec : made.value()) alerts_.push_back(std::move(rec));
  return std::string("approved");
}

std::vector<std::string> Runs::timer(const std::string& run_id, Timestamp due, Timestamp at) {
  std::vector<std::string> resolve;
  run_by_id_.bind(1, run_id);
  std::optional<LoadedRun> run;
  if (run_by_id_.step()) run = load(run_by_id_);
  run_by_id_.reset();
  if (!run || !run->state.due || *run->state.due != due) return resolve;  // moved on: stale
  auto inc = incident(run->incident_id);
  if (!inc) return resolve;
  auto fx = playbooks::advance(*run->playbook, run->state,
                               Event{Event::Kind::timer, at, "timer", {}}, inc->incident);
  if (!fx.refused) apply(*run, fx, *inc, at, resolve);
  return resolve;
}

Result<std::string> Runs::vote(const std::string& approval_id, const std::string& by, bool approve,
                               VoteProof proof, Timestamp at, std::vector<std::string>& resolve) {
  approval_by_id_.bind(1, approval_id);
  std::string run_id, status, problems, kind;
  std::size_t step = 0;
  PendingCorrection correction;
  if (approval_by_id_.step()) {
    run_id = approval_by_id_.text(0);
    status = approval_by_id_.text(1);
    step = std::size_t(approval_by_id_.integer(3));
    json::value preview = json::parse(approval_by_id_.text(2));
    for (const auto& r : preview.as_array())
      for (const auto& p : reach_from_json(r).problems)
        problems += (problems.empty() ? "" : "; ") + p;
    kind = approval_by_id_.text(4);
    if (kind == "correction") {
      auto body = json::parse(approval_by_id_.text(5)).as_object();
      correction.alert_id = body.at("alert").as_string();
      correction.note.text = body.at("note").as_string();
      for (const auto& [language, text] : body.at("notes").as_object())
        correction.note.by_language[std::string(language)] = text.as_string();
      correction.note.via = body.at("via").as_string();
      correction.role = approval_by_id_.text(6);
      correction.proposer = approval_by_id_.text(7);
      correction.due = from_unix_ms(approval_by_id_.integer(8));
      correction.incident_id = approval_by_id_.text(9);
    }
  }
  approval_by_id_.reset();
  if (run_id.empty()) return Error{"not_found", "id: no approval " + approval_id, "id"};
  if (status != "pending")
    return Error{"conflict", "approval " + approval_id + " is already " + status, "id"};
  if (kind == "correction") {
    if (approve && !problems.empty())
      return Error{"unprocessable", "cannot approve: the correction would be blocked: " + problems,
                   "id"};
    return vote_correction(approval_id, correction, by, approve, proof, at);
  }
  // The lint and bilingual parity block the send: approving past them would approve nothing.
  if (approve && !problems.empty())
    return Error{"unprocessable", "cannot approve: the public alert would be blocked: " + problems,
                 "id"};
  const Person* person = active_ ? active_->references.people.find(by) : nullptr;
  if (!person) return Error{"forbidden", "by: '" + by + "' is not in the staff directory", "by"};

  run_by_id_.bind(1, run_id);
  std::optional<LoadedRun> run;
  if (run_by_id_.step()) run = load(run_by_id_);
  run_by_id_.reset();
  if (!run)
    return Error{"conflict", "the run of approval " + approval_id + " cannot continue", "id"};
  auto inc = incident(run->incident_id);
  Event cast{approve ? Event::Kind::approve : Event::Kind::reject, at, by, person->roles};
  cast.reason = proof.reason;
  auto fx = playbooks::advance(*run->playbook, run->state, cast, inc->incident);
  if (fx.refused && fx.refused_reason == "reason_required")
    return Error{"unprocessable", *fx.refused, "note", fx.refused_reason};
  if (fx.refused) return Error{"forbidden", *fx.refused, "by", fx.refused_reason};
  // Deliberate, as a composed live alert is: the approver types the word (the Hawaii lesson).
  const bool live_public = inc->incident.status == Status::actual &&
                           !playbooks::gated_public_steps(*run->playbook, step).empty();
  if (auto refused = live_proof(approve && live_public, proof, "public alert")) return *refused;
  record_vote(approval_id, by, approve, proof, at);
  if (fx.break_glass)
    reviews_.push_back({approval_id, run->id, run->incident_id, run->playbook_id,
                        fx.break_glass->step + 1, by, fx.break_glass->reason});
  apply(*run, fx, *inc, at, resolve);
  return fx.approval_closed.value_or("pending");
}

}  // namespace tocsin
