#pragma once
// redis.mode: managed — a redis-server child process of our own, on a unix socket in the data
// directory, without persistence (SQLite is the system of record). It dies with us.

#include <sys/types.h>
#include <filesystem>
#include <mutex>
#include <string>

namespace tocsin {

class ManagedRedis {
 public:
  ManagedRedis(std::string server_binary, std::filesystem::path dir);
  ~ManagedRedis();
  ManagedRedis(const ManagedRedis&) = delete;
  ManagedRedis& operator=(const ManagedRedis&) = delete;

  // Starts the server and waits until its socket accepts connections (throws on failure).
  void start();
  // Restarts the server if it exited. Thread-safe. Returns true if it is running.
  bool ensure_running();
  void stop();

  // Changes when the server is restarted.
  std::filesystem::path socket_path() const {
    std::lock_guard lock(mutex_);
    return socket_;
  }

 private:
  void spawn_locked();
  bool wait_ready(int timeout_ms);

  std::string binary_;
  std::filesystem::path dir_;
  std::filesystem::path socket_;
  mutable std::mutex mutex_;
  pid_t pid_ = -1;
  int spawns_ = 0;
};

}  // namespace tocsin
