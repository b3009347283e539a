#pragma once
// tests/support/fake_http_provider.py as a fixture: an HTTPS server with its own self-signed
// certificate (made with the openssl command) that speaks a Twilio-compatible SMS API and
// receives webhooks, recording every request.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace tocsin::test {

// Writes dir/cert.pem and dir/key.pem: a self-signed certificate for 127.0.0.1 (openssl command).
void make_certificate(const std::filesystem::path& dir);
// Waits until something accepts TCP connections on 127.0.0.1:port.
bool wait_for_port(std::uint16_t port, std::chrono::milliseconds timeout);

class FakeProvider {
 public:
  // script: To number → the answers it gets in order (ok, 400, 429:S, 500, slow:S, ok-undelivered).
  explicit FakeProvider(const std::map<std::string, std::vector<std::string>>& script = {},
                        bool tls = true);
  ~FakeProvider();

  std::string base_url() const;  // https://127.0.0.1:PORT
  std::string ca_file() const;   // its certificate: trust it to verify the server
  std::string token() const { return "secret-token"; }
  std::string sid() const { return "ACtest"; }
  std::vector<boost::json::object> requests() const;  // in arrival order
  // Where they are recorded, one JSON object a line (for a browser script to read).
  std::filesystem::path requests_file() const { return dir_.path() / "requests.jsonl"; }
  // The channels: section's sms: entry for this provider (its token in TEST_SMS_TOKEN), with
  // more keys (each "\n    key: value") at the end.
  std::string sms_yaml(const std::string& more = "") const;

 private:
  TempDir dir_;
  std::uint16_t port_;
  bool tls_;
  Process process_;
};

}  // namespace tocsin::test
