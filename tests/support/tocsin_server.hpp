#pragma once
// A real `tocsin serve` child process with its own configuration, ports and data directory.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "tests/support/http_client.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace tocsin::test {

std::uint16_t free_tcp_port();

class TocsinServer;

struct ServerOptions {
  ServerOptions(std::string redis_url = {}) : redis_url(std::move(redis_url)) {}
  std::string redis_url;      // empty: redis.mode managed
  std::string playbooks_dir;  // set: playbooks from here, with the shipped people/zones/templates
  std::string people_file;    // with playbooks_dir: this staff directory instead of the shipped one
  // With playbooks_dir: these on-call schedules (default: the shipped ones, but none with another
  // people_file).
  std::string schedules_file;
  // The `channels:` section's body (indented two spaces); empty: every channel to the outbox.
  std::string channels_yaml;
  std::vector<std::pair<std::string, std::string>> env;  // extra environment (secrets)
  std::string http_yaml;     // more keys of the http: section, each "  key: value\n"
  std::string ingest_yaml;   // more keys of the ingest: section
  std::string storage_yaml;  // more keys of the storage: section
  std::string extra_yaml;    // more top-level sections (silences:…)
  // How start() knows the server is up; empty: GET /health over plain HTTP answers 200.
  std::function<bool(const TocsinServer&)> ready;
};

class TocsinServer {
 public:
  explicit TocsinServer(ServerOptions options = {});
  ~TocsinServer();

  // Starts the server and waits until /health answers (throws if it does not in time).
  void start();
  // SIGTERM, and the exit code.
  int terminate();
  void kill9();

  std::string zmq_endpoint() const { return "tcp://127.0.0.1:" + std::to_string(zmq_port_); }
  std::uint16_t http_port() const { return http_port_; }
  std::string database() const { return (dir_.path() / "data" / "tocsin.db").string(); }
  std::string config_file() const { return (dir_.path() / "tocsin.yaml").string(); }
  std::string data_dir() const { return (dir_.path() / "data").string(); }
  std::string log() const;
  // The outbox lines written for `channel` so far.
  std::vector<std::string> outbox(const std::string& channel) const;
  Process& process() { return process_; }

  // Requests with the tests' admin token (Authorization: Bearer), made at the first start.
  std::optional<HttpResponse> request(const std::string& method, const std::string& target,
                                      const std::string& body = "",
                                      const std::string& content_type = "application/json",
                                      std::map<std::string, std::string> extra = {}) const {
    extra.emplace("Authorization", "Bearer " + token_);
    return http_request(http_port_, method, target, body, content_type, extra);
  }
  std::optional<HttpResponse> get(const std::string& target) const {
    return request("GET", target);
  }
  std::optional<HttpResponse> post(const std::string& target, const std::string& body,
                                   const std::string& content_type = "application/json") const {
    return request("POST", target, body, content_type);
  }
  const std::string& token() const { return token_; }
  // The tests' token is bound to nobody: it acts as "token:tests" and names no one. A token bound
  // to a person (POST /api/v1/tokens with "for") acts as them; its value, for as_token().
  std::string token_for(const std::string& person,
                        const std::string& scopes = R"(["read","operate"])") const;
  std::optional<HttpResponse> as_token(const std::string& token, const std::string& method,
                                       const std::string& target,
                                       const std::string& body = "") const {
    return request(method, target, body, "application/json",
                   {{"Authorization", "Bearer " + token}});
  }
  // A console account (tocsin user add), usable before or after start().
  void add_user(const std::string& name, const std::string& role, const std::string& password);
  // The "status" of a component in /health ("" if unreachable).
  std::string health(const std::string& component) const;
  // Waits (up to `timeout`) until every acknowledged report has run its playbooks: reports are
  // acknowledged at their commit, and their runs, alerts and resolutions follow in the journal's
  // next transactions. True at once if the server is not running.
  bool settled(std::chrono::milliseconds timeout = std::chrono::seconds(30)) const;

 private:
  ServerOptions options_;
  TempDir dir_;
  std::uint16_t zmq_port_, http_port_;
  Process process_;
  std::string token_;
};

// A signed-in person's session: the cookie to send back and the CSRF token its writes need.
struct Session {
  std::string cookie, csrf;
  std::map<std::string, std::string> login_headers;  // the login's response headers
};
// Signs in through POST /api/v1/login; throws if that is refused.
Session sign_in(const TocsinServer& s, const std::string& user, const std::string& password);
// A person of the staff directory given a console account and signed in: approving a live public
// alert takes a person's session, not the tests' token.
Session signed_in_person(TocsinServer& s, const std::string& name,
                         const std::string& role = "approver");
// A request as that person: the cookie, the CSRF token (unless told not to), an Origin if given.
std::optional<HttpResponse> as_user(const TocsinServer& s, const Session& who,
                                    const std::string& method, const std::string& target,
                                    const std::string& body, bool with_csrf = true,
                                    const std::string& origin = "");

// Two people release a live public alert: each approves it, signed in, typing the word. The
// first vote must leave it pending; returns the second's answer (it releases the alert).
std::optional<HttpResponse> approve_by_two(const TocsinServer& s, const std::string& approval_id,
                                           const Session& first, const Session& second);

// For tests about what follows a release, not the release itself: swilliams and plavoie sign in
// and release every pending approval, as they come, until `expected` have been released (false
// if the deadline passed first).
bool release_pending_approvals(TocsinServer& s, std::size_t expected,
                               std::chrono::seconds deadline = std::chrono::seconds(60));

// Read-only queries on a journal database for assertions.
std::set<std::string> query_strings(const std::string& database, const std::string& sql);
long long query_integer(const std::string& database, const std::string& sql);

}  // namespace tocsin::test
