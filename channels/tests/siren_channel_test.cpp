// The siren channel against `tocsin siren-sim` and against an independent Modbus server
// (pymodbus) that implements the profiles on its own.

#include <catch2/catch.hpp>

#include <fstream>

#include <modbus/modbus.h>
#include <boost/json.hpp>

#include "channels/siren/siren_channel.hpp"
#include "tests/support/fake_provider.hpp"
#include "tests/support/json_lines.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/tocsin_server.hpp"

using namespace tocsin;
using namespace tocsin::channels;
using namespace std::chrono_literals;
using Outcome = SendResult::Outcome;
namespace t = tocsin::test;

namespace {

// A siren controller process on a free port: the simulator, or pymodbus.
struct Controller {
  t::TempDir dir;
  std::uint16_t port = t::free_tcp_port();
  t::Process process;
  Controller(bool independent, const std::string& profile) {
    std::vector<std::string> argv =
        independent
            ? std::vector<std::string>{"/usr/bin/python3",
                                       TOCSIN_SOURCE_DIR "/tests/support/modbus_controller.py",
                                       "--port",
                                       std::to_string(port),
                                       "--log",
                                       (dir.path() / "writes.jsonl").string(),
                                       "--profile",
                                       profile}
            : std::vector<std::string>{TOCSIN_BINARY, "siren-sim",
                                       "--listen",    "127.0.0.1:" + std::to_string(port),
                                       "--profile",   profile};
    process = t::Process(argv, (dir.path() / "controller.log").string());
    REQUIRE(t::wait_for_port(port, 10s));
  }
  SirenController config(const std::string& profile = "default") const {
    return SirenController{"rdp-1", "127.0.0.1", port, 1, {"riverside"}, profile};
  }
  std::vector<boost::json::object> writes() const {
    return t::read_json_lines(dir.path() / "writes.jsonl");
  }
  void write_register(int address, std::uint16_t value) const {
    modbus_t* ctx = modbus_new_tcp("127.0.0.1", port);
    REQUIRE(modbus_connect(ctx) == 0);
    REQUIRE(modbus_write_register(ctx, address, value) == 1);
    modbus_close(ctx);
    modbus_free(ctx);
  }
};

struct Sound {
  Delivery delivery;
  Alert alert;
  Message message;
  Sound(const std::string& id, const std::string& pattern) {
    delivery.id = id;
    delivery.channel = "siren";
    delivery.recipient = Recipient{"rdp-1", "", "fr"};
    alert.kind = "siren";
    alert.zones = {"riverside"};
    alert.pattern = pattern;
    alert.duration = std::chrono::seconds(180);
  }
  SendRequest request() const { return SendRequest{delivery, alert, message}; }
};

}  // namespace

TEST_CASE("a siren command is confirmed by the simulator, and repeating it changes nothing") {
  Controller sim(false, "default");
  SirenChannel sirens({sim.config()}, 60s, 2s, nullptr);
  Sound wail("01DELIVERYWAIL000000000000", "wail");
  auto r = sirens.send(wail.request());
  INFO(r.detail);
  CHECK(r.outcome == Outcome::delivered);
  auto s = sirens.read_status(sim.config());
  CHECK(s.reachable);
  CHECK(s.sounding == "wail");
  CHECK(s.last_sequence == SirenChannel::sequence_of(wail.delivery.id));
  CHECK(s.battery_percent == 100);

  Sound clear("01DELIVERYCLEAR00000000000", "all-clear");
  CHECK(sirens.send(clear.request()).outcome == Outcome::delivered);
  CHECK(sirens.read_status(sim.config()).sounding == "silent");
  // The wail delivery again (a retry after a crash): the controller has applied it already.
  CHECK(sirens.send(wail.request()).outcome == Outcome::delivered);
  CHECK(sirens.read_status(sim.config()).sounding == "silent");
}

TEST_CASE("siren status: a fault code is reported, an unreachable controller too") {
  Controller sim(false, "default");
  SirenChannel sirens({sim.config()}, 60s, 1s, nullptr);
  CHECK(!sirens.read_status(sim.config()).faulty());
  sim.write_register(13, 7);  // the controller reports fault 7
  sim.write_register(11, 0);  // and runs on battery
  auto s = sirens.read_status(sim.config());
  CHECK(s.fault_code == 7);
  CHECK(!s.ac_power);
  CHECK(s.faulty());

  auto gone = sim.config();
  gone.port = t::free_tcp_port();
  auto u = sirens.read_status(gone);
  CHECK(!u.reachable);
  CHECK(u.faulty());
  SirenChannel nowhere({gone}, 60s, 1s, nullptr);
  auto r = nowhere.send(Sound("01DELIVERYX000000000000000", "wail").request());
  CHECK(r.outcome == Outcome::retry);
  CHECK(r.reason == "connect");
}

TEST_CASE("the default profile drives an independent Modbus server (pymodbus) the same way") {
  Controller plc(true, "default");
  SirenChannel sirens({plc.config()}, 60s, 2s, nullptr);
  Sound steady("01DELIVERYSTEADY0000000000", "steady");
  auto r = sirens.send(steady.request());
  INFO(r.detail);
  CHECK(r.outcome == Outcome::delivered);
  auto writes = plc.writes();
  REQUIRE(writes.size() == 1);  // one FC16: command, duration, sequence together
  CHECK(writes[0].at("address").as_int64() == 0);
  auto values = writes[0].at("values").as_array();
  REQUIRE(values.size() == 3);
  CHECK(values[0].as_int64() == 2);    // steady
  CHECK(values[1].as_int64() == 180);  // seconds
  CHECK(values[2].as_int64() == SirenChannel::sequence_of(steady.delivery.id));
  auto s = sirens.read_status(plc.config());
  CHECK(s.sounding == "steady");
  CHECK(s.battery_percent == 87);
}

TEST_CASE("the federal-signal profile arms, then sounds a tone, confirmed by the activation coil") {
  Controller plc(true, "federal-signal");
  SirenChannel sirens({plc.config("federal-signal")}, 60s, 2s, nullptr);
  auto r = sirens.send(Sound("01DELIVERYFS00000000000000", "hi-lo").request());
  INFO(r.detail);
  CHECK(r.outcome == Outcome::delivered);
  auto writes = plc.writes();
  REQUIRE(writes.size() == 2);
  CHECK(writes[0].at("address").as_int64() == 3);  // 40004: arm
  CHECK(writes[0].at("values").as_array()[0].as_int64() == 0);
  CHECK(writes[1].at("address").as_int64() == 2);  // 40003: alternate wail
  CHECK(writes[1].at("values").as_array()[0].as_int64() == 3);
  CHECK(sirens.read_status(plc.config("federal-signal")).sounding == "active");
  CHECK(sirens.send(Sound("01DELIVERYFSCLEAR000000000", "all-clear").request()).outcome ==
        Outcome::sent);  // cancel has no confirmation in this map
  CHECK(sirens.read_status(plc.config("federal-signal")).sounding == "silent");
}
