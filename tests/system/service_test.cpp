// The server under a service manager: what systemd's Type=notify and WatchdogSec= see, through
// the real notification socket protocol (sd_notify's datagrams to $NOTIFY_SOCKET).

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include <boost/json.hpp>

#include "tests/support/fake_provider.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/tocsin_server.hpp"
#include "tests/support/wait.hpp"

using namespace tocsin::test;
using namespace std::chrono_literals;

namespace {

// The service manager's end: a datagram socket the server's sd_notify writes to.
class NotifySocket {
 public:
  explicit NotifySocket(std::string path) : path_(std::move(path)) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path_.c_str(), sizeof addr.sun_path - 1);
    bound_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~NotifySocket() {
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  bool bound() const { return bound_; }

  // Reads datagrams until one holds `line` (a line of its own), or the time is up.
  bool wait_for(const std::string& line, std::chrono::milliseconds deadline) {
    const auto until = std::chrono::steady_clock::now() + deadline;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          until - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, int(left.count())) <= 0) continue;
      char buf[4096];
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) continue;
      std::string message(buf, std::size_t(n));
      seen_ += message + "\n---\n";
      if (("\n" + message + "\n").find("\n" + line + "\n") != std::string::npos) return true;
    }
  }
  const std::string& seen() const { return seen_; }

 private:
  std::string path_;
  int fd_ = -1;
  bool bound_ = false;
  std::string seen_;
};

// The environment of `parent`'s child named `name` (from /proc), or "" if it has none.
std::string child_environment(pid_t parent, const std::string& name) {
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    // PID (COMM) STATE PPID …: the command may hold spaces, so from its closing bracket.
    auto close = line.rfind(')');
    auto open = line.find('(');
    if (close == std::string::npos || open == std::string::npos) continue;
    std::string comm = line.substr(open + 1, close - open - 1);
    std::istringstream rest(line.substr(close + 2));
    std::string state;
    pid_t ppid = 0;
    rest >> state >> ppid;
    if (ppid != parent || comm != name) continue;
    std::ifstream environ(entry.path() / "environ", std::ios::binary);
    std::string env((std::istreambuf_iterator<char>(environ)), {});
    for (char& c : env)
      if (c == '\0') c = '\n';
    return env;
  }
  return "";
}

// The shipped flood example, reported over HTTP; its incident's id.
std::string report_flood(const TocsinServer& server) {
  std::ifstream in(TOCSIN_SOURCE_DIR "/docs/examples/incidents/flood.json");
  auto created =
      server.post("/api/v1/incidents", std::string((std::istreambuf_iterator<char>(in)), {}));
  REQUIRE(created);
  REQUIRE(created->status == 201);
  return std::string(boost::json::parse(created->body).at("id").as_string());
}

}  // namespace

TEST_CASE("under systemd: ready once it serves, the watchdog fed, reloading and stopping said",
          "[service]") {
  TempDir dir;
  NotifySocket manager((dir.path() / "notify").string());
  REQUIRE(manager.bound());
  ServerOptions options;
  options.env = {{"NOTIFY_SOCKET", (dir.path() / "notify").string()}, {"WATCHDOG_USEC", "1500000"}};
  TocsinServer server(options);
  server.start();
  INFO("notifications: " << manager.seen());
  // READY=1 comes once it serves (the /health start() waited for answers by then).
  REQUIRE(manager.wait_for("READY=1", 10s));
  CHECK(server.get("/health")->status == 200);
  // WatchdogSec=1.5s: fed at least every half second, while the journal turns.
  CHECK(manager.wait_for("WATCHDOG=1", 5s));
  CHECK(manager.wait_for("WATCHDOG=1", 5s));
  // ExecReload= sends SIGHUP: the manager is told it reloads, then that it is ready again.
  server.process().signal(SIGHUP);
  CHECK(manager.wait_for("RELOADING=1", 5s));
  CHECK(manager.wait_for("READY=1", 5s));
  // Stop: said before it answers what is in flight, and it exits 0.
  server.process().signal(SIGTERM);
  CHECK(manager.wait_for("STOPPING=1", 10s));
  CHECK(server.terminate() == 0);
}

