#pragma once
// Playbook runs, kept in SQLite. Called by the journal's writer thread inside its transaction,
// so a run's new state, the alerts and approvals it made, and the incident change that caused
// them commit together, or not at all. Timers and alerts are handed on only after the commit.

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "broker/storage/alerts_table.hpp"
#include "broker/storage/audit.hpp"
#include "broker/storage/database.hpp"
#include "core/alert.hpp"
#include "core/incident.hpp"
#include "core/result.hpp"
#include "core/ulid.hpp"
#include "dispatchers/templates.hpp"
#include "playbooks/engine.hpp"
#include "playbooks/matcher.hpp"
#include "playbooks/parser.hpp"
#include "playbooks/references.hpp"

namespace tocsin {

// What stands behind a vote besides its `by`. Approving a LIVE public alert needs both: the word
// typed (the Hawaii lesson), and a person signed in, for a machine's token may name anyone as
// `by` and so could make up a two-person approval on its own.
struct VoteProof {
  bool typed_live = false;  // the voter typed LIVE (or RÉEL)
  bool signed_in = false;   // a person's session, not a machine's token
  std::string via = {};     // the machine that cast it for `by` ("token:NAME"), if any
  std::string reason = {};  // the voter's note: required for a break-glass release
};

// A public alert one approver released alone (a break-glass step), with their reason: the
// journal raises a review incident for it in the same transaction.
struct BreakGlassReview {
  std::string approval_id, run_id, incident_id, playbook_id;
  std::size_t step = 0;  // the approval's, counted from 1
  std::string by, reason;
};

// The coordinator's words: one text for every language, or each language's own (fr and en).
// And the machine that asked for the follow-up for `by`, if any (the audit's actor).
struct FollowUpNote {
  std::string text;
  std::map<std::string, std::string> by_language;
  std::string via;  // "token:NAME"
  bool empty() const { return text.empty() && by_language.empty(); }
};

// The playbook set in force, with what it refers to. Immutable once built; a reload builds
// another and swaps it in.
struct ActivePlaybooks {
  playbooks::References references;
  std::vector<playbooks::Playbook> playbooks;
  playbooks::Matcher matcher;  // points into the two above: never copied or moved
  playbooks::Catalog catalog;  // what the set was validated against (zones: into references)
  std::shared_ptr<const dispatchers::TemplateSet> templates;  // compiled, for the dispatcher
  Timestamp loaded_at{};
};

std::shared_ptr<const ActivePlaybooks> make_active(
    playbooks::References references, std::vector<playbooks::Playbook> playbooks,
    std::shared_ptr<const dispatchers::TemplateSet> templates = nullptr,
    const playbooks::Catalog* configured = nullptr);  // its channels and fallbacks, if given

// An alert a run made (a row in `alerts`, status pending until the dispatcher takes it), with
// the incident as it stood when the alert was made.
struct AlertRecord {
  Alert alert;
  IncidentRecord incident;
};

// Told of the alerts of each commit, after it, on the journal's thread: must not block.
class ActionSink {
 public:
  virtual ~ActionSink() = default;
  virtual void on_alerts(const std::vector<AlertRecord>& alerts) = 0;
};

// What a public alert would reach if sent now, with its lint (the dispatcher's answer): shown
// to the approver and recorded with the approval. Called on the journal's thread.
using ReachPreview = std::function<Reach(const Alert&, const IncidentRecord&)>;

struct RunTimer {
  std::string run_id;
  Timestamp due;
};

class Runs {
 public:
  Runs(db::Connection& db, UlidGenerator& ids);

  void use(std::shared_ptr<const ActivePlaybooks> set) { active_ = std::move(set); }
  void preview_with(ReachPreview preview) { preview_ = std::move(preview); }
  const std::shared_ptr<const ActivePlaybooks>& active() const { return active_; }

