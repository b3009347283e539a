#include <catch2/catch.hpp>

#include <fstream>

#include <sstream>

#include "tests/support/process.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/tocsin_server.hpp"
#include "tests/support/wait.hpp"

#include <boost/json.hpp>

namespace json = boost::json;

using namespace tocsin::test;
using namespace std::chrono_literals;

TEST_CASE("tocsin check-config validates and exits 0 or 1", "[cli]") {
  TocsinServer server;  // only for its generated configuration
  auto ok = run_command({TOCSIN_BINARY, "check-config", server.config_file()}, 10s);
  CHECK(ok.exit_code == 0);
  CHECK(ok.output.find(": ok") != std::string::npos);

  std::ofstream(server.config_file(), std::ios::app) << "htpp:\n  bind: x\n";
  auto bad = run_command({TOCSIN_BINARY, "check-config", server.config_file()}, 10s);
  CHECK(bad.exit_code == 1);
  CHECK(bad.output.find(server.config_file() + ":") != std::string::npos);
  CHECK(bad.output.find("unknown key 'htpp'") != std::string::npos);

  // The server refuses to start on the same file.
  auto serve = run_command({TOCSIN_BINARY, "serve", "--config", server.config_file()}, 10s);
  CHECK(serve.exit_code == 1);
  CHECK(serve.output.find("refusing to start") != std::string::npos);
}

TEST_CASE("check-config refuses what serve would: a playbook set not there, a key given twice",
          "[cli]") {
  // Every channel to an outbox (the tests' own config): ok, and said.
  TocsinServer outboxes;
  auto ok = run_command({TOCSIN_BINARY, "check-config", outboxes.config_file()}, 10s);
  CHECK(ok.exit_code == 0);
  CHECK(ok.output.find("warning: channels.sms: provider outbox: its messages are written to a "
                       "file, not sent to anyone") != std::string::npos);
  CHECK(ok.output.find(": ok") != std::string::npos);

  // The playbooks' directory is not there: check-config says so (it said ok), as serve does.
  TempDir empty;
  ServerOptions options;
  options.playbooks_dir = (empty.path() / "nowhere").string();
  TocsinServer server(options);
  auto missing = run_command({TOCSIN_BINARY, "check-config", server.config_file()}, 10s);
  CHECK(missing.exit_code == 1);
  CHECK(missing.output.find((empty.path() / "nowhere").string()) != std::string::npos);
  CHECK(missing.output.find(": ok") == std::string::npos);
  auto serve = run_command({TOCSIN_BINARY, "serve", "--config", server.config_file()}, 10s);
  CHECK(serve.exit_code == 1);
  CHECK(serve.output.find("refusing to start") != std::string::npos);

  // A key given twice (yaml-cpp keeps the first, silently), and a misspelt one.
  std::ofstream(outboxes.config_file(), std::ios::app)
      << "node:\n  id: again\nlgo:\n  level: info\n";
  auto twice = run_command({TOCSIN_BINARY, "check-config", outboxes.config_file()}, 10s);
  CHECK(twice.exit_code == 1);
  CHECK(twice.output.find("node: given twice (first at line 1)") != std::string::npos);
  CHECK(twice.output.find("unknown key 'lgo'") != std::string::npos);
  CHECK(twice.output.find("did you mean 'log'?") != std::string::npos);
}

TEST_CASE("tocsin send sends one incident over ZeroMQ and prints the reply", "[cli]") {
  RedisServer redis;
  TocsinServer server(redis.url());
  server.start();
  auto ok = run_command(
      {TOCSIN_BINARY, "send", "--endpoint", server.zmq_endpoint(), "--source", "gauge-7", "--type",
       "flood.water_level", "--severity", "severe", "--zone", "riverside", "--attr", "level_m=4.2",
       "--attr", "rising=true", "--headline", "Crue de la rivière"},
      20s);
  CHECK(ok.exit_code == 0);
  REQUIRE(ok.output.rfind("ok ", 0) == 0);
  CHECK(ok.output.find(" created") != std::string::npos);
  std::string id = ok.output.substr(3, 26);
  CHECK(query_strings(server.database(),
                      "SELECT attributes FROM incidents WHERE id = '" + id + "'") ==
        std::set<std::string>{R"({"level_m":4.2,"rising":true})"});

  auto bad = run_command({TOCSIN_BINARY, "send", "--endpoint", server.zmq_endpoint(), "--type",
                          "flood.water_level", "--severity", "apocalyptic"},
                         20s);
  CHECK(bad.exit_code == 1);
  CHECK(bad.output.find("error invalid_value severity:") != std::string::npos);
}