TEST_CASE(
    "a provider's token read from a file reaches it, and the managed Redis inherits no secret",
    "[service]") {
  FakeProvider provider;
  TempDir dir;
  const auto token_file = dir.path() / "sms-token";
  std::ofstream(token_file) << provider.token() << "\n";
  std::filesystem::permissions(token_file, std::filesystem::perms::owner_read);
  ServerOptions options;
  options.playbooks_dir = TOCSIN_SOURCE_DIR "/config/playbooks";
  // Something secret in the server's own environment (a token a unit's EnvironmentFile= gave).
  options.env = {{"TOCSIN_TEST_SECRET", "do-not-leak-4f2a"}};
  std::string sms = provider.sms_yaml();
  const std::string by_variable = "auth_token_env: TEST_SMS_TOKEN";
  REQUIRE(sms.find(by_variable) != std::string::npos);
  sms.replace(sms.find(by_variable), by_variable.size(), "auth_token_file: " + token_file.string());
  options.channels_yaml = sms +
                          "  email: {provider: outbox}\n  console: {provider: outbox}\n"
                          "  websocket: {provider: outbox}\n  cap: {provider: outbox}\n"
                          "  siren: {provider: outbox}\n";
  TocsinServer server(options);
  server.start();
  report_flood(server);
  // The provider checks HTTP basic auth with its token (a wrong one is 401, never answered):
  // the two duty officers' SMS got through, and nothing was refused.
  REQUIRE(wait_until(
      [&] {
        auto all = provider.requests();
        return std::count_if(all.begin(), all.end(),
                             [](const auto& r) { return r.contains("answer"); }) == 2;
      },
      15s));
  CHECK(provider.requests().size() == 2);

  // redis-server, the server's child, got a PATH and a locale, nothing of the server's own.
  std::string env;
  REQUIRE(wait_until(
      [&] { return !(env = child_environment(server.process().pid(), "redis-server")).empty(); },
      10s));
  INFO("redis-server's environment:\n" << env);
  CHECK(env.find("PATH=") != std::string::npos);
  CHECK(env.find("do-not-leak-4f2a") == std::string::npos);
  CHECK(env.find("TOCSIN_TEST_SECRET") == std::string::npos);
}

namespace {}  // namespace

TEST_CASE("probes: /-/healthy and /-/ready by GET and HEAD, and /metrics counts the board",
          "[service]") {
  TocsinServer server;
  server.start();
  const auto port = server.http_port();
  for (const char* path : {"/-/healthy", "/-/ready"}) {
    auto get = raw_request(port, "GET", path);
    CHECK(get.rfind("HTTP/1.1 200", 0) == 0);
    // HEAD: the same status and Content-Length, and nothing after the header.
    auto head = raw_request(port, "HEAD", path);
    CHECK(head.rfind("HTTP/1.1 200", 0) == 0);
    auto content_length = [](const std::string& answer) {
      auto at = answer.find("Content-Length: ");
      return at == std::string::npos ? "" : answer.substr(at, answer.find("\r\n", at) - at);
    };
    REQUIRE(!content_length(get).empty());
    CHECK(content_length(head) == content_length(get));
    CHECK(head.size() == head.find("\r\n\r\n") + 4);
  }
  CHECK(raw_request(port, "GET", "/-/ready").find("tocsin is ready.") != std::string::npos);

  REQUIRE(server
              .post("/api/v1/incidents",
                    R"({"source":"gauge-1","type":"flood.water_level","severity":"minor"})")
              ->status == 201);
  auto metrics = server.get("/metrics")->body;
  CHECK(metrics.find("tocsin_incidents_active 1\n") != std::string::npos);
  CHECK(metrics.find("tocsin_approvals_pending 0\n") != std::string::npos);
  CHECK(metrics.find("tocsin_build_info{version=\"") != std::string::npos);
  CHECK(metrics.find("\nprocess_resident_memory_bytes ") != std::string::npos);
  CHECK(metrics.find("\nprocess_open_fds ") != std::string::npos);
  CHECK(metrics.find("\nprocess_start_time_seconds ") != std::string::npos);
}

namespace {

// The shipped playbooks with log.format `format`, and every playbook run failing (3 tries), for
// an error line that names its incident.
ServerOptions failing_runs_logged_as(const std::string& format) {
  ServerOptions options;
  options.playbooks_dir = TOCSIN_SOURCE_DIR "/config/playbooks";
  options.extra_yaml = "log:\n  level: info\n  format: " + format + "\n";
  options.env = {{"TOCSIN_FAULTS", "journal.playbooks=3"}};
  return options;
}

}  // namespace

