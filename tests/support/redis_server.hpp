#pragma once
// A real redis-server for tests, on a unix socket in its own temporary directory.

#include <map>
#include <set>
#include <string>
#include <vector>

#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace tocsin::test {

class RedisServer {
 public:
  // Starts it and waits until it answers PING. With a password, clients must AUTH.
  explicit RedisServer(std::string password = "");
  ~RedisServer();

  std::string url() const { return "unix://" + socket_; }
  const std::string& socket_path() const { return socket_; }

  void start();
  void kill();  // SIGKILL, as a crash would
  bool ping();

  // Reads for assertions. Each opens its own connection.
  std::set<std::string> zrange(const std::string& key);
  std::map<std::string, std::string> hgetall(const std::string& key);

 private:
  TempDir dir_;
  std::string socket_;
  std::string password_;
  Process process_;
};

}  // namespace tocsin::test