TEST_CASE("the Python example in docs/protocol.md works against a real broker", "[cli]") {
  RedisServer redis;
  TocsinServer server(redis.url());
  server.start();
  auto r = run_command({"/usr/bin/python3", TOCSIN_SOURCE_DIR "/docs/examples/send_incident.py",
                        server.zmq_endpoint()},
                       30s);
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK(r.output.find("ok ") != std::string::npos);
  CHECK(r.output.find("error invalid_value severity:") != std::string::npos);
  CHECK(query_integer(server.database(), "SELECT count(*) FROM incidents") == 1);
}

TEST_CASE("tocsin playbook check validates the shipped set, and lists every error of a bad one",
          "[cli][playbooks]") {
  auto cwd = std::filesystem::current_path();
  std::filesystem::current_path(TOCSIN_SOURCE_DIR);  // the shipped config names relative paths
  auto ok = run_command({TOCSIN_BINARY, "playbook", "check"}, 20s);
  CHECK(ok.exit_code == 0);
  CHECK(ok.output.find("5 playbooks valid") != std::string::npos);

  TempDir dir;
  std::ofstream(dir.path() / "a.yaml")
      << "id: a\nmatch: { type: x }\nsteps:\n  - wait: { for: 0s }\n  - siren: { zones: [mars], "
         "pattern: wail, duration: 1m }\n";
  auto bad = run_command({TOCSIN_BINARY, "playbook", "check", dir.path().string()}, 20s);
  std::filesystem::current_path(cwd);
  CHECK(bad.exit_code == 1);
  std::string file = (dir.path() / "a.yaml").string();
  CHECK(bad.output.find(file + ":4:18: steps[0].wait.for: 0s is outside 1s to 7d") !=
        std::string::npos);
  CHECK(bad.output.find(file + ":5:22: steps[1].siren.zones: unknown zone 'mars'") !=
        std::string::npos);
}

TEST_CASE("every dry run shown in docs/playbooks.md prints exactly what the page says",
          "[cli][playbooks]") {
  std::ifstream in(TOCSIN_SOURCE_DIR "/docs/playbooks.md");
  std::vector<std::pair<std::string, std::string>> examples;  // command, expected output
  std::string line;
  bool in_block = false;
  for (std::string block; std::getline(in, line);) {
    if (line.rfind("```", 0) == 0) {
      if (in_block && block.rfind("$ tocsin playbook test", 0) == 0) {
        auto eol = block.find('\n');
        examples.emplace_back(block.substr(2, eol - 2), block.substr(eol + 1));
      }
      in_block = !in_block;
      block.clear();
    } else if (in_block) {
      block += line + "\n";
    }
  }
  REQUIRE(examples.size() >= 5);
  auto cwd = std::filesystem::current_path();
  std::filesystem::current_path(TOCSIN_SOURCE_DIR);
  for (const auto& [command, expected] : examples) {
    INFO(command);
    std::vector<std::string> argv{TOCSIN_BINARY};
    std::istringstream words(command.substr(std::string("tocsin ").size()));
    for (std::string w; words >> w;) argv.push_back(w);
    auto r = run_command(argv, 20s);
    CHECK(r.exit_code == 0);
    CHECK(r.output == expected);
  }
  std::filesystem::current_path(cwd);
}

TEST_CASE("tocsin template render prints the message and its SMS segments", "[cli][templates]") {
  auto cwd = std::filesystem::current_path();
  std::filesystem::current_path(TOCSIN_SOURCE_DIR);
  auto fr = run_command({TOCSIN_BINARY, "template", "render", "hazmat-shelter", "--lang", "fr",
                         "--incident", "docs/examples/incidents/hazmat.json"},
                        20s);
  auto en = run_command({TOCSIN_BINARY, "template", "render", "flood-staff", "--lang", "en",
                         "--incident", "docs/examples/incidents/flood.json"},
                        20s);
  auto missing = run_command({TOCSIN_BINARY, "template", "render", "nope", "--incident",
                              "docs/examples/incidents/flood.json"},
                             20s);
  std::filesystem::current_path(cwd);
  CHECK(fr.exit_code == 0);
  CHECK(fr.output ==
        "ALERTE: fuite de produit dangereux. Restez à l'intérieur, fermez portes et fenêtres, "
        "arrêtez la ventilation.\n(2 SMS segments, UCS-2, 108 UTF-16 units; UCS-2 because of "
        "'ê')\n");
  CHECK(en.exit_code == 0);
  CHECK(en.output ==
        "Tocsin: flood riverside, level 4.3 m (severe). Acknowledge in the console.\n"
        "(1 SMS segment, GSM-7, 74 septets)\n");
  CHECK(missing.exit_code == 1);
  CHECK(missing.output == "template: no nope.fr.sms.mustache\n");
}

