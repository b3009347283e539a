#include "tests/support/redis_server.hpp"

#include <csignal>
#include <memory>
#include <stdexcept>

#include <hiredis/hiredis.h>

#include "tests/support/wait.hpp"

namespace tocsin::test {

namespace {
using Context = std::unique_ptr<redisContext, decltype(&redisFree)>;
using Reply = std::unique_ptr<redisReply, decltype(&freeReplyObject)>;

Reply command(redisContext* c, std::vector<std::string> args);

Context connect(const std::string& socket, const std::string& password) {
  timeval tv{1, 0};
  Context c(redisConnectUnixWithTimeout(socket.c_str(), tv), &redisFree);
  if (!c || c->err) return Context(nullptr, &redisFree);
  if (!password.empty()) {
    auto r = command(c.get(), {"AUTH", password});
    if (!r || r->type == REDIS_REPLY_ERROR) return Context(nullptr, &redisFree);
  }
  return c;
}

Reply command(redisContext* c, std::vector<std::string> args) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  return Reply(
      static_cast<redisReply*>(redisCommandArgv(c, int(argv.size()), argv.data(), lens.data())),
      &freeReplyObject);
}
}  // namespace

RedisServer::RedisServer(std::string password)
    : socket_((dir_.path() / "redis.sock").string()), password_(std::move(password)) {
  start();
}

RedisServer::~RedisServer() {
  process_.kill_and_wait();
}

void RedisServer::start() {
  std::error_code ec;
  std::filesystem::remove(socket_, ec);
  std::vector<std::string> argv{
      "redis-server", "--port", "0",     "--unixsocket",      socket_, "--save", "",
      "--appendonly", "no",     "--dir", dir_.path().string()};
  if (!password_.empty()) {
    argv.push_back("--requirepass");
    argv.push_back(password_);
  }
  process_ = Process(argv, (dir_.path() / "redis.log").string());
  if (!wait_until([&] { return ping(); }, std::chrono::seconds(10)))
    throw std::runtime_error("redis-server did not start");
}

void RedisServer::kill() {
  process_.kill_and_wait();
}

bool RedisServer::ping() {
  auto c = connect(socket_, password_);
  if (!c) return false;
  auto r = command(c.get(), {"PING"});
  return r && r->type == REDIS_REPLY_STATUS;
}

std::set<std::string> RedisServer::zrange(const std::string& key) {
  auto c = connect(socket_, password_);
  if (!c) throw std::runtime_error("redis: cannot connect");
  auto r = command(c.get(), {"ZRANGE", key, "0", "-1"});
  std::set<std::string> out;
  if (r && r->type == REDIS_REPLY_ARRAY)
    for (size_t i = 0; i < r->elements; ++i) out.emplace(r->element[i]->str, r->element[i]->len);
  return out;
}

std::map<std::string, std::string> RedisServer::hgetall(const std::string& key) {
  auto c = connect(socket_, password_);
  if (!c) throw std::runtime_error("redis: cannot connect");
  auto r = command(c.get(), {"HGETALL", key});
  std::map<std::string, std::string> out;
  if (r && r->type == REDIS_REPLY_ARRAY)
    for (size_t i = 0; i + 1 < r->elements; i += 2)
      out.emplace(std::string(r->element[i]->str, r->element[i]->len),
                  std::string(r->element[i + 1]->str, r->element[i + 1]->len));
  return out;
}

}  // namespace tocsin::test
