#pragma once
// How a siren controller's Modbus registers say a command and report status. Two profiles ship:
//
// default (Tocsin's own map, holding registers, 0-based data addresses):
//   0 command   0 idle, 1 wail, 2 steady, 3 hi-lo, 4 pulsed, 5 all-clear, 6 test
//   1 duration  seconds to sound
//   2 sequence  the command's number (1…65535): written with 0 and 1 in one request (FC16), so a
//               controller applies a whole command or none; it ignores a sequence among the last
//               16 it applied, so a repeated command (at-least-once delivery) changes nothing
//   10 sounding        the pattern sounding now (0 silent)
//   11 ac_power        1 on mains, 0 on battery
//   12 battery_percent
//   13 fault_code      0 none
//   14 last_sequence   the last command acknowledged (applied now, or a repeat of one applied
//                      before): a command is confirmed when this equals its sequence
//
// federal-signal (Federal Signal SS2000 / Informer map, ../shared/SIRENS.md): arm (40004 = 0),
// then a tone (40003: 1 wail, 2 pulsed wail, 3 alternate wail for hi-lo, 4 steady); all-clear is
// cancel (40004 = 3), test the quiet test (40004 = 4). An activation is confirmed by reading back
// the activation-detected coil (0x, address 0). This map has no duration (the controller's own
// programming decides it) and no power or battery status.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tocsin::channels::siren {

struct RegisterWrite {
  int address;
  std::vector<std::uint16_t> values;  // one FC06 for one value, one FC16 for several
};

struct Confirmation {
  enum class Kind { none, register_equals, coil_set } kind = Kind::none;
  int address = 0;
  std::uint16_t value = 0;
};

struct SirenCommand {
  std::vector<RegisterWrite> writes;  // in order
  Confirmation confirm;
};

class SirenProfile {
 public:
  static std::optional<SirenProfile> named(const std::string& name);  // default, federal-signal
  const std::string& name() const { return name_; }

  // nullopt: the pattern is not one this profile can sound.
  std::optional<SirenCommand> command(const std::string& pattern, int duration_s,
                                      std::uint16_t sequence) const;
  // The status block: first register and count (0 count: no status registers).
  int status_address() const { return name_ == "default" ? 10 : 0; }
  int status_count() const { return name_ == "default" ? 5 : 0; }

 private:
  std::string name_;
};

// The default profile's codes, shared with the simulator.
std::optional<std::uint16_t> default_pattern_code(const std::string& pattern);
std::string default_pattern_name(std::uint16_t code);

}  // namespace tocsin::channels::siren
