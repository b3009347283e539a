#include "broker/live/managed_redis.hpp"

#include <array>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <stdexcept>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

namespace tocsin {

ManagedRedis::ManagedRedis(std::string server_binary, std::filesystem::path dir)
    : binary_(std::move(server_binary)), dir_(std::move(dir)) {}

ManagedRedis::~ManagedRedis() {
  stop();
}

void ManagedRedis::start() {
  std::lock_guard lock(mutex_);
  spawn_locked();
  if (!wait_ready(10000))
    throw std::runtime_error("managed redis-server did not start; see " +
                             (dir_ / "redis.log").string());
}

void ManagedRedis::spawn_locked() {
  // A fresh socket name for each server: one still shutting down (after a crash of ours) would
  // otherwise unlink the path its successor just bound.
  socket_ =
      dir_ / ("redis-" + std::to_string(getpid()) + "-" + std::to_string(++spawns_) + ".sock");
  std::error_code ec;
  std::filesystem::remove(socket_, ec);
  std::vector<std::string> args = {binary_, "--port", "0", "--unixsocket", socket_.string(),
                                   "--unixsocketperm", "700", "--save", "", "--appendonly", "no",
                                   "--dir", dir_.string(), "--logfile",
                                   (dir_ / "redis.log").string(), "--daemonize", "no",
                                   // its environment left where it is (readable in /proc, for
                                   // whoever checks that it holds nothing of ours)
                                   "--set-proc-title", "no"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  // A clean environment: redis-server gets none of ours (the providers' tokens, the CURVE key
  // live in it), only a PATH and a locale. Found on our own PATH.
  std::string path = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  std::string locale = "LANG=C.UTF-8";
  std::array<char*, 3> envp{path.data(), locale.data(), nullptr};
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    // Only async-signal-safe calls from here to exec.
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(1);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    setpgid(0, 0);  // a Ctrl-C in the terminal reaches only us; we stop it after our last write
    execvpe(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  pid_ = pid;
  spdlog::info("live state: started managed redis-server (pid {}) on {}", pid, socket_.string());
}

bool ManagedRedis::wait_ready(int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    int status;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, socket_.c_str(), sizeof addr.sun_path - 1);
    bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    close(fd);
    if (ok) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

bool ManagedRedis::ensure_running() {
  std::lock_guard lock(mutex_);
  if (pid_ > 0) {
    int status;
    if (waitpid(pid_, &status, WNOHANG) == 0) return true;
    spdlog::warn("live state: managed redis-server (pid {}) exited; restarting it", pid_);
    pid_ = -1;
  }
  try {
    spawn_locked();
  } catch (const std::exception& e) {
    spdlog::error("live state: cannot restart redis-server: {}", e.what());
    return false;
  }
  return wait_ready(5000);
}

void ManagedRedis::stop() {
  std::lock_guard lock(mutex_);
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  int status;
  for (int i = 0; i < 500; ++i) {
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }
  std::error_code ec;
  std::filesystem::remove(socket_, ec);
  spdlog::info("live state: managed redis-server stopped");
}

}  // namespace tocsin
