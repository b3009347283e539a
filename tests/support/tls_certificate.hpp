#pragma once
// A throw-away TLS certificate for a test server on 127.0.0.1, and how to know that server is up
// when it speaks HTTPS only.

#include <filesystem>

#include "tests/support/process.hpp"
#include "tests/support/tocsin_server.hpp"

namespace tocsin::test {

// A self-signed certificate for 127.0.0.1 and localhost (P-256), made by the openssl command.
// Throws if openssl fails.
void make_tls_certificate(const std::filesystem::path& cert, const std::filesystem::path& key);

// Options for a server with http.tls on these files; start() waits for /health over verified
// HTTPS (tests/support/tls_client.py).
ServerOptions over_tls(const std::filesystem::path& cert, const std::filesystem::path& key,
                       ServerOptions options = {});

}  // namespace tocsin::test