TEST_CASE("tocsin playbook test refuses an SMS longer than max_segments, never cuts it", "[cli]") {
  TempDir dir;
  auto config = dir.path() / "tocsin.yaml";
  std::ofstream(config) << "node: { id: t }\nstorage: { data_dir: "
                        << (dir.path() / "data").string()
                        << " }\ningest: { zmq: { bind: \"tcp://127.0.0.1:1\" } }\n"
                           "http: { bind: \"127.0.0.1:1\" }\nplaybooks:\n  dir: " TOCSIN_SOURCE_DIR
                           "/config/playbooks\n  people: " TOCSIN_SOURCE_DIR
                           "/config/people.yaml\n  zones: " TOCSIN_SOURCE_DIR
                           "/config/zones.geojson\n  templates: " TOCSIN_SOURCE_DIR
                           "/config/templates\n  schedules: " TOCSIN_SOURCE_DIR
                           "/config/schedules.yaml\nchannels:\n"
                           "  sms: { provider: outbox, max_segments: 1 }\n"
                           "  email: { provider: outbox }\n  console: { provider: outbox }\n"
                           "  websocket: { provider: outbox }\n  cap: { provider: outbox }\n";
  auto hazmat = std::string(TOCSIN_SOURCE_DIR) + "/docs/examples/incidents/hazmat.json";
  auto r = run_command(
      {TOCSIN_BINARY, "playbook", "test", "--config", config.string(), "--incident", hazmat}, 20s);
  CHECK(r.exit_code == 1);
  // "fenêtres": ê is not in GSM-7, so the French text is UCS-2, 70 characters a segment.
  CHECK(r.output.find("error: step 3 (hazmat-shelter.fr.sms): 2 SMS segments, over max_segments "
                      "1 (UCS-2 because of 'ê'); it would not be sent, never cut") !=
        std::string::npos);
  // With the shipped limit (3) the same dry run passes.
  auto cwd = std::filesystem::current_path();
  std::filesystem::current_path(TOCSIN_SOURCE_DIR);
  auto ok = run_command({TOCSIN_BINARY, "playbook", "test", "--incident", hazmat}, 20s);
  std::filesystem::current_path(cwd);
  CHECK(ok.exit_code == 0);
}

TEST_CASE("an exercise incident through every shipped playbook makes no public alert and no siren",
          "[cli][exercise]") {
  TempDir dir;
  auto cwd = std::filesystem::current_path();
  std::filesystem::current_path(TOCSIN_SOURCE_DIR);
  for (const char* name : {"flood", "hazmat", "earthquake", "boil-water", "severe-weather"}) {
    std::ifstream in(std::string("docs/examples/incidents/") + name + ".json");
    std::string report((std::istreambuf_iterator<char>(in)), {});
    auto brace = report.rfind('}');
    report.insert(brace, R"(, "status": "exercise")");
    auto file = dir.path() / (std::string(name) + ".json");
    std::ofstream(file) << report;
    // Acknowledged and approved: everything a real incident would unlock.
    auto r = run_command({TOCSIN_BINARY, "playbook", "test", "--incident", file.string(),
                          "--ack-after", "1m", "--approve-after", "2m"},
                         20s);
    INFO(name << "\n" << r.output);
    CHECK(r.exit_code == 0);
    CHECK(r.output.find("PUBLIC notify") == std::string::npos);
    CHECK(r.output.find(": siren ") == std::string::npos);
    CHECK(r.output.find("held back: the incident's status is exercise") != std::string::npos);
  }
  std::filesystem::current_path(cwd);
}

