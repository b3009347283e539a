// The server under abuse, tried as an attacker would: a flood of logins with huge names, a
// person's name guessed at from one address. Bounds are asserted far from today's numbers and far
// from yesterday's growth, never as timings.

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "tests/support/fake_provider.hpp"
#include "tests/support/process.hpp"
#include "tests/support/sensor_client.hpp"
#include "tests/support/smtp_server.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/tocsin_server.hpp"
#include "tests/support/wait.hpp"

using namespace tocsin::test;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

// The process's resident memory, in KiB (VmRSS in /proc/PID/status).
long resident_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

std::optional<HttpResponse> login(const TocsinServer& s, const std::string& user,
                                  const std::string& password) {
  return http_request(s.http_port(), "POST", "/api/v1/login",
                      json::serialize(json::object{{"user", user}, {"password", password}}));
}

// A minor flood report from gauge-I (no playbook matches it).
std::optional<HttpResponse> minor_report(const TocsinServer& s, int i) {
  return s.post("/api/v1/incidents", R"({"source":"gauge-)" + std::to_string(i) +
                                         R"(","type":"flood.water_level","severity":"minor"})");
}

}  // namespace

TEST_CASE("a flood of logins with 60 KB names does not grow the server's memory", "[abuse]") {
  TocsinServer server;
  server.add_user("mgagnon", "operator", "correct horse battery");
  server.start();
  long before = resident_kib(server.process().pid());
  REQUIRE(before > 0);
  int refused = 0;
  for (int i = 0; i < 1500; ++i) {
    std::string name(60 * 1024 - 64, char('a' + i % 26));
    name += std::to_string(i);
    auto r = login(server, name, "x");
    REQUIRE(r);
    refused += r->status == 401 || r->status == 429;
  }
  CHECK(refused == 1500);
  long after = resident_kib(server.process().pid());
  INFO("VmRSS " << before << " KiB before, " << after << " KiB after");
  // 1,500 names of 60 KB kept would be 88 MB; the limiter keeps none of them.
  CHECK(after - before < 24 * 1024);
}

TEST_CASE("wrong passwords for one name slow that name from that address, not everyone",
          "[abuse]") {
  TocsinServer server;
  server.add_user("mgagnon", "operator", "correct horse battery");
  server.add_user("jtremblay", "operator", "staple battery horse");
  server.start();
  for (int i = 0; i < 5; ++i)
    CHECK(login(server, "mgagnon", "wrong password " + std::to_string(i))->status == 401);
  auto slowed = login(server, "mgagnon", "correct horse battery");
  REQUIRE(slowed);
  CHECK(slowed->status == 429);
  CHECK(std::stoi(slowed->headers.at("retry-after")) >= 1);
  // Another person at the same address (a shared office) is not locked out by it.
  auto other = login(server, "jtremblay", "staple battery horse");
  REQUIRE(other);
  CHECK(other->status == 200);
  // Unknown names fail as known ones do, and count against the address the same way.
  for (int i = 0; i < 3; ++i)
    CHECK(login(server, "nobody" + std::to_string(i), "x")->status == 401);
}