  // In the writer's transaction. Each returns the ids of incidents a run asks to resolve.
  std::vector<std::string> reported(const IncidentRecord& incident, bool created, Timestamp at);
  std::vector<std::string> incident_event(const IncidentRecord& incident,
                                          playbooks::Event::Kind kind, const std::string& by,
                                          Timestamp at);
  // The approval's new status (pending, approved, rejected), or why the vote was refused.
  // Approving a live public alert (its incident's status is actual) needs the word typed and a
  // person signed in (`proof`).
  Result<std::string> vote(const std::string& approval_id, const std::string& by, bool approve,
                           VoteProof proof, Timestamp at, std::vector<std::string>& resolve);
  std::vector<std::string> timer(const std::string& run_id, Timestamp due, Timestamp at);
  // A manual alert composed in the console: a one-off playbook (its YAML text), validated like a
  // file of the set and started at once for an active incident, with `by` as its initiator (so
  // that its approval needs someone else). Its text is kept with the run, like any run's.
  struct Composed {
    std::string run_id, status;
  };
  // A correction of a public alert, with the coordinator's text: checked as follow_up() would,
  // linted against what it would reach, and kept as an approval (kind correction) that another
  // person with the role that released the alert approves (signed in, typing the word when the
  // incident is actual) within kCorrectionWait. The approval's id, and the incident's.
  struct Proposed {
    std::string approval_id, incident_id;
  };
  Result<Proposed> propose_correction(const std::string& alert_id, const FollowUpNote& note,
                                      const std::string& by, Timestamp at);
  static constexpr std::chrono::minutes kCorrectionWait{30};
  Result<Composed> compose(const std::string& text, const std::string& incident_id,
                           const std::string& by, Timestamp at, std::vector<std::string>& resolve);

  // What the committed transaction leaves to do; cleared by discard() after a rollback.
  std::vector<RunTimer> take_timers() { return std::exchange(timers_, {}); }
  std::vector<AlertRecord> take_alerts() { return std::exchange(alerts_, {}); }
  // Break-glass releases of this transaction: the caller raises their reviews in it.
  std::vector<BreakGlassReview> take_reviews() { return std::exchange(reviews_, {}); }
  void discard();

  // Open runs with a due time: their timers, re-armed at start-up.
  std::vector<RunTimer> pending_timers();

 private:
  struct LoadedRun {
    std::string id, incident_id, playbook_id;
    std::string group_key;  // group_by's values; empty: not grouped
    const playbooks::Playbook* playbook = nullptr;
    playbooks::RunState state;
  };
  std::optional<LoadedRun> load(db::Statement& st);
  const playbooks::Playbook* playbook_for(const std::string& hash, const std::string& text);
  std::optional<IncidentRecord> incident(const std::string& id);
  // The run's initiator is the incident's source, unless `initiator` names someone.
  std::string start(const playbooks::Playbook& p, const IncidentRecord& incident, Timestamp at,
                    std::vector<std::string>& resolve, const std::string& group_key,
                    const std::string& initiator = "");
  std::string group_key(const playbooks::Playbook& p, const Incident& incident) const;
  // The open run of playbook p for this group, if one is gathering or under way.
  std::optional<std::string> group_run(const playbooks::Playbook& p, const std::string& key);
  void join(const std::string& run_id, const IncidentRecord& incident, Timestamp at);
  std::vector<GroupMember> members(const std::string& run_id);
  // The reach of each public step after an approval step, up to the next approval.
  std::vector<Reach> preview(const playbooks::Playbook& p, std::size_t approval_step,
                             const IncidentRecord& incident);
  std::optional<Reach> approved_reach(const std::string& run_id, std::size_t step);
  struct PendingCorrection {
    std::string alert_id, role, proposer, incident_id;
    FollowUpNote note;
    Timestamp due{};
  };
  void record_vote(const std::string& approval_id, const std::string& by, bool approve,
                   const VoteProof& proof, Timestamp at);
  Result<std::string> vote_correction(const std::string& approval_id, const PendingCorrection& c,
                                      const std::string& by, bool approve, const VoteProof& proof,
                                      Timestamp at);
  void apply(LoadedRun& run, const playbooks::Effects& fx, const IncidentRecord& incident,
             Timestamp at, std::vector<std::string>& resolve);
  std::vector<LoadedRun> open_runs(const std::string& incident_id);

  db::Connection& db_;
  audit::Appender audit_;
  UlidGenerator& ids_;
  std::shared_ptr<const ActivePlaybooks> active_;
  // Runs that started under an earlier set keep their text; parsed once, kept here by hash.
  std::map<std::string, std::unique_ptr<playbooks::Playbook>> older_;
  std::vector<RunTimer> timers_;
  std::vector<AlertRecord> alerts_;
  std::vector<BreakGlassReview> reviews_;
  ReachPreview preview_;
  db::Statement insert_run_, update_run_, open_runs_, run_by_id_, insert_approval_, close_approval_,
      approval_by_id_, insert_vote_, incident_by_id_, playbooks_run_, due_runs_, find_group_,
      insert_member_, members_, member_runs_, approved_preview_, insert_version_, version_text_;
  AlertsTable alerts_table_;
  IncidentEvents events_;
  // Playbook versions stored (playbook_versions) by this writer since its last rollback: each
  // text is kept once, not with every run.
  std::set<std::string> stored_versions_;
};

}  // namespace tocsin
