#include "tests/support/fake_provider.hpp"

#include <fstream>
#include <stdexcept>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/support/json_lines.hpp"
#include "tests/support/tocsin_server.hpp"
#include "tests/support/wait.hpp"

namespace tocsin::test {

namespace {

bool accepts(std::uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(fd);
  return ok;
}

}  // namespace

void make_certificate(const std::filesystem::path& d) {
  std::string cmd =
      "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 "
      "-addext subjectAltName=IP:127.0.0.1 -keyout " +
      (d / "key.pem").string() + " -out " + (d / "cert.pem").string() + " > " +
      (d / "openssl.log").string() + " 2>&1";
  if (std::system(cmd.c_str()) != 0)
    throw std::runtime_error("openssl could not make a certificate");
}

bool wait_for_port(std::uint16_t port, std::chrono::milliseconds timeout) {
  return wait_until([&] { return accepts(port); }, timeout);
}

FakeProvider::FakeProvider(const std::map<std::string, std::vector<std::string>>& script, bool tls)
    : port_(free_tcp_port()), tls_(tls) {
  auto d = dir_.path();
  std::vector<std::string> argv{"/usr/bin/python3",
                                TOCSIN_SOURCE_DIR "/tests/support/fake_http_provider.py",
                                "--port",
                                std::to_string(port_),
                                "--log",
                                (d / "requests.jsonl").string()};
  if (tls) {
    make_certificate(d);
    argv.insert(argv.end(),
                {"--cert", (d / "cert.pem").string(), "--key", (d / "key.pem").string()});
  }
  boost::json::object s;
  for (const auto& [to, answers] : script) {
    boost::json::array a;
    for (const auto& x : answers) a.emplace_back(x);
    s[to] = std::move(a);
  }
  std::ofstream(d / "script.json") << boost::json::serialize(s);
  argv.insert(argv.end(), {"--script", (d / "script.json").string()});
  process_ = Process(argv, (d / "provider.log").string());
  if (!wait_for_port(port_, std::chrono::seconds(10)))
    throw std::runtime_error("the fake provider did not start");
}

FakeProvider::~FakeProvider() {
  process_.kill_and_wait();
}

std::string FakeProvider::sms_yaml(const std::string& more) const {
  return "  sms:\n    provider: twilio\n    api_base: " + base_url() +
         "\n    account_sid: " + sid() +
         "\n    auth_token_env: TEST_SMS_TOKEN\n    from: \"+15145550000\"\n    ca_file: " +
         ca_file() + more + "\n";
}

std::string FakeProvider::base_url() const {
  return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_);
}

std::string FakeProvider::ca_file() const {
  return (dir_.path() / "cert.pem").string();
}

std::vector<boost::json::object> FakeProvider::requests() const {
  return read_json_lines(dir_.path() / "requests.jsonl");
}

}  // namespace tocsin::test