TEST_CASE("a provider's error naming the address never reaches the audit trail, the log or the API",
          "[abuse][privacy]") {
  // A phone number the SMS provider refuses (its 400 says the number back) and a mailbox the SMTP
  // server refuses (its 550 says the address back), as real ones do.
  const std::string phone = "+15145550111", mailbox = "nobody@ville.example";
  FakeProvider provider(std::map<std::string, std::vector<std::string>>{{phone, {"400"}}});
  SmtpServer smtp;
  TempDir dir, staff;
  std::ofstream(staff.path() / "people.yaml")
      << "people:\n  - id: rbeaulieu\n    name: R. Beaulieu\n"
         "    roles: [duty-officer]\n    phone: \"" +
             phone + "\"\n    email: " + mailbox +
             "\n    language: fr\n    channels: [sms, email]\n";
  std::ofstream(dir.path() / "page.yaml") << R"(id: page
match: { type: test.page }
steps:
  - notify: { audience: { people: [rbeaulieu] }, channels: [sms, email], template: flood-staff }
)";
  ServerOptions options;
  options.playbooks_dir = dir.path().string();
  options.people_file = (staff.path() / "people.yaml").string();
  options.env = {{"TEST_SMS_TOKEN", provider.token()}};
  options.channels_yaml = provider.sms_yaml() +
                          "  email:\n    provider: smtp\n    url: " + smtp.url() +
                          "\n    from: alertes@ville.example\n    starttls: off\n";
  TocsinServer server(options);
  server.start();
  SensorClient sensor(server.zmq_endpoint());
  std::string incident = accepted_id(sensor, R"({"source":"test","type":"test.page",)"
                                             R"("severity":"severe","headline":"Essai"})");
  const auto db = server.database();
  REQUIRE(wait_until(
      [&] {
        return query_integer(db, "SELECT count(*) FROM deliveries WHERE state = 'failed'") == 2;
      },
      20s));
  // The reasons are kept, naming nobody by address.
  auto reasons = query_strings(db, "SELECT last_error FROM deliveries");
  INFO(json::serialize(json::value_from(std::vector<std::string>(reasons.begin(), reasons.end()))));
  CHECK(std::any_of(reasons.begin(), reasons.end(),
                    [](const std::string& r) { return r.find("21211") != std::string::npos; }));
  CHECK(std::any_of(reasons.begin(), reasons.end(),
                    [](const std::string& r) { return r.find("550") != std::string::npos; }));

  const std::vector<std::string> personal{phone, phone.substr(1), mailbox};
  auto audit_rows = query_strings(db, "SELECT actor || ' ' || action || ' ' || detail FROM audit");
  std::string alert_id = *query_strings(db, "SELECT id FROM alerts").begin();
  const std::vector<std::pair<std::string, std::string>> places{
      {"the log", server.log()},
      {"GET /api/v1/alerts/{id}", server.get("/api/v1/alerts/" + alert_id)->body},
      {"GET /api/v1/incidents/{id}", server.get("/api/v1/incidents/" + incident)->body},
      {"GET /api/v1/audit", server.get("/api/v1/audit?limit=1000")->body},
      {"the audit table", [&] {
         std::string all;
         for (const auto& r : audit_rows) all += r + "\n";
         return all;
       }()}};
  for (const auto& [where, text] : places)
    for (const auto& p : personal) {
      INFO(where << " mentions " << p);
      CHECK(text.find(p) == std::string::npos);
    }
  CHECK(audit_rows.size() > 3);  // the deliveries' changes are there, by recipient id
}

TEST_CASE("rows cut from the audit chain's end show against its checkpoints", "[abuse][audit]") {
  ServerOptions options;
  options.storage_yaml = "  audit_checkpoint_interval: 1s\n";
  TocsinServer server(options);
  server.start();
  for (int i = 0; i < 5; ++i)
    REQUIRE(
        server
            .post("/api/v1/incidents", R"({"source":"gauge-)" + std::to_string(i) +
                                           R"(","type":"flood.water_level","severity":"minor"})")
            ->status == 201);
  const auto db = server.database();
  const std::filesystem::path checkpoints =
      std::filesystem::path(server.data_dir()) / "audit.checkpoints";
  // The head, checkpointed within a second or two by the server itself.
  REQUIRE(wait_until(
      [&] {
        std::string last, line;
        std::ifstream in(checkpoints);
        while (std::getline(in, line))
          if (!line.empty()) last = line;
        if (last.empty()) return false;
        return json::parse(last).at("seq").to_number<long long>() ==
               query_integer(db, "SELECT max(seq) FROM audit");
      },
      10s));
  auto ok = run_command({TOCSIN_BINARY, "audit", "verify", "--config", server.config_file()}, 20s);
  INFO(ok.output);
  CHECK(ok.exit_code == 0);
  CHECK(ok.output.find("checkpoints agree") != std::string::npos);
  REQUIRE(server.terminate() == 0);  // and a last checkpoint of the head it leaves

  // Whoever can write the database deletes the chain's last rows: what is left still chains, but
  // the checkpoints remember more.
  long long last = query_integer(db, "SELECT max(seq) FROM audit");
  auto cut = run_command(
      {"/usr/bin/sqlite3", db, "DELETE FROM audit WHERE seq > " + std::to_string(last - 3)}, 10s);
  REQUIRE(cut.exit_code == 0);
  auto bad = run_command({TOCSIN_BINARY, "audit", "verify", "--config", server.config_file()}, 20s);
  INFO(bad.output);
  CHECK(bad.exit_code == 1);
  CHECK(bad.output.find("rows " + std::to_string(last - 2) + " to " + std::to_string(last) +
                        " are missing") != std::string::npos);
  // The key lives outside the database, for its owner only, and the chain is keyed with it.
  const auto key = std::filesystem::path(server.data_dir()) / "audit.key";
  REQUIRE(std::filesystem::exists(key));
  CHECK((std::filesystem::status(key).permissions() & std::filesystem::perms::group_all) ==
        std::filesystem::perms::none);
  CHECK(query_integer(db, "SELECT min(keyed) FROM audit") == 1);
}

