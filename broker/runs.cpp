#include "broker/runs.hpp"

#include <spdlog/spdlog.h>
#include <boost/json.hpp>

#include "broker/incident_store.hpp"

namespace tocsin {

namespace json = boost::json;
using playbooks::Event;
using playbooks::RunStatus;

std::shared_ptr<const ActivePlaybooks> make_active(
    playbooks::References references, std::vector<playbooks::Playbook> list,
    std::shared_ptr<const dispatchers::TemplateSet> templates) {
  auto a = std::make_shared<ActivePlaybooks>();
  a->templates = std::move(templates);
  a->references = std::move(references);
  a->playbooks = std::move(list);
  a->matcher = playbooks::Matcher(a->playbooks, a->references.zones);
  a->loaded_at = now();
  return a;
}

namespace {

constexpr const char* kRunColumns =
    "SELECT id, incident_id, playbook_id, playbook_hash, playbook_text, state FROM playbook_runs ";

json::array strings(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

}  // namespace

Runs::Runs(sqlite::Connection& db, UlidGenerator& ids)
    : ids_(ids),
      insert_run_(db.prepare(
          "INSERT INTO playbook_runs (id, incident_id, playbook_id, playbook_hash, playbook_text, "
          "status, step, due_at, state, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
          "?7, ?8, ?9, ?10, ?10)")),
      update_run_(
          db.prepare("UPDATE playbook_runs SET status = ?2, step = ?3, due_at = ?4, state = ?5, "
                     "updated_at = ?6 WHERE id = ?1")),
      open_runs_(db.prepare(std::string(kRunColumns) +
                            "WHERE incident_id = ?1 AND status NOT IN ('completed', 'cancelled', "
                            "'rejected') ORDER BY created_at, playbook_id")),
      run_by_id_(db.prepare(std::string(kRunColumns) + "WHERE id = ?1")),
      insert_alert_(db.prepare(
          "INSERT INTO alerts (id, incident_id, run_id, playbook_id, step, kind, audience, "
          "channels, template, public, zones, pattern, duration_s, status, created_at, "
          "cap_status, allow_in_exercise) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
          "?12, ?13, 'pending', ?14, ?15, ?16)")),
      insert_approval_(db.prepare(
          "INSERT INTO approvals (id, run_id, incident_id, playbook_id, step, role, required, "
          "distinct_from_initiator, initiator, status, due_at, created_at) VALUES (?1, ?2, ?3, "
          "?4, ?5, ?6, ?7, ?8, ?9, 'pending', ?10, ?11)")),
      close_approval_(db.prepare(
          "UPDATE approvals SET status = ?2, closed_at = ?3 WHERE run_id = ?1 AND status = "
          "'pending'")),
      approval_by_id_(db.prepare("SELECT run_id, status FROM approvals WHERE id = ?1")),
      insert_vote_(db.prepare(
          "INSERT INTO approval_votes (approval_id, person, decision, at) VALUES (?1, ?2, ?3, "
          "?4)")),
      incident_by_id_(db.prepare(std::string(kIncidentSelect) + "WHERE id = ?1")),
      playbooks_run_(db.prepare("SELECT playbook_id FROM playbook_runs WHERE incident_id = ?1")),
      due_runs_(
          db.prepare("SELECT id, due_at FROM playbook_runs WHERE due_at IS NOT NULL AND status IN "
                     "('waiting', 'awaiting_approval')")) {}

void Runs::discard() {
  timers_.clear();
  alerts_.clear();
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
  // Started under an earlier set: its own text, checked against today's references.
  auto set = playbooks::parse_playbook(
      text, "run:" + hash, active_ ? active_->references.catalog() : playbooks::Catalog{});
  if (!set.ok()) {
    spdlog::error("runs: the playbook version {} of an open run no longer validates: {}", hash,
                  set.errors.front());
    return nullptr;
  }
  auto& slot = older_[hash];
  slot = std::make_unique<playbooks::Playbook>(std::move(set.playbooks.front()));
  return slot.get();
}

std::optional<Runs::LoadedRun> Runs::load(sqlite::Statement& st) {
  LoadedRun r;
  r.id = st.text(0);
  r.incident_id = st.text(1);
  r.playbook_id = st.text(2);
  r.playbook = playbook_for(st.text(3), st.text(4));
  if (!r.playbook) return std::nullopt;
  r.state = playbooks::run_state_from_json(json::parse(st.text(5)));
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
  update_run_.bind(5, json::serialize(playbooks::to_json(s))).bind(6, to_unix_ms(at));
  update_run_.run();

  for (const auto& a : fx.alerts) {
    Alert alert{ids_.next(),
                incident.incident.id,
                run.id,
                run.playbook_id,
                a.kind,
                a.audience,
                a.channels,
                a.template_name,
                a.is_public,
                a.zones,
                a.pattern,
                a.duration,
                at,
                incident.incident.status,
                a.allow_in_exercise};
    insert_alert_.bind(1, alert.id).bind(2, alert.incident_id).bind(3, alert.run_id);
    insert_alert_.bind(4, alert.playbook_id).bind(5, std::int64_t(a.step)).bind(6, a.kind);
    insert_alert_.bind(7, json::serialize(to_json(a.audience)));
    insert_alert_.bind(8, json::serialize(strings(a.channels))).bind(9, a.template_name);
    insert_alert_.bind(10, std::int64_t(a.is_public)).bind(11, json::serialize(strings(a.zones)));
    insert_alert_.bind(12, a.pattern).bind(13, std::int64_t(a.duration.count()));
    insert_alert_.bind(14, to_unix_ms(at));
    insert_alert_.bind(15, to_string(alert.status));
    insert_alert_.bind(16, std::int64_t(alert.allow_in_exercise));
    insert_alert_.run();
    alerts_.push_back(AlertRecord{std::move(alert), incident});
  }
  if (fx.approval_closed) {
    close_approval_.bind(1, run.id).bind(2, *fx.approval_closed).bind(3, to_unix_ms(at));
    close_approval_.run();
  }
  if (fx.approval_opened) {
    const auto& ap = *fx.approval_opened;
    insert_approval_.bind(1, ids_.next()).bind(2, run.id).bind(3, incident.incident.id);
    insert_approval_.bind(4, run.playbook_id).bind(5, std::int64_t(ap.step)).bind(6, ap.role);
    insert_approval_.bind(7, std::int64_t(ap.count));
    insert_approval_.bind(8, std::int64_t(ap.distinct_from_initiator)).bind(9, s.initiator);
    insert_approval_.bind(10, to_unix_ms(ap.due)).bind(11, to_unix_ms(at));
    insert_approval_.run();
  }
  if (s.due) timers_.push_back({run.id, *s.due});
  if (fx.resolve_incident) resolve.push_back(incident.incident.id);
  for (const auto& line : fx.timeline)
    spdlog::info("run {} ({} for incident {}): {}", run.id, run.playbook_id, incident.incident.id,
                 line);
}

void Runs::start(const playbooks::Playbook& p, const IncidentRecord& incident, Timestamp at,
                 std::vector<std::string>& resolve) {
  LoadedRun run{ids_.next(), incident.incident.id, p.id, &p, {}};
  auto fx = playbooks::advance(
      p, run.state, Event{Event::Kind::start, at, incident.incident.source, {}}, incident.incident);
  insert_run_.bind(1, run.id).bind(2, run.incident_id).bind(3, p.id).bind(4, p.hash);
  insert_run_.bind(5, p.text).bind(6, to_string(run.state.status));
  insert_run_.bind(7, std::int64_t(run.state.step)).bind_null(8);
  insert_run_.bind(9, "{}").bind(10, to_unix_ms(at));
  insert_run_.run();
  apply(run, fx, incident, at, resolve);
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
  for (const auto* p : matched)
    if (!running.count(p->id)) start(*p, incident, at, resolve);
  return resolve;
}

std::vector<std::string> Runs::incident_event(const IncidentRecord& incident, Event::Kind kind,
                                              const std::string& by, Timestamp at) {
  std::vector<std::string> resolve;
  for (auto& run : open_runs(incident.incident.id)) {
    auto fx =
        playbooks::advance(*run.playbook, run.state, Event{kind, at, by, {}}, incident.incident);
    if (!fx.refused) apply(run, fx, incident, at, resolve);
  }
  return resolve;
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
                               Timestamp at, std::vector<std::string>& resolve) {
  approval_by_id_.bind(1, approval_id);
  std::string run_id, status;
  if (approval_by_id_.step()) {
    run_id = approval_by_id_.text(0);
    status = approval_by_id_.text(1);
  }
  approval_by_id_.reset();
  if (run_id.empty()) return Error{"not_found", "id: no approval " + approval_id, "id"};
  if (status != "pending")
    return Error{"conflict", "approval " + approval_id + " is already " + status, "id"};
  const Person* person = active_ ? active_->references.people.find(by) : nullptr;
  if (!person) return Error{"forbidden", "by: '" + by + "' is not in the staff directory", "by"};

  run_by_id_.bind(1, run_id);
  std::optional<LoadedRun> run;
  if (run_by_id_.step()) run = load(run_by_id_);
  run_by_id_.reset();
  if (!run)
    return Error{"conflict", "the run of approval " + approval_id + " cannot continue", "id"};
  auto inc = incident(run->incident_id);
  auto fx = playbooks::advance(
      *run->playbook, run->state,
      Event{approve ? Event::Kind::approve : Event::Kind::reject, at, by, person->roles},
      inc->incident);
  if (fx.refused) return Error{"forbidden", *fx.refused, "by"};
  insert_vote_.bind(1, approval_id).bind(2, by).bind(3, approve ? "approve" : "reject");
  insert_vote_.bind(4, to_unix_ms(at));
  insert_vote_.run();
  apply(*run, fx, *inc, at, resolve);
  return fx.approval_closed.value_or("pending");
}

}  // namespace tocsin