TEST_CASE("log.format json: one JSON object a line, the incident's id a field of its own",
          "[service]") {
  TocsinServer server(failing_runs_logged_as("json"));
  server.start();
  const std::string id = report_flood(server);
  REQUIRE(wait_until(
      [&] { return server.log().find("its playbooks failed 3 times") != std::string::npos; }, 20s));
  std::istringstream lines(server.log());
  std::size_t parsed = 0;
  bool named = false;
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    boost::system::error_code ec;
    auto v = boost::json::parse(line, ec);
    INFO(line);
    REQUIRE(!ec);  // every line is JSON
    ++parsed;
    const auto& o = v.as_object();
    CHECK(o.contains("time"));
    CHECK(o.contains("level"));
    CHECK(o.contains("thread"));
    if (std::string(o.at("message").as_string()).find("its playbooks failed") == std::string::npos)
      continue;
    named = true;
    CHECK(o.at("level") == "error");
    CHECK(o.at("thread") == "journal");
    CHECK(o.at("incident_id").as_string() == id);
  }
  CHECK(parsed > 5);
  CHECK(named);
}

namespace {

// One datagram of journald's native protocol as fields: "KEY=value\n", or for a value that holds
// a new line "KEY\n", its length (64-bit little-endian), the value, "\n".
std::map<std::string, std::string> journal_fields(const std::string& d) {
  std::map<std::string, std::string> out;
  std::size_t at = 0;
  while (at < d.size()) {
    auto nl = d.find('\n', at);
    if (nl == std::string::npos) break;
    auto eq = d.find('=', at);
    if (eq != std::string::npos && eq < nl) {
      out[d.substr(at, eq - at)] = d.substr(eq + 1, nl - eq - 1);
      at = nl + 1;
    } else {
      std::string key = d.substr(at, nl - at);
      std::uint64_t size = 0;
      if (nl + 9 > d.size()) break;
      std::memcpy(&size, d.data() + nl + 1, 8);
      out[key] = d.substr(nl + 9, size);
      at = nl + 9 + size + 1;
    }
  }
  return out;
}

}  // namespace

TEST_CASE(
    "log.format journal: each line a journal entry, its priority and the incident's id "
    "fields of their own",
    "[service]") {
  // journald's socket, played by the test: where libsystemd's sd_journal_sendv writes.
  const std::filesystem::path dir = "/run/systemd/journal", path = dir / "socket";
  if (std::filesystem::exists(path)) {
    WARN("a journald runs here: its socket is not the test's to take; not checked");
    return;
  }
  std::error_code ec;
  const bool made = std::filesystem::create_directories(dir, ec);
  if (ec) {
    WARN("cannot make " << dir << " (not root?): " << ec.message() << "; not checked");
    return;
  }
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strcpy(addr.sun_path, path.c_str());
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  struct Cleanup {
    int fd;
    std::filesystem::path path, dir;
    bool made;
    ~Cleanup() {
      close(fd);
      std::filesystem::remove(path);
      if (made) std::filesystem::remove_all(dir);
    }
  } cleanup{fd, path, dir, made};

  TocsinServer server(failing_runs_logged_as("journal"));
  server.start();
  const std::string id = report_flood(server);

  std::map<std::string, std::string> failed;
  std::size_t entries = 0;
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  std::string buffer(256 * 1024, '\0');
  while (failed.empty() && std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 200) <= 0) continue;
    auto n = recv(fd, buffer.data(), buffer.size(), 0);
    if (n <= 0) continue;
    auto fields = journal_fields(buffer.substr(0, std::size_t(n)));
    ++entries;
    CHECK(fields.count("MESSAGE"));
    CHECK(fields.count("PRIORITY"));
    if (fields["MESSAGE"].find("its playbooks failed 3 times") != std::string::npos)
      failed = fields;
  }
  INFO(entries << " journal entries read");
  REQUIRE(!failed.empty());
  CHECK(failed["PRIORITY"] == "3");  // err
  CHECK(failed["INCIDENT_ID"] == id);
  CHECK(failed["SYSLOG_IDENTIFIER"] == "tocsin");
  CHECK(failed["TOCSIN_THREAD"] == "journal");
  CHECK(entries > 3);
}