TEST_CASE("a client that trickles its request's header is let go, and the others are served",
          "[abuse][connections]") {
  TocsinServer server;
  server.start();
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(server.http_port());
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0);
  const std::string start = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
  REQUIRE(::send(fd, start.data(), start.size(), MSG_NOSIGNAL) == ssize_t(start.size()));
  // One more byte of the header every second, never its end: the server closes the connection
  // (today within its 10 s header deadline; before, it waited 60 s for the whole request).
  bool closed = false;
  for (int second = 0; second < 25 && !closed; ++second) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 1000) > 0) {
      char buf[512];
      closed = ::recv(fd, buf, sizeof buf, 0) <= 0;
      continue;
    }
    if (::send(fd, "x", 1, MSG_NOSIGNAL) != 1) closed = true;
    // Meanwhile everyone else is served.
    if (second == 3) CHECK(server.get("/health")->status == 200);
  }
  ::close(fd);
  CHECK(closed);
}

TEST_CASE("a journal that cannot commit says so: reports refused, /health 503, then it recovers",
          "[abuse][faults]") {
  TocsinServer server;
  server.start();
  auto report = [&](int i) { return minor_report(server, i); };
  REQUIRE(report(1)->status == 201);
  // Another process holds the database's write lock (a backup tool, a stuck CLI), until told.
  TempDir dir;
  const auto release = dir.path() / "release";
  Process holder({"/usr/bin/python3", "-c",
                  "import os, sqlite3, sys, time\n"
                  "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
                  "c.execute('BEGIN IMMEDIATE')\n"
                  "print('locked', flush=True)\n"
                  "while not os.path.exists(sys.argv[2]): time.sleep(0.05)\n",
                  server.database(), release.string()},
                 (dir.path() / "holder.log").string());
  REQUIRE(wait_until(
      [&] { return read_file(dir.path() / "holder.log").find("locked") != std::string::npos; },
      10s));
  // A report now is refused with a clear error, never acknowledged…
  auto refused = report(2);
  REQUIRE(refused);
  CHECK(refused->status == 503);
  CHECK(json::parse(refused->body).at("error").at("code") == "storage_unavailable");
  // …and the server says it is failing, and why, and counts it.
  auto health = server.get("/health");
  CHECK(health->status == 503);
  auto journal = json::parse(health->body).at("components").at("journal");
  CHECK(journal.at("status") == "failing");
  CHECK(std::string(journal.at("error").as_string()).find("locked") != std::string::npos);
  CHECK(server.get("/metrics")->body.find("tocsin_journal_commit_failures_total 0") ==
        std::string::npos);
  CHECK(http_request(server.http_port(), "GET", "/health")->body ==
        "{\"status\":\"failing\"}\n");  // the public answer: the status alone
  // Not ready (a load balancer sends reports elsewhere), though alive.
  CHECK(http_request(server.http_port(), "GET", "/-/ready")->status == 503);
  CHECK(http_request(server.http_port(), "GET", "/-/ready")->body ==
        "tocsin is not ready: the journal cannot commit.\n");
  CHECK(http_request(server.http_port(), "GET", "/-/healthy")->status == 200);
  // The lock goes: it recovers by itself; what was acknowledged is all there, nothing else.
  std::ofstream(release) << "go";
  REQUIRE(holder.wait(10s));
  REQUIRE(report(3)->status == 201);
  CHECK(server.get("/health")->status == 200);
  CHECK(http_request(server.http_port(), "GET", "/-/ready")->status == 200);
  CHECK(query_strings(server.database(), "SELECT source FROM incidents") ==
        std::set<std::string>{"gauge-1", "gauge-3"});
  CHECK(server.log().find("journal: committing again") != std::string::npos);
}

namespace {

// The shipped flood example as another gauge's report.
std::string flood_report(const std::string& source) {
  std::ifstream in(TOCSIN_SOURCE_DIR "/docs/examples/incidents/flood.json");
  auto report = json::parse(std::string((std::istreambuf_iterator<char>(in)), {})).as_object();
  report["source"] = source;
  return json::serialize(report);
}

std::string error_code(const std::optional<HttpResponse>& r) {
  return r ? std::string(json::parse(r->body).at("error").at("code").as_string()) : "no answer";
}

}  // namespace

