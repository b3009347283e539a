#include "tests/support/tocsin_server.hpp"

#include <csignal>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <unistd.h>
#include <boost/json.hpp>

#include "tests/support/wait.hpp"

#ifndef TOCSIN_BINARY
#error "TOCSIN_BINARY must name the tocsin executable"
#endif

namespace tocsin::test {

std::uint16_t free_tcp_port() {
  // Ask the kernel for a free ephemeral port; the small window before the server binds it is
  // acceptable for tests on one machine.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

TocsinServer::TocsinServer(ServerOptions options)
    : options_(std::move(options)), zmq_port_(free_tcp_port()), http_port_(free_tcp_port()) {
  std::ofstream cfg(config_file());
  cfg << "node:\n  id: test-node\n"
      << "storage:\n  data_dir: " << data_dir() << "\n"
      << options_.storage_yaml << "ingest:\n  zmq:\n    bind: " << zmq_endpoint() << "\n"
      << options_.ingest_yaml << "http:\n  bind: 127.0.0.1:" << http_port_
      << "\n  max_body_bytes: 65536\n"
      << options_.http_yaml;
  if (options_.http_yaml.find("web_dir:") == std::string::npos)
    cfg << "  web_dir: " TOCSIN_SOURCE_DIR "/web\n";
  if (!options_.playbooks_dir.empty())
    cfg << "playbooks:\n  dir: " << options_.playbooks_dir << "\n  people: "
        << (options_.people_file.empty() ? TOCSIN_SOURCE_DIR "/config/people.yaml"
                                         : options_.people_file)
        << "\n  zones: " TOCSIN_SOURCE_DIR "/config/zones.geojson\n  templates: " TOCSIN_SOURCE_DIR
           "/config/templates\n"
        << "  schedules: "
        << (!options_.schedules_file.empty() ? options_.schedules_file
            : options_.people_file.empty()   ? TOCSIN_SOURCE_DIR "/config/schedules.yaml"
                                             : std::string("''"))
        << "\n";
  cfg << "channels:\n"
      << (options_.channels_yaml.empty()
              ? "  sms: {provider: outbox, max_segments: 3, fallback: email}\n"
                "  email: {provider: outbox}\n  console: {provider: outbox}\n"
                "  websocket: {provider: outbox}\n  cap: {provider: outbox}\n"
                "  webhook: {provider: outbox}\n"
              : options_.channels_yaml);
  cfg << options_.extra_yaml;
  if (options_.redis_url.empty())
    cfg << "redis:\n  mode: managed\n";
  else
    cfg << "redis:\n  mode: external\n  url: " << options_.redis_url << "\n";
}

std::vector<std::string> TocsinServer::outbox(const std::string& channel) const {
  std::ifstream in(std::filesystem::path(data_dir()) / "outbox" / (channel + ".jsonl"));
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) lines.push_back(line);
  return lines;
}

TocsinServer::~TocsinServer() {
  process_.kill_and_wait();
}

void TocsinServer::add_user(const std::string& name, const std::string& role,
                            const std::string& password) {
  auto env = options_.env;
  env.emplace_back("TOCSIN_TEST_PASSWORD", password);
  auto r = run_command_env({TOCSIN_BINARY, "user", "add", name, "--role", role, "--config",
                            config_file(), "--password-env", "TOCSIN_TEST_PASSWORD"},
                           env, std::chrono::seconds(20));
  if (r.exit_code != 0) throw std::runtime_error("tocsin user add failed: " + r.output);
}

Session sign_in(const TocsinServer& s, const std::string& user, const std::string& password) {
  namespace json = boost::json;
  auto r = http_request(s.http_port(), "POST", "/api/v1/login",
                        json::serialize(json::object{{"user", user}, {"password", password}}));
  if (!r || r->status != 200 || !r->headers.count("set-cookie"))
    throw std::runtime_error("signing in as " + user + " failed: " + (r ? r->body : "no answer"));
  std::string set_cookie = r->headers.at("set-cookie");
  return {set_cookie.substr(0, set_cookie.find(';')),
          std::string(json::parse(r->body).at("csrf_token").as_string()), r->headers};
}

Session signed_in_person(TocsinServer& s, const std::string& name, const std::string& role) {
  const std::string password = "a long passphrase for " + name;
  s.add_user(name, role, password);
  return sign_in(s, name, password);
}

std::optional<HttpResponse> as_user(const TocsinServer& s, const Session& who,
                                    const std::string& method, const std::string& target,
                                    const std::string& body, bool with_csrf,
                                    const std::string& origin) {
  std::map<std::string, std::string> h{{"Cookie", who.cookie}};
  if (with_csrf) h["X-CSRF-Token"] = who.csrf;
  if (!origin.empty()) h["Origin"] = origin;
  return http_request(s.http_port(), method, target, body, "application/json", h);
}

std::optional<HttpResponse> approve_by_two(const TocsinServer& s, const std::string& approval_id,
                                           const Session& first, const Session& second) {
  const std::string target = "/api/v1/approvals/" + approval_id + "/approve";
  auto one = as_user(s, first, "POST", target, R"({"confirm":"LIVE"})");
  if (!one || one->status != 200 || one->body.find("\"pending\"") == std::string::npos)
    throw std::runtime_error("the first approval of " + approval_id +
                             " did not leave it pending: " + (one ? one->body : "no answer"));
  return as_user(s, second, "POST", target, R"({"confirm":"LIVE"})");
}

std::string TocsinServer::token_for(const std::string& person, const std::string& scopes) const {
  auto made = post("/api/v1/tokens", R"({"name":"for-)" + person + R"(","for":")" + person +
                                         R"(","scopes":)" + scopes + "}");
  if (!made || made->status != 201)
    throw std::runtime_error("a token for " + person +
                             " was refused: " + (made ? made->body : "no answer"));
  return std::string(boost::json::parse(made->body).at("token").as_string());
}

