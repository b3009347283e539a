#pragma once
// The CLI's everyday verbs, over the running server's HTTP API with a token, as amtool talks to
// Alertmanager: the server checks the token's scope and records the token's person as the actor
// (audited as them), so nobody can act under another's name from a shell. Nothing here opens the
// database; only the offline tools (audit verify on a copy, playbook check) and the bootstrap
// verbs that make the credentials (user, token) do.

#include <chrono>
#include <iosfwd>
#include <string>

#include "core/result.hpp"

namespace tocsin {

struct Remote {
  std::string server;   // http://host:port or https://host:port
  std::string token;    // an API token (tocsin token add NAME --scope … --for PERSON)
  std::string ca_file;  // https: trust only this CA (PEM); empty: the system's store
  bool json = false;    // print the API's answers as they are, for scripts
  std::chrono::seconds timeout{10};
};

// The server: `server` if given, else TOCSIN_SERVER, else http://127.0.0.1:8080. The token: read
// from `token_file` if given (first line), else TOCSIN_TOKEN. Never from the command line, where
// `ps` shows it. An error names the option or variable to set.
Result<Remote> remote_from(const std::string& server, const std::string& token_file,
                           const std::string& ca_file, const std::string& output);

// Each returns the exit code: 0 done; 1 refused by the server (its reason on err, with the field
// it names); 2 the server could not be reached or failed.
int incident_list(const Remote& remote, const std::string& state, int limit, std::ostream& out,
                  std::ostream& err);
int incident_show(const Remote& remote, const std::string& id, std::ostream& out,
                  std::ostream& err);
// action: ack, resolve or cancel.
int incident_act(const Remote& remote, const std::string& id, const std::string& action,
                 const std::string& note, std::ostream& out, std::ostream& err);

int approval_list(const Remote& remote, bool all, std::ostream& out, std::ostream& err);
// `confirm`: the word a live public alert's release takes (LIVE or RÉEL), or empty.
int approval_vote(const Remote& remote, const std::string& id, bool approve,
                  const std::string& note, const std::string& confirm, std::ostream& out,
                  std::ostream& err);

struct SilenceRequest {
  std::string source, type, zone, starts_at, ends_at, duration, reason;
};
// The window's author is the token's person (or the token itself when bound to nobody).
int silence_add(const Remote& remote, const SilenceRequest& request, std::ostream& out,
                std::ostream& err);
int silence_list(const Remote& remote, bool all, std::ostream& out, std::ostream& err);
int silence_expire(const Remote& remote, const std::string& id, std::ostream& out,
                   std::ostream& err);

// Who is on call for a schedule at `at` (the city's clock or RFC 3339; empty: now).
int oncall_who(const Remote& remote, const std::string& schedule, const std::string& at,
               std::ostream& out, std::ostream& err);
// Who is on call, span by span, for `days` days from `from` (empty: now).
int oncall_next(const Remote& remote, const std::string& schedule, const std::string& from,
                int days, std::ostream& out, std::ostream& err);
struct OverrideRequest {
  std::string person, instead_of, from, to, reason;
};
int oncall_override(const Remote& remote, const std::string& schedule,
                    const OverrideRequest& request, std::ostream& out, std::ostream& err);
int oncall_cancel(const Remote& remote, const std::string& schedule, const std::string& id,
                  std::ostream& out, std::ostream& err);

}  // namespace tocsin