TEST_CASE("an exception in a handler, a read or the journal is answered, and the server goes on",
          "[abuse][faults]") {
  ServerOptions options;
  options.playbooks_dir = TOCSIN_SOURCE_DIR "/config/playbooks";
  // Each point throws as a bug would, the first time (a playbook run: three times).
  options.env = {{"TOCSIN_FAULTS",
                  "api.handler=1,api.off_thread=1,journal.report=1,"
                  "journal.playbooks=3"}};
  // Up once it answers at all (a 404 comes before any handler: no fault is spent on it).
  options.ready = [](const TocsinServer& s) {
    auto r = http_request(s.http_port(), "GET", "/no-such-path");
    return r && r->status == 404;
  };
  TocsinServer server(options);
  server.start();

  // A handler throws: 500 with a clear error; then a read throws: the same; then it answers.
  auto first = server.get("/api/v1/incidents");
  REQUIRE(first);
  CHECK(first->status == 500);
  CHECK(error_code(first) == "internal");
  auto second = server.get("/api/v1/incidents");
  CHECK(second->status == 500);
  CHECK(server.get("/api/v1/incidents")->status == 200);

  // The journal throws on a report: refused, never acknowledged; sent again, it is taken.
  auto refused = server.post("/api/v1/incidents", flood_report("gauge-rdp-17"));
  REQUIRE(refused);
  CHECK(refused->status == 500);
  CHECK(error_code(refused) == "internal");
  CHECK(query_integer(server.database(), "SELECT count(*) FROM incidents") == 0);
  auto taken = server.post("/api/v1/incidents", flood_report("gauge-rdp-17"));
  REQUIRE(taken->status == 201);
  const std::string held = std::string(json::parse(taken->body).at("id").as_string());

  // Its playbook run throws every time it is tried: it is skipped, loudly, and does not hold
  // the next report's, whose duty officers are paged.
  REQUIRE(wait_until(
      [&] {
        return server.log().find("incident " + held + ": its playbooks failed 3 times") !=
               std::string::npos;
      },
      20s));
  auto next = server.post("/api/v1/incidents", flood_report("gauge-rdp-18"));
  REQUIRE(next->status == 201);
  const std::string paged = std::string(json::parse(next->body).at("id").as_string());
  REQUIRE(wait_until(
      [&] {
        for (const auto& line : server.outbox("sms"))
          if (json::parse(line).at("incident").as_string() == paged) return true;
        return false;
      },
      20s));
  for (const auto& line : server.outbox("sms"))
    CHECK(json::parse(line).at("incident").as_string() != held);
  CHECK(server.get("/metrics")->body.find("tocsin_journal_internal_errors_total 4") !=
        std::string::npos);
  CHECK(server.get("/health")->status == 200);
  CHECK(server.process().running());
}

namespace {

// A small tmpfs mounted on a directory for the test's length (the tests run as root), so the
// server's disk can be filled to the brim without touching the machine's.
class SmallDisk {
 public:
  SmallDisk(const std::string& dir, const char* size) : dir_(dir) {
    std::filesystem::create_directories(dir_);
    const std::string options = std::string("size=") + size + ",mode=0700";
    mounted_ = ::mount("tmpfs", dir_.c_str(), "tmpfs", 0, options.c_str()) == 0;
    if (!mounted_) error_ = std::strerror(errno);
  }
  ~SmallDisk() {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }

  // Fills what is left with one file; returns the bytes written.
  std::size_t fill() {
    std::FILE* f = std::fopen(filler().c_str(), "wb");
    if (!f) return 0;
    std::vector<char> block(64 * 1024, 'x');
    std::size_t total = 0;
    for (;;) {
      std::size_t n = std::fwrite(block.data(), 1, block.size(), f);
      total += n;
      if (n < block.size()) break;
    }
    std::fclose(f);
    // What fwrite buffered may not have fit: top up byte by byte.
    int fd = ::open(filler().c_str(), O_WRONLY | O_APPEND);
    while (::write(fd, "x", 1) == 1) ++total;
    ::close(fd);
    return total;
  }
  void make_room() { std::filesystem::remove(filler()); }

 private:
  std::string filler() const { return dir_ + "/filler"; }
  std::string dir_;
  bool mounted_ = false;
  std::string error_;
};

}  // namespace

