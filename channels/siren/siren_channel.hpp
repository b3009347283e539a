#pragma once
// Outdoor sirens over Modbus TCP (libmodbus). A delivery goes to each controller covering one of
// the alert's zones; the command sets a desired state (pattern, duration, sequence number from the
// delivery id), so repeating it is harmless. It counts as delivered only once the controller
// confirms it (profile: last sequence, or the activation coil). A poller reads every controller's
// status each poll_interval and reports it, reachable or not.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "channels/channel.hpp"
#include "channels/registry.hpp"
#include "channels/siren/siren_profile.hpp"

namespace tocsin::channels {

struct SirenController {
  std::string id;
  std::string host;
  int port = 502;
  int unit_id = 1;
  std::vector<std::string> zones;
  std::string profile = "default";
};

struct SirenStatus {
  std::string controller;
  bool reachable = false;
  std::string error;     // when unreachable
  std::string sounding;  // silent, wail, …
  bool ac_power = true;
  int battery_percent = -1;  // -1: the profile does not say
  int fault_code = 0;
  int last_sequence = 0;
  Timestamp at{};
  bool faulty() const { return !reachable || fault_code != 0; }
};

class SirenChannel : public Channel {
 public:
  SirenChannel(std::vector<SirenController> controllers, std::chrono::seconds poll_interval,
               std::chrono::seconds timeout, std::function<void(const SirenStatus&)> on_status);
  ~SirenChannel() override;

  SirenStatus read_status(const SirenController& c) const;

  // Channel
  std::vector<Recipient> broadcast_recipients(const Alert& alert) const override;
  SendResult send(const SendRequest& request) override;
  void start() override;  // polls every controller each poll_interval
  void stop() override;

  // The command sequence number of a delivery: the same for every attempt, never 0.
  static std::uint16_t sequence_of(const std::string& delivery_id);

 private:
  void poll_loop(std::stop_token stop);
  const SirenController* find(const std::string& id) const;

  std::vector<SirenController> controllers_;
  std::chrono::seconds poll_interval_, timeout_;
  std::function<void(const SirenStatus&)> on_status_;
  std::mutex mutex_;
  std::condition_variable_any wake_;
  std::jthread poller_;
};

// tocsin.yaml `channels.siren` with `provider: modbus`: controllers (id, endpoint, unit_id,
// zones, profile), poll_interval, timeout.
std::unique_ptr<ProviderSettings> read_modbus_settings(YamlReader& reader, const YAML::Node& node,
                                                       const SettingsScope& scope);

}  // namespace tocsin::channels