bool release_pending_approvals(TocsinServer& s, std::size_t expected,
                               std::chrono::seconds deadline) {
  const Session first = signed_in_person(s, "swilliams"), second = signed_in_person(s, "plavoie");
  std::set<std::string> released;
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (released.size() < expected) {
    if (std::chrono::steady_clock::now() > until) return false;
    auto listed = s.get("/api/v1/approvals?state=pending");
    if (!listed || listed->status != 200) continue;
    auto approvals = boost::json::parse(listed->body).at("approvals").as_array();
    if (approvals.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    for (const auto& a : approvals) {
      std::string id(a.at("id").as_string());
      auto r = approve_by_two(s, id, first, second);
      if (r && r->status == 200) released.insert(id);
    }
  }
  return true;
}

void TocsinServer::start() {
  if (token_.empty()) {
    auto r = run_command_env(
        {TOCSIN_BINARY, "token", "add", "tests", "--scope", "read,ingest,operate,approve,admin",
         "--sources", "*", "--config", config_file()},
        options_.env, std::chrono::seconds(20));
    std::istringstream lines(r.output);
    for (std::string line; std::getline(lines, line);)
      if (line.size() == 64 && line.find_first_not_of("0123456789abcdef") == std::string::npos)
        token_ = line;
    if (r.exit_code != 0 || token_.empty())
      throw std::runtime_error("tocsin token add failed: " + r.output);
  }
  process_ = Process({TOCSIN_BINARY, "serve", "--config", config_file()},
                     (dir_.path() / "tocsin.log").string(), options_.env);
  bool up = wait_until(
      [&] {
        if (!process_.running()) return true;
        if (options_.ready) return options_.ready(*this);
        auto r = get("/health");
        return r && r->status == 200;
      },
      std::chrono::seconds(20), std::chrono::milliseconds(20));
  if (!up || !process_.running()) throw std::runtime_error("tocsin did not start; log:\n" + log());
}

int TocsinServer::terminate() {
  process_.signal(SIGTERM);
  auto code = process_.wait(std::chrono::seconds(30));
  if (!code) {
    process_.kill_and_wait();
    return -1;
  }
  return *code;
}

void TocsinServer::kill9() {
  process_.kill_and_wait();
}

std::string TocsinServer::log() const {
  std::ifstream in(dir_.path() / "tocsin.log");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string TocsinServer::health(const std::string& component) const {
  auto r = get("/health");
  if (!r || r->status != 200) return "";
  auto v = boost::json::parse(r->body);
  return std::string(v.at("components").at(component).at("status").as_string());
}

bool TocsinServer::settled(std::chrono::milliseconds timeout) const {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto r = get("/health");
    if (!r) return true;  // not running: nothing is in flight
    if (r->status == 200 || r->status == 503) {
      auto v = boost::json::parse(r->body);
      const auto& journal = v.at("components").at("journal");
      if (journal.at("runs_pending").to_number<std::int64_t>() == 0) return true;
    }
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

namespace {
template <class Row>
void query(const std::string& database, const std::string& sql, Row row) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(database.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    throw std::runtime_error("cannot open " + database);
  }
  sqlite3_busy_timeout(db, 5000);
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
    std::string msg = sqlite3_errmsg(db);
    sqlite3_close(db);
    throw std::runtime_error(msg);
  }
  while (sqlite3_step(st) == SQLITE_ROW) row(st);
  sqlite3_finalize(st);
  sqlite3_close(db);
}
}  // namespace

std::set<std::string> query_strings(const std::string& database, const std::string& sql) {
  std::set<std::string> out;
  query(database, sql, [&](sqlite3_stmt* st) {
    out.emplace(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
  });
  return out;
}

long long query_integer(const std::string& database, const std::string& sql) {
  long long v = 0;
  query(database, sql, [&](sqlite3_stmt* st) { v = sqlite3_column_int64(st, 0); });
  return v;
}

}  // namespace tocsin::test
