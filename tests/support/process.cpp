#include "tests/support/process.hpp"

#include <csignal>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/support/temp_dir.hpp"

namespace tocsin::test {

Process::Process(std::vector<std::string> argv, const std::string& log_file,
                 const std::vector<std::pair<std::string, std::string>>& env) {
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  int fd = open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("cannot open " + log_file);
  pid_t parent = getpid();
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);  // a crashed test leaves no server behind
    if (getppid() != parent) _exit(1);
    for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
    dup2(fd, 1);
    dup2(fd, 2);
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, 0);
    execvp(args[0], args.data());
    _exit(127);
  }
  close(fd);
}

Process::~Process() {
  if (pid_ > 0 && !status_) kill_and_wait();
}

Process::Process(Process&& o) noexcept : pid_(o.pid_), status_(o.status_) {
  o.pid_ = -1;
}

Process& Process::operator=(Process&& o) noexcept {
  if (this != &o) {
    if (pid_ > 0 && !status_) kill_and_wait();
    pid_ = o.pid_;
    status_ = o.status_;
    o.pid_ = -1;
  }
  return *this;
}

bool Process::running() {
  return pid_ > 0 && !wait(std::chrono::milliseconds(0));
}

void Process::signal(int sig) {
  if (pid_ > 0 && !status_) ::kill(pid_, sig);
}

std::optional<int> Process::wait(std::chrono::milliseconds timeout) {
  if (status_) return status_;
  if (pid_ <= 0) return std::nullopt;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int st = 0;
    pid_t r = waitpid(pid_, &st, WNOHANG);
    if (r == pid_) {
      status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      return status_;
    }
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

void Process::kill_and_wait() {
  if (pid_ <= 0 || status_) return;
  ::kill(pid_, SIGKILL);
  int st = 0;
  waitpid(pid_, &st, 0);
  status_ = 128 + SIGKILL;
}

Completed run_command(std::vector<std::string> argv, std::chrono::milliseconds timeout) {
  return run_command_env(std::move(argv), {}, timeout);
}

Completed run_command_env(std::vector<std::string> argv,
                          std::vector<std::pair<std::string, std::string>> env,
                          std::chrono::milliseconds timeout) {
  TempDir dir;
  auto log = (dir.path() / "out.log").string();
  Process p(std::move(argv), log, env);
  auto code = p.wait(timeout);
  if (!code) {
    p.kill_and_wait();
    code = -1;
  }
  std::ifstream in(log);
  std::stringstream ss;
  ss << in.rdbuf();
  return {*code, ss.str()};
}

}  // namespace tocsin::test
