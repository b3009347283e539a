#pragma once
// A child process for tests: started with argv, output to a log file, signalled, awaited.

#include <sys/types.h>
#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tocsin::test {

class Process {
 public:
  Process() = default;
  Process(std::vector<std::string> argv, const std::string& log_file,
          const std::vector<std::pair<std::string, std::string>>& env = {});
  ~Process();
  Process(Process&& other) noexcept;
  Process& operator=(Process&& other) noexcept;

  pid_t pid() const { return pid_; }
  bool running();
  void signal(int sig);
  // The exit code (or 128 + signal) once it exits within `timeout`; nullopt if still running.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  void kill_and_wait();  // SIGKILL, reaped

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
};

// Runs a command to completion; returns its exit code and what it printed (stdout + stderr).
struct Completed {
  int exit_code;
  std::string output;
};
Completed run_command(std::vector<std::string> argv, std::chrono::milliseconds timeout);
Completed run_command_env(std::vector<std::string> argv,
                          std::vector<std::pair<std::string, std::string>> env,
                          std::chrono::milliseconds timeout);

}  // namespace tocsin::test
