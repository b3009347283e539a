#pragma once
// A real SMTP server (aiosmtpd, tests/support/smtp_recorder.py) recording what it accepts.

#include <cstdint>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace tocsin::test {

class SmtpServer {
 public:
  // starttls: offer STARTTLS with a certificate of its own; require: refuse mail without it.
  explicit SmtpServer(bool starttls = false, bool require_starttls = false);
  ~SmtpServer();

  std::string url() const { return "smtp://127.0.0.1:" + std::to_string(port_); }
  std::string ca_file() const;
  // The messages accepted so far: mail_from, rcpt_tos, tls, headers, parts (by content type).
  std::vector<boost::json::object> messages() const;

 private:
  TempDir dir_;
  std::uint16_t port_;
  Process process_;
};

}  // namespace tocsin::test
