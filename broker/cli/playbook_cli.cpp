#include "broker/cli/playbook_cli.hpp"

#include <algorithm>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "broker/runs/playbook_library.hpp"
#include "channels/registry.hpp"
#include "channels/sms/segments.hpp"
#include "dispatchers/public_lint.hpp"
#include "dispatchers/templates.hpp"

namespace tocsin {

namespace {

std::shared_ptr<const ActivePlaybooks> load(const Config& config, const std::string& dir,
                                            std::ostream& err) {
  if (!config.playbooks.enabled) {
    err << config.source_file << ": has no playbooks section (people, zones, templates)\n";
    return nullptr;
  }
  auto loaded = load_active_playbooks(config.playbooks, dir);
  if (auto* errors = std::get_if<std::vector<std::string>>(&loaded)) {
    for (const auto& e : *errors) err << e << "\n";
    return nullptr;
  }
  return std::get<std::shared_ptr<const ActivePlaybooks>>(loaded);
}

// Every text a matched playbook can send on a channel counted in SMS segments, in each language,
// fits in that channel's max_segments: a text too long is an error here, never cut when sent.
int check_sms_length(const Config& config, const ActivePlaybooks& l, const playbooks::Playbook& p,
                     const Incident& incident, std::ostream& out) {
  if (!l.templates) return 0;
  std::map<std::string, int> limits;  // channel → max_segments
  for (const auto& ch : config.channels)
    if (channels::capabilities(ch.name).segments > 0 && ch.policy.max_segments > 0)
      limits[ch.name] = ch.policy.max_segments;
  if (limits.empty()) return 0;
  IncidentRecord record;
  record.incident = incident;
  int errors = 0;
  auto check = [&](std::size_t step, const std::string& name,
                   const std::vector<std::string>& channels) {
    for (const auto& [channel, max] : limits) {
      if (std::find(channels.begin(), channels.end(), channel) == channels.end()) continue;
      for (const char* lang : {"fr", "en"}) {
        auto text = l.templates->render({name, lang, channel}, record, l.references.zones);
        if (!text) continue;  // a missing file is a load error, reported before this
        auto s = channels::sms::count_segments(text.value());
        if (s.segments <= std::size_t(max)) continue;
        ++errors;
        out << "  error: step " << step + 1 << " (" << name << "." << lang << "." << channel
            << "): " << s.segments << " SMS segments, over max_segments " << max
            << (s.first_non_gsm.empty() ? "" : " (UCS-2 because of '" + s.first_non_gsm + "')")
            << "; it would not be sent, never cut\n";
      }
    }
  };
  for (std::size_t i = 0; i < p.steps.size(); ++i) {
    if (auto* n = std::get_if<playbooks::Notify>(&p.steps[i].action))
      check(i, n->template_name, n->channels);
    if (auto* a = std::get_if<playbooks::RequireApproval>(&p.steps[i].action);
        a && !a->escalate_template.empty())
      check(i, a->escalate_template, a->escalate_channels);
  }
  return errors;
}

// The public-alert lint on each public notify of the playbook, as it would render for this
// incident: the same rules the approver and the dispatcher apply.
int check_public_alerts(const Config& config, const ActivePlaybooks& l,
                        const playbooks::Playbook& p, const Incident& incident, std::ostream& out) {
  if (!l.templates) return 0;
  IncidentRecord record;
  record.incident = incident;
  int errors = 0;
  for (std::size_t i = 0; i < p.steps.size(); ++i) {
    const auto* n = std::get_if<playbooks::Notify>(&p.steps[i].action);
    if (!n || !n->is_public) continue;
    if (incident.status != Status::actual && !n->allow_in_exercise) continue;  // held back
    dispatchers::PublicDraft d;
    d.status = incident.status;
    d.sent = now();
    d.effective = d.sent;
    d.expires = d.sent + n->expires;
    d.headline = incident.headline;
    if (!n->audience.resident_zones.empty())
      d.area = n->audience.resident_zones;
    else if (incident.location.zone)
      d.area = {*incident.location.zone};
    else if (!incident.location.empty())
      d.area = {incident.location.polygon.empty() ? "point" : "polygon"};
    for (const auto& ch : n->channels) {
      if (!l.references.catalog().templated_channels.count(ch)) continue;
      for (const char* lang : {"fr", "en"}) {
        auto m = dispatchers::render_message(*l.templates, l.references.zones, n->template_name,
                                             record, lang, ch);
        if (m)
          d.messages[ch][lang] = std::move(*m);
        else
          d.render_errors.push_back("messages." + ch + "." + lang + ": " + m.error().message);
      }
    }
    for (const auto& c : config.channels)
      if (channels::capabilities(c.name).segments > 0) d.max_segments = c.policy.max_segments;
    for (const auto& problem : dispatchers::lint_public_alert(d)) {
      if (problem.find("SMS segments") != std::string::npos) continue;  // check_sms_length's
      ++errors;
      out << "  error: step " << i + 1 << " (public, " << n->template_name << "): " << problem
          << "; it would be blocked\n";
    }
  }
  return errors;
}

}  // namespace

int playbook_check(const Config& config, const std::string& dir, std::ostream& out,
                   std::ostream& err) {
  auto l = load(config, dir, err);
  if (!l) return 1;
  for (const auto& p : l->playbooks)
    out << p.id << ": ok (" << p.steps.size() << " steps, " << p.hash << ")\n";
  out << l->playbooks.size() << " playbooks valid\n";
  return 0;
}

int playbook_test(const Config& config, const std::string& dir, const std::string& incident_file,
                  const playbooks::DryRunOptions& options, const std::string& at, std::ostream& out,
                  std::ostream& err) {
  auto l = load(config, dir, err);
  if (!l) return 1;
  auto incident = read_incident_file(incident_file, config.limits);
  if (!incident) {
    err << incident.error().message << "\n";
    return 1;
  }
  // --at: the simulated clock starts then, and each page to an on-call schedule says whom it
  // reaches at that time.
  playbooks::DryRunOptions opts = options;
  const auto& schedules = l->references.schedules;
  if (!at.empty()) {
    auto start = schedules.parse_time(at);
    if (!start) {
      err << "--at: '" << at
          << "' is not a time such as 2026-11-01T01:30 (the city's clock) or RFC 3339\n";
      return 64;
    }
    incident->received_at = *start;
    out << "at " << schedules.local_text(*start) << "\n";
  }
  auto zones = l->references.zones.zones_of(incident->location);
  out << "incident: " << incident->type << ", " << to_string(incident->severity) << ", from "
      << incident->source << ", zones: ";
  for (std::size_t i = 0; i < zones.size(); ++i) out << (i ? "," : "") << zones[i];
  out << (zones.empty() ? "none" : "") << "\n";
  opts.on_call = [&](const Audience& audience, Timestamp when) {
    std::vector<std::string> lines;
    for (const auto& id : audience.on_call) {
      const Schedule* s = schedules.find(id);
      if (!s) continue;
      auto people = schedules.on_call(*s, when);
      std::string who;
      for (const auto& p : people) {
        const Person* person = l->references.people.find(p);
        who += (who.empty() ? "" : ", ") + (person ? person->name : p) + " (" + p + ")";
      }
      if (who.empty()) who = "nobody: a gap, so everyone the schedule names";
      lines.push_back("on call for " + id + " at " + schedules.local_text(when) + ": " + who);
    }
    return lines;
  };
  auto matched = l->matcher.match(*incident);
  out << matched.size() << " of " << l->playbooks.size()
      << " playbooks match (dry run: nothing is sent)\n";
  int errors = 0;
  for (const auto* p : matched) {
    out << "\nplaybook " << p->id << "\n";
    for (const auto& line : playbooks::dry_run(*p, *incident, opts)) out << "  " << line << "\n";
    errors += check_public_alerts(config, *l, *p, *incident, out);
    errors += check_sms_length(config, *l, *p, *incident, out);
  }
  return errors ? 1 : 0;
}

}  // namespace tocsin
