#include "tests/support/smtp_server.hpp"

#include <fstream>
#include <stdexcept>

#include "tests/support/fake_provider.hpp"
#include "tests/support/json_lines.hpp"
#include "tests/support/tocsin_server.hpp"

namespace tocsin::test {

SmtpServer::SmtpServer(bool starttls, bool require_starttls) : port_(free_tcp_port()) {
  auto d = dir_.path();
  std::vector<std::string> argv{"/usr/bin/python3",
                                TOCSIN_SOURCE_DIR "/tests/support/smtp_recorder.py",
                                "--port",
                                std::to_string(port_),
                                "--log",
                                (d / "messages.jsonl").string()};
  if (starttls) {
    make_certificate(d);
    argv.insert(argv.end(),
                {"--cert", (d / "cert.pem").string(), "--key", (d / "key.pem").string()});
    if (require_starttls) argv.push_back("--require-starttls");
  }
  process_ = Process(argv, (d / "smtp.log").string());
  if (!wait_for_port(port_, std::chrono::seconds(10)))
    throw std::runtime_error("the SMTP server did not start");
}

SmtpServer::~SmtpServer() {
  process_.kill_and_wait();
}

std::string SmtpServer::ca_file() const {
  return (dir_.path() / "cert.pem").string();
}

std::vector<boost::json::object> SmtpServer::messages() const {
  return read_json_lines(dir_.path() / "messages.jsonl");
}

}  // namespace tocsin::test