TEST_CASE("a full disk: reports refused with a clear error, nothing acknowledged lost, recovered",
          "[abuse][faults]") {
  TocsinServer server;
  SmallDisk disk(server.data_dir(), "16m");
  INFO("mounting a tmpfs for the data directory: " << disk.error());
  REQUIRE(disk.mounted());
  server.start();
  auto report = [&](int i) { return minor_report(server, i); };
  REQUIRE(report(1)->status == 201);
  REQUIRE(report(2)->status == 201);

  // The disk fills up (another program's files, the logs of something else).
  REQUIRE(disk.fill() > 0);
  auto refused = report(3);
  REQUIRE(refused);
  CHECK(refused->status == 503);
  CHECK(error_code(refused) == "storage_unavailable");
  auto health = server.get("/health");
  CHECK(health->status == 503);
  auto journal = json::parse(health->body).at("components").at("journal");
  CHECK(journal.at("status") == "failing");
  CHECK(std::string(journal.at("error").as_string()).find("full") != std::string::npos);
  // Reading goes on: the board still shows what was taken.
  auto board = server.get("/api/v1/incidents");
  REQUIRE(board);
  CHECK(board->status == 200);
  CHECK(json::parse(board->body).at("incidents").as_array().size() == 2);

  // Space returns: it recovers by itself, and holds what it acknowledged, nothing else.
  disk.make_room();
  REQUIRE(wait_until([&] { return report(4)->status == 201; }, 10s));
  CHECK(server.get("/health")->status == 200);
  CHECK(server.process().running());
  CHECK(query_strings(server.database(), "SELECT source FROM incidents") ==
        std::set<std::string>{"gauge-1", "gauge-2", "gauge-4"});
  CHECK(server.log().find("database or disk is full") != std::string::npos);
  // Stopped cleanly, it starts again on the same data with everything there.
  CHECK(server.terminate() == 0);
  server.start();
  CHECK(query_integer(server.database(), "SELECT count(*) FROM incidents") == 3);
}

namespace {

// GET /health from `source` on a connection of its own: the whole answer.
std::string health_from(const char* source, std::uint16_t port) {
  int fd = connect_from(source, port);
  if (fd < 0) return "";
  auto got = exchange(fd, "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  ::close(fd);
  return got;
}

const std::string kPublicFeed =
    "GET /ws/public HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

}  // namespace

TEST_CASE(
    "connections are budgeted per address and in all, WebSockets too: beyond, 503 Retry-After",
    "[abuse][connections]") {
  ServerOptions options;
  options.http_yaml = "  max_connections: 6\n  max_connections_per_address: 4\n";
  TocsinServer server(options);
  server.start();
  const auto port = server.http_port();
  std::vector<int> held;
  auto close_held = [&] {
    for (int fd : held) ::close(fd);
    held.clear();
  };
  // One address holds four connections (idle, as a client that opens and waits would)…
  for (int i = 0; i < 4; ++i) held.push_back(connect_from("127.0.0.1", port));
  REQUIRE(std::count(held.begin(), held.end(), -1) == 0);
  // …the server has taken them all (each holds its place from its accept on)…
  REQUIRE(wait_until([&] { return health_from("127.0.0.1", port).rfind("HTTP/1.1 503", 0) == 0; },
                     10s));
  // …so its next gets 503 and Retry-After, with the reason; another address is served.
  auto refused = health_from("127.0.0.1", port);
  CHECK(refused.rfind("HTTP/1.1 503", 0) == 0);
  CHECK(refused.find("Retry-After: 5") != std::string::npos);
  CHECK(refused.find("\"overloaded\"") != std::string::npos);
  CHECK(refused.find("too many connections from your address") != std::string::npos);
  CHECK(health_from("127.0.0.2", port).rfind("HTTP/1.1 200", 0) == 0);
  // Two more from a second address: six in all, and a third address is refused too.
  held.push_back(connect_from("127.0.0.2", port));
  held.push_back(connect_from("127.0.0.2", port));
  REQUIRE(wait_until([&] { return health_from("127.0.0.3", port).rfind("HTTP/1.1 503", 0) == 0; },
                     10s));
  CHECK(health_from("127.0.0.3", port).find("the server has too many connections") !=
        std::string::npos);
  // They close: everyone is served again.
  close_held();
  REQUIRE(wait_until([&] { return health_from("127.0.0.1", port).rfind("HTTP/1.1 200", 0) == 0; },
                     10s));

  // A WebSocket holds its place while it is open: four public feeds from one address, and the
  // fifth upgrade is refused.
  for (int i = 0; i < 4; ++i) {
    held.push_back(connect_from("127.0.0.1", port));
    REQUIRE(held.back() >= 0);
    REQUIRE(exchange(held.back(), kPublicFeed).rfind("HTTP/1.1 101", 0) == 0);
  }
  int fifth = connect_from("127.0.0.1", port);
  auto upgrade = exchange(fifth, kPublicFeed);
  ::close(fifth);
  CHECK(upgrade.rfind("HTTP/1.1 503", 0) == 0);
  CHECK(upgrade.find("Retry-After: 5") != std::string::npos);
  close_held();
  REQUIRE(wait_until([&] { return health_from("127.0.0.1", port).rfind("HTTP/1.1 200", 0) == 0; },
                     10s));
  CHECK(server.process().running());
  CHECK(server.log().find("http: refused") != std::string::npos);
}
