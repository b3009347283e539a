// The sensor bus authenticated with CurveZMQ (ingest.zmq.curve), against real ZeroMQ clients
// (`tocsin send` with and without keys): a listed sensor's report is stored; the same sensor
// reporting as a source it does not own is refused, naming the field; an unknown key and a client
// without CURVE cannot even complete the handshake, and each is told why; no secret is logged.

#include <catch2/catch.hpp>

#include <csignal>
#include <filesystem>
#include <fstream>

#include <fstream>

#include <boost/json.hpp>

#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/tocsin_server.hpp"
#include "tests/support/wait.hpp"

using namespace tocsin::test;
using namespace std::chrono_literals;

namespace {

struct KeyPair {
  std::string public_key, secret_key;
};

KeyPair keygen() {
  auto r = run_command({TOCSIN_BINARY, "keygen"}, 10s);
  REQUIRE(r.exit_code == 0);
  auto field = [&](const std::string& name) {
    auto at = r.output.find(name + ": ");
    REQUIRE(at != std::string::npos);
    return r.output.substr(at + name.size() + 2, 40);
  };
  return {field("public"), field("secret")};
}

Completed send_as(const TocsinServer& server, const std::string& server_key,
                  const std::string& secret, const std::string& source) {
  std::vector<std::string> argv{TOCSIN_BINARY,  "send",  "--endpoint", server.zmq_endpoint(),
                                "--source",     source,  "--type",     "flood.water_level",
                                "--severity",   "minor", "--zone",     "riverside",
                                "--timeout-ms", "10000"};
  if (!server_key.empty())
    argv.insert(argv.end(), {"--server-key", server_key, "--secret-key-env", "SENSOR_SECRET"});
  return run_command_env(argv, {{"SENSOR_SECRET", secret}}, 20s);
}

// An action on an incident ([request-id][verb][json], by "mgagnon") from a sensor with CURVE, as
// pyzmq sends it; its reply's frames, joined by spaces.
Completed act_as(const TocsinServer& server, const std::string& server_key,
                 const std::string& secret, const std::string& incident, const std::string& verb) {
  const char* script = R"(import os, sys, zmq
s = zmq.Context().socket(zmq.DEALER)
s.curve_serverkey = os.environ["BROKER_KEY"].encode()
s.curve_secretkey = os.environ["SENSOR_SECRET"].encode()
s.curve_publickey = zmq.curve_public(os.environ["SENSOR_SECRET"].encode())
s.connect(sys.argv[1])
s.send_multipart([b"r1", sys.argv[3].encode(), b'{"incident": "' + sys.argv[2].encode() + b'", "by": "mgagnon"}'])
if not s.poll(10000):
    sys.exit("no reply")
print(b" ".join(s.recv_multipart()).decode())
)";
  return run_command_env({"/usr/bin/python3", "-c", script, server.zmq_endpoint(), incident, verb},
                         {{"BROKER_KEY", server_key}, {"SENSOR_SECRET", secret}}, 20s);
}

// A server with CurveZMQ on: the broker's secret key in TEST_ZMQ_SECRET, these sensors' keys.
ServerOptions curve_options(const std::filesystem::path& sensors, const KeyPair& broker) {
  ServerOptions options;
  options.ingest_yaml =
      "    curve: { secret_key_env: TEST_ZMQ_SECRET, sensors: " + sensors.string() + " }\n";
  options.env = {{"TEST_ZMQ_SECRET", broker.secret_key}};
  return options;
}

}  // namespace

