#pragma once
// A siren controller simulator speaking Modbus TCP (libmodbus), for demos and tests:
// `tocsin siren-sim --listen 127.0.0.1:1502 --profile default`. It applies commands the way the
// profile says a controller does (siren_profile.hpp): a command with a new sequence number sounds
// its pattern for its duration and is acknowledged in last_sequence; a repeat changes nothing.
// Status registers can be written too, so a test can make the controller report a fault.

#include <atomic>
#include <cstdint>
#include <string>

namespace tocsin::channels::siren {

class SirenSimulator {
 public:
  SirenSimulator(std::string host, int port, std::string profile);
  // Serves until stop() (from another thread or a signal handler); false if it cannot listen.
  bool run(std::string& error);
  void stop() { stopping_ = true; }
  int commands_applied() const { return applied_; }

 private:
  std::string host_;
  int port_;
  std::string profile_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> applied_{0};
};

}  // namespace tocsin::channels::siren
