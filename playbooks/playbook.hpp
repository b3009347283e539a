#pragma once
// A playbook: which incidents it matches, and the steps it runs for each one.

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "core/alert.hpp"
#include "core/incident.hpp"
#include "core/template_files.hpp"

namespace tocsin {
class ZoneMap;
}

namespace tocsin::playbooks {

using Seconds = std::chrono::seconds;

// One test on an incident attribute: ==, !=, <, <=, >, >=, in, exists.
struct AttributeCondition {
  std::string name;
  std::string op;
  std::vector<AttributeValue> values;  // one for comparisons, several for `in`
  bool exists = true;                  // for `exists`

  bool holds(const Attributes& attributes) const;
};

struct MatchSpec {
  std::vector<std::string> types;    // exact, or globs with * (flood.*)
  std::vector<std::string> sources;  // globs; empty: any
  std::optional<Severity> at_least;
  std::vector<Severity> severities;  // exact list; empty: any
  std::vector<std::string> zones;    // empty: anywhere
  std::vector<AttributeCondition> attributes;
};

using tocsin::Audience;

struct Notify {
  Audience audience;
  std::vector<std::string> channels;
  std::string template_name;
  bool is_public = false;
  bool allow_in_exercise = false;  // a public notify also runs for a non-actual incident
  Seconds expires{};               // a public alert stands this long after it is sent
  // One approver may release it (see Origin): a written reason at approval, a review after.
  bool break_glass = false;
  // Staff only: page again every `every` until acknowledged, `times` more at most; the run holds
  // at this step meanwhile (times 0: once, and on at once).
  Seconds repeat_every{};
  int repeat_times = 0;
};

struct Wait {
  Seconds duration{};
  std::string until;  // "" (the full duration) or "acknowledged"
};

struct Siren {
  std::vector<std::string> zones;
  std::string pattern;
  Seconds duration{};
  bool allow_in_exercise = false;  // sounds for a non-actual incident too (a siren drill)
  bool break_glass = false;        // as Notify's
};

struct RequireApproval {
  std::string role;
  int count = 1;
  bool distinct_from_initiator = true;
  Seconds timeout{};
  std::string on_timeout = "cancel";  // cancel | escalate
  Audience escalate_to;               // for escalate
  std::vector<std::string> escalate_channels;
  std::string escalate_template;
  int max_escalations = 3;  // then the approval expires: nothing public goes out unapproved
};

struct ResolveWhen {
  std::vector<AttributeCondition> attributes;  // all must hold
};

using Action = std::variant<Notify, Wait, Siren, RequireApproval, ResolveWhen>;

enum class Guard { always, acknowledged, not_acknowledged, approved, severity_rose };

struct Step {
  Action action;
  Guard when = Guard::always;
  std::string kind() const;
  // A public notify or a siren: what reaches the public, released by two people.
  bool reaches_public() const;
  bool break_glass() const;
};

// Who starts a playbook, which decides how many approvers its public steps need: two distinct
// people release an actual public alert or siren, whoever or whatever started the run.
enum class Origin {
  file,      // a playbook file: a sensor may start it, so its approvals alone make the two
  composed,  // composed by a signed-in person, the first of the two (distinct_from_initiator)
  stored,    // an open run's earlier version: the run itself holds back what is not released
};

struct Playbook {
  std::string id;
  std::string description;
  std::string file;
  MatchSpec match;
  // Storm control: incidents matching within group_wait of the first, with the same values of
  // group_by (zone, source, type), join its run instead of starting their own.
  std::vector<std::string> group_by;
  Seconds group_wait{};
  std::vector<Step> steps;
  std::string text;  // the file as loaded: a run keeps the version it started with
  std::string hash;  // of the text
};

// What a playbook may refer to; anything else is a validation error.
struct Catalog {
  std::set<std::string> channels;   // the server's: the channels configured (channels/registry.hpp)
  std::set<std::string> templates;  // names
  // When set, a notify needs a file NAME.LANG.CHANNEL.mustache for each language and each of its
  // channels that renders templates (and for the channel each one falls back to).
  bool require_template_files = false;
  std::set<TemplateFile> template_files;
  std::set<std::string> templated_channels;            // of those, the ones that render templates
  std::map<std::string, std::string> fallbacks;        // channel → the channel it falls back to
  std::map<TemplateFile, std::string> template_texts;  // for the exercise-marking check
  std::set<std::string> roles;
  std::set<std::string> groups;
  std::set<std::string> people;
  std::set<std::string> schedules;  // on-call schedules (config/schedules.yaml)
  const ZoneMap* zones = nullptr;
};

// The steps that reach the public which the approval at `approval_step` gates: those after it,
// up to the next approval. What a release needs, what its preview shows, what a LIVE vote is for.
std::vector<std::size_t> gated_public_steps(const Playbook& playbook, std::size_t approval_step);

bool glob_match(std::string_view pattern, std::string_view text);
std::string content_hash(std::string_view text);  // FNV-1a 64, hex: identity, not security

}  // namespace tocsin::playbooks