TEST_CASE("the sensor bus with CurveZMQ: listed keys only, each sensor its own sources",
          "[ingest][curve]") {
  KeyPair broker = keygen(), gauges = keygen(), stranger = keygen();
  TempDir dir;
  auto sensors = dir.path() / "sensors.yaml";
  std::ofstream(sensors) << "sensors:\n  - { name: riverside-gauges, public_key: \""
                         << gauges.public_key << "\", sources: [\"gauge-rdp-*\"] }\n";
  TocsinServer server(curve_options(sensors, broker));
  server.start();

  auto ok = send_as(server, broker.public_key, gauges.secret_key, "gauge-rdp-17");
  INFO(ok.output);
  CHECK(ok.exit_code == 0);
  CHECK(ok.output.starts_with("ok "));
  CHECK(query_integer(server.database(),
                      "SELECT count(*) FROM incidents WHERE source = 'gauge-rdp-17'") == 1);

  // A gauge may report, not acknowledge (its entry has no `actions: true`).
  std::string incident = ok.output.substr(3, 26);
  auto acted = act_as(server, broker.public_key, gauges.secret_key, incident, "ack");
  INFO(acted.output);
  CHECK(acted.exit_code == 0);
  CHECK(acted.output.find("r1 error forbidden sensor 'riverside-gauges' may not ack") !=
        std::string::npos);

  auto other_source = send_as(server, broker.public_key, gauges.secret_key, "seismo-mtl-1");
  INFO(other_source.output);
  CHECK(other_source.exit_code == 1);
  CHECK(other_source.output.find(
            "forbidden source: sensor 'riverside-gauges' may not report as 'seismo-mtl-1'") !=
        std::string::npos);

  auto unknown = send_as(server, broker.public_key, stranger.secret_key, "gauge-rdp-17");
  INFO(unknown.output);
  CHECK(unknown.exit_code == 1);
  CHECK(unknown.output.find("refused: the broker does not know this sensor's key") !=
        std::string::npos);
  CHECK(server.log().find(stranger.public_key + " is not in the sensors file") !=
        std::string::npos);

  auto plain = send_as(server, "", "", "gauge-rdp-17");
  INFO(plain.output);
  CHECK(plain.exit_code == 1);
  CHECK(plain.output.find("the handshake with the broker failed") != std::string::npos);

  CHECK(query_integer(server.database(), "SELECT count(*) FROM incidents") == 1);
  for (const auto& secret : {broker.secret_key, gauges.secret_key, stranger.secret_key})
    CHECK(server.log().find(secret) == std::string::npos);
}

TEST_CASE("a sensor acts only on its own sources' incidents, and the trail names it",
          "[ingest][curve][abuse]") {
  KeyPair broker = keygen(), bridge = keygen();
  TempDir dir;
  auto sensors = dir.path() / "sensors.yaml";
  std::ofstream(sensors) << "sensors:\n  - { name: river-bridge, public_key: \""
                         << bridge.public_key
                         << "\", sources: [\"gauge-rdp-*\"], actions: true }\n";
  TocsinServer server(curve_options(sensors, broker));
  server.start();
  auto own = send_as(server, broker.public_key, bridge.secret_key, "gauge-rdp-17");
  REQUIRE(own.exit_code == 0);
  std::string gauge = own.output.substr(3, 26);
  // A chlorine leak another system reported (over HTTP): not the bridge's to end.
  auto leak =
      server.post("/api/v1/incidents",
                  R"({"source":"chem-panel-3","type":"chem.chlorine","severity":"extreme"})");
  REQUIRE(leak->status == 201);
  std::string chlorine(boost::json::parse(leak->body).at("id").as_string());

  auto as_bridge = [&](const std::string& incident, const char* verb) {
    return act_as(server, broker.public_key, bridge.secret_key, incident, verb);
  };
  auto refused = as_bridge(chlorine, "cancel");
  INFO(refused.output);
  CHECK(refused.output.find("r1 error forbidden incident: " + chlorine +
                            " is chem-panel-3's; sensor:river-bridge acts only on its own "
                            "sources' incidents") != std::string::npos);
  CHECK(
      *query_strings(server.database(), "SELECT state FROM incidents WHERE id = '" + chlorine + "'")
           .begin() == "active");
  auto acked = as_bridge(gauge, "ack");
  INFO(acked.output);
  CHECK(acked.output.find("r1 ok " + gauge + " acknowledged") != std::string::npos);
  CHECK(query_integer(server.database(),
                      "SELECT count(*) FROM audit WHERE action = 'incident.ack' AND actor = "
                      "'sensor:river-bridge' AND json_extract(detail, '$.for') = 'mgagnon'") == 1);
}

