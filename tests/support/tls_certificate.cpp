#include "tests/support/tls_certificate.hpp"

#include <stdexcept>

namespace tocsin::test {

void make_tls_certificate(const std::filesystem::path& cert, const std::filesystem::path& key) {
  auto r = run_command(
      {"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
       "-keyout", key.string(), "-out", cert.string(), "-days", "2", "-subj", "/CN=localhost",
       "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"},
      std::chrono::seconds(30));
  if (r.exit_code != 0) throw std::runtime_error("openssl req failed: " + r.output);
}

ServerOptions over_tls(const std::filesystem::path& cert, const std::filesystem::path& key,
                       ServerOptions options) {
  options.http_yaml +=
      "  tls: {certificate: " + cert.string() + ", private_key: " + key.string() + "}\n";
  options.ready = [cert](const TocsinServer& s) {
    return run_command(
               {"/usr/bin/python3", TOCSIN_SOURCE_DIR "/tests/support/tls_client.py", "health",
                "--port", std::to_string(s.http_port()), "--cafile", cert.string()},
               std::chrono::seconds(10))
               .exit_code == 0;
  };
  return options;
}

}  // namespace tocsin::test
