// The server under a service manager: what systemd's Type=notify and WatchdogSec= see, through
// the real notification socket protocol (sd_notify's datagrams to $NOTIFY_SOCKET).

#include <catch2/catch.hpp>

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <string>

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