TEST_CASE("a bad sensors file or a missing key stops the broker with the reason", "[curve]") {
  KeyPair broker = keygen();
  TempDir dir;
  auto sensors = dir.path() / "sensors.yaml";
  std::ofstream(sensors) << "sensors:\n  - { name: gauges, public_key: \"not-a-key\", sources: "
                            "[\"gauge-*\"] }\n";
  ServerOptions options;
  options.ingest_yaml =
      "    curve: { secret_key_env: TEST_ZMQ_SECRET, sensors: " + sensors.string() + " }\n";
  TocsinServer server(options);
  // The variable is not set: the configuration is refused, naming it.
  auto check = run_command({TOCSIN_BINARY, "check-config", server.config_file()}, 10s);
  CHECK(check.exit_code != 0);
  CHECK(check.output.find("ingest.zmq.curve.secret_key_env: environment variable "
                          "TEST_ZMQ_SECRET is not set") != std::string::npos);
  // Set, with a sensors file whose key is not one: the broker does not start, and says where.
  auto serve = run_command_env({TOCSIN_BINARY, "serve", "--config", server.config_file()},
                               {{"TEST_ZMQ_SECRET", broker.secret_key}}, 30s);
  INFO(serve.output);
  CHECK(serve.exit_code != 0);
  CHECK(serve.output.find(sensors.string() + ":2:") != std::string::npos);
  CHECK(serve.output.find("sensors[0].public_key: not a CURVE public key") != std::string::npos);
  CHECK(serve.output.find(broker.secret_key) == std::string::npos);
}

TEST_CASE("the sensors file reloads on SIGHUP: a key put in connects, a key taken out no more",
          "[ingest][curve]") {
  KeyPair broker = keygen(), gauges = keygen(), newcomer = keygen();
  TempDir dir;
  auto sensors = dir.path() / "sensors.yaml";
  auto listed = [&](std::initializer_list<std::pair<const char*, const KeyPair*>> who) {
    std::ofstream out(sensors);
    out << "sensors:\n";
    for (const auto& [name, keys] : who)
      out << "  - { name: " << name << ", public_key: \"" << keys->public_key
          << "\", sources: [\"gauge-*\"] }\n";
  };
  listed({{"riverside-gauges", &gauges}});
  TocsinServer server(curve_options(sensors, broker));
  server.start();
  CHECK(send_as(server, broker.public_key, gauges.secret_key, "gauge-1").exit_code == 0);
  CHECK(send_as(server, broker.public_key, newcomer.secret_key, "gauge-2").exit_code != 0);

  // The newcomer is put in, the old gauges taken out; the server told.
  listed({{"new-gauges", &newcomer}});
  server.process().signal(SIGHUP);
  REQUIRE(wait_until(
      [&] { return server.log().find("1 sensors' keys reloaded") != std::string::npos; }, 20s));
  CHECK(send_as(server, broker.public_key, newcomer.secret_key, "gauge-2").exit_code == 0);
  CHECK(send_as(server, broker.public_key, gauges.secret_key, "gauge-3").exit_code != 0);

  // A broken file: the running keys stay.
  std::ofstream(sensors) << "sensors: [ { name: x } ]\n";
  server.process().signal(SIGHUP);
  REQUIRE(wait_until(
      [&] { return server.log().find("the running keys stay") != std::string::npos; }, 20s));
  CHECK(send_as(server, broker.public_key, newcomer.secret_key, "gauge-4").exit_code == 0);
}
