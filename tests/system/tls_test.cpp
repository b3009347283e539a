// The HTTP server over TLS (http.tls), against a real TLS client (Python's ssl and websockets):
// HTTPS and WSS with the configured certificate, verified against it; the session cookie marked
// Secure; plain HTTP on that port told to use https://; a key that does not match refused at start.

#include <catch2/catch.hpp>

#include <csignal>
#include <filesystem>
#include <fstream>

#include <boost/json.hpp>

#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/tls_certificate.hpp"
#include "tests/support/tocsin_server.hpp"
#include "tests/support/wait.hpp"

using namespace tocsin::test;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {
const std::string kClient = TOCSIN_SOURCE_DIR "/tests/support/tls_client.py";
}  // namespace

TEST_CASE("over TLS: HTTPS and WSS with the configured certificate, and a Secure session cookie",
          "[tls]") {
  TempDir certs;
  auto cert = certs.path() / "cert.pem", key = certs.path() / "key.pem";
  make_tls_certificate(cert, key);
  TocsinServer server(over_tls(cert, key));
  server.add_user("mgagnon", "operator", "a long passphrase");
  server.start();

  auto r = run_command(
      {"/usr/bin/python3", kClient, "check", "--port", std::to_string(server.http_port()),
       "--cafile", cert.string(), "--user", "mgagnon", "--password", "a long passphrase"},
      60s);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  auto o = json::parse(r.output.substr(r.output.rfind('{'))).as_object();
  CHECK(o.at("health") == 200);
  CHECK((o.at("tls_version") == "TLSv1.3" || o.at("tls_version") == "TLSv1.2"));
  CHECK(o.at("hsts") == "max-age=31536000");
  CHECK(o.at("untrusted") == "refused");  // it is this certificate that the client verified
  CHECK(o.at("plain_status") == 400);
  CHECK(o.at("plain_error") == "https_required");
  CHECK(o.at("login") == 200);
  auto attributes = o.at("cookie_attributes").as_array();
  for (const char* a : {"HttpOnly", "SameSite", "Secure"})
    CHECK(std::find(attributes.begin(), attributes.end(), json::value(a)) != attributes.end());
  CHECK(o.at("console_first") == "snapshot");  // the console's live feed, over wss://
}

TEST_CASE("a TLS key that does not match its certificate stops the server at start", "[tls]") {
  TempDir certs;
  auto cert = certs.path() / "cert.pem", key = certs.path() / "key.pem";
  auto other_cert = certs.path() / "other-cert.pem", other_key = certs.path() / "other-key.pem";
  make_tls_certificate(cert, key);
  make_tls_certificate(other_cert, other_key);
  TocsinServer server(over_tls(cert, other_key));
  auto r = run_command({TOCSIN_BINARY, "serve", "--config", server.config_file()}, 30s);
  INFO(r.output);
  CHECK(r.exit_code != 0);
  CHECK(r.output.find("http.tls.private_key") != std::string::npos);
  CHECK(r.output.find("mismatch") != std::string::npos);
  CHECK(r.output.find("PRIVATE KEY") == std::string::npos);  // never the key itself
}

TEST_CASE("a renewed certificate is served after SIGHUP, and a broken one leaves the running one",
          "[tls]") {
  TempDir certs;
  auto cert = certs.path() / "cert.pem", key = certs.path() / "key.pem";
  auto old_cert = certs.path() / "old-cert.pem";
  make_tls_certificate(cert, key);
  std::filesystem::copy_file(cert, old_cert);
  TocsinServer server(over_tls(cert, key));
  server.start();
  auto verified_by = [&](const std::filesystem::path& ca) {
    return run_command({"/usr/bin/python3", kClient, "health", "--port",
                        std::to_string(server.http_port()), "--cafile", ca.string()},
                       30s)
               .exit_code == 0;
  };
  REQUIRE(verified_by(old_cert));
  // A resident's page holds the public feed open over wss:// across the renewal.
  const auto go_on = certs.path() / "go-on", feed_log = certs.path() / "feed.log";
  Process feed({"/usr/bin/python3", "-c",
                "import asyncio, os, ssl, sys, websockets\n"
                "async def main():\n"
                "    ctx = ssl.create_default_context(cafile=sys.argv[2])\n"
                "    async with websockets.connect('wss://127.0.0.1:' + sys.argv[1] + "
                "'/ws/public', ssl=ctx) as ws:\n"
                "        print('connected', flush=True)\n"
                "        while not os.path.exists(sys.argv[3]): await asyncio.sleep(0.05)\n"
                "        await asyncio.wait_for(await ws.ping(), 5)\n"
                "        print('still open', flush=True)\n"
                "asyncio.run(main())\n",
                std::to_string(server.http_port()), old_cert.string(), go_on.string()},
               feed_log.string());
  REQUIRE(
      wait_until([&] { return read_file(feed_log).find("connected") != std::string::npos; }, 20s));
  // The certificate is renewed in place (as certbot does), and the server told.
  make_tls_certificate(cert, key);
  server.process().signal(SIGHUP);
  REQUIRE(wait_until([&] { return verified_by(cert); }, 20s));
  CHECK_FALSE(verified_by(old_cert));  // new connections get the new certificate only
  CHECK(server.log().find("http: TLS certificate reloaded") != std::string::npos);
  // The feed opened before it is still there: it answers a ping.
  std::ofstream(go_on) << "go";
  CHECK(
      wait_until([&] { return read_file(feed_log).find("still open") != std::string::npos; }, 20s));
  INFO(read_file(feed_log));
  CHECK(feed.wait(10s) == 0);

  // A key that does not match: the reload is refused, said, and the running certificate stays.
  auto other_cert = certs.path() / "other-cert.pem", other_key = certs.path() / "other-key.pem";
  make_tls_certificate(other_cert, other_key);
  std::filesystem::copy_file(other_key, key, std::filesystem::copy_options::overwrite_existing);
  server.process().signal(SIGHUP);
  REQUIRE(wait_until(
      [&] { return server.log().find("the running certificate stays") != std::string::npos; },
      20s));
  CHECK(verified_by(cert));
  CHECK(server.process().running());
}