namespace {

tocsin::test::Completed user_cli(const TocsinServer& s, std::vector<std::string> args,
                                 const std::string& password = "") {
  std::vector<std::string> argv{TOCSIN_BINARY, "user"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.insert(argv.end(), {"--config", s.config_file()});
  std::vector<std::pair<std::string, std::string>> env;
  if (!password.empty()) {
    argv.insert(argv.end(), {"--password-env", "TOCSIN_TEST_PASSWORD"});
    env.emplace_back("TOCSIN_TEST_PASSWORD", password);
  }
  return run_command_env(argv, env, 30s);
}

}  // namespace

TEST_CASE(
    "accounts: an approver is a person of the directory, and set-role or a new password ends "
    "sessions",
    "[cli]") {
  ServerOptions options;
  options.playbooks_dir = TOCSIN_SOURCE_DIR "/config/playbooks";
  TocsinServer server(options);
  server.start();
  // An approver nobody's directory names could never approve: refused, with what to do.
  auto ghost = user_cli(server, {"add", "ghost", "--role", "approver"}, "a long passphrase one");
  CHECK(ghost.exit_code == 1);
  CHECK(ghost.output.find("'ghost' is not in the staff directory") != std::string::npos);
  CHECK(ghost.output.find("or give --role operator") != std::string::npos);
  const std::string first = "a long passphrase one";
  auto added = user_cli(server, {"add", "swilliams", "--role", "approver"}, first);
  REQUIRE(added.exit_code == 0);
  CHECK(added.output.find("swilliams is ") != std::string::npos);
  Session before = sign_in(server, "swilliams", first);

  // Another role: the session opened before ends; the next one has the new role.
  auto demoted = user_cli(server, {"set-role", "swilliams", "viewer"});
  CHECK(demoted.exit_code == 0);
  CHECK(wait_until(
      [&] { return as_user(server, before, "GET", "/api/v1/session", "")->status == 401; }, 15s));
  Session viewer = sign_in(server, "swilliams", first);
  CHECK(json::parse(as_user(server, viewer, "GET", "/api/v1/session", "")->body).at("role") ==
        "viewer");

  // A new password: the old one no longer signs in, the new one does, the session ends.
  const std::string second = "another long passphrase";
  CHECK(user_cli(server, {"reset-password", "swilliams"}, second).exit_code == 0);
  CHECK(wait_until(
      [&] { return as_user(server, viewer, "GET", "/api/v1/session", "")->status == 401; }, 15s));
  CHECK_THROWS(sign_in(server, "swilliams", first));
  CHECK_NOTHROW(sign_in(server, "swilliams", second));
  CHECK(user_cli(server, {"reset-password", "swilliams"}, "short")
            .output.find("at least 12 characters") != std::string::npos);

  // The list: each account's role and state, no hash; the trail has each change.
  auto list = user_cli(server, {"list"});
  CHECK(list.output.find("swilliams\tviewer\tfr\tenabled") != std::string::npos);
  CHECK(list.output.find("argon2") == std::string::npos);
  CHECK(query_integer(server.database(),
                      "SELECT count(*) FROM audit WHERE action IN "
                      "('user.set_role', 'user.reset_password')") == 2);
}

TEST_CASE("a password typed at the terminal is not echoed, and asked twice", "[cli]") {
  TocsinServer server;
  // A real terminal (a pty) for tocsin user add; the password typed twice.
  const std::string script =
      "import os, pty, select, sys, time\n"
      "pid, fd = pty.fork()\n"
      "if pid == 0:\n"
      "    os.execv(sys.argv[1], sys.argv[1:])\n"
      "out = b''\n"
      "def read_until(word, seconds=20):\n"
      "    global out\n"
      "    end = time.time() + seconds\n"
      "    while word not in out and time.time() < end:\n"
      "        if not select.select([fd], [], [], 1)[0]: continue\n"
      "        try: out += os.read(fd, 1024)\n"
      "        except OSError: break\n"
      "read_until(b'Password')\n"
      "os.write(fd, b'typed secret phrase\\n')\n"
      "read_until(b'Again')\n"
      "os.write(fd, b'typed secret phrase\\n')\n"
      "read_until(b'added')\n"
      "os.waitpid(pid, 0)\n"
      "sys.stdout.write(out.decode(errors='replace'))\n";
  auto r = run_command({"/usr/bin/python3", "-c", script, TOCSIN_BINARY, "user", "add", "typist",
                        "--role", "viewer", "--config", server.config_file()},
                       60s);
  INFO(r.output);
  CHECK(r.output.find("Password") != std::string::npos);
  CHECK(r.output.find("Again") != std::string::npos);
  CHECK(r.output.find("user typist (viewer) added") != std::string::npos);
  CHECK(r.output.find("typed secret phrase") == std::string::npos);
}
