#include "channels/siren/siren_channel.hpp"

#include <pthread.h>
#include <algorithm>
#include <cerrno>
#include <memory>

#include <modbus/modbus.h>

#include "core/host_port.hpp"
#include "core/yaml_reader.hpp"

namespace tocsin::channels {

using siren::Confirmation;
using siren::SirenProfile;

namespace {

// One Modbus TCP connection, closed and freed when it goes out of scope.
struct Connection {
  modbus_t* ctx = nullptr;
  std::string error;

  Connection(const SirenController& c, std::chrono::seconds timeout) {
    ctx = modbus_new_tcp(c.host.c_str(), c.port);
    if (!ctx) {
      error = "cannot create a Modbus context for " + c.host;
      return;
    }
    modbus_set_slave(ctx, c.unit_id);
    modbus_set_response_timeout(ctx, std::uint32_t(timeout.count()), 0);
    if (modbus_connect(ctx) == -1) {
      error = "connect " + c.host + ":" + std::to_string(c.port) + ": " + modbus_strerror(errno);
      modbus_free(ctx);
      ctx = nullptr;
    }
  }
  ~Connection() {
    if (ctx) {
      modbus_close(ctx);
      modbus_free(ctx);
    }
  }
  bool ok() const { return ctx != nullptr; }
};

std::string modbus_error(const char* what) {
  return std::string(what) + ": " + modbus_strerror(errno);
}

}  // namespace

SirenChannel::SirenChannel(std::vector<SirenController> controllers,
                           std::chrono::seconds poll_interval, std::chrono::seconds timeout,
                           std::function<void(const SirenStatus&)> on_status)
    : controllers_(std::move(controllers)),
      poll_interval_(poll_interval),
      timeout_(timeout),
      on_status_(std::move(on_status)) {}

SirenChannel::~SirenChannel() {
  stop();
}

void SirenChannel::start() {
  poller_ = std::jthread([this](std::stop_token stop) {
    pthread_setname_np(pthread_self(), "siren-poll");
    poll_loop(stop);
  });
}

void SirenChannel::stop() {
  poller_.request_stop();
  if (poller_.joinable()) poller_.join();
}

void SirenChannel::poll_loop(std::stop_token stop) {
  for (;;) {
    for (const auto& c : controllers_) {
      auto status = read_status(c);
      if (on_status_) on_status_(status);
    }
    std::unique_lock lock(mutex_);
    if (wake_.wait_for(lock, stop, poll_interval_, [&] { return stop.stop_requested(); })) return;
  }
}

SirenStatus SirenChannel::read_status(const SirenController& c) const {
  SirenStatus s;
  s.controller = c.id;
  s.at = now();
  auto profile = SirenProfile::named(c.profile);
  Connection conn(c, timeout_);
  if (!conn.ok()) {
    s.error = conn.error;
    return s;
  }
  if (profile->status_count() > 0) {
    std::uint16_t regs[8] = {};
    if (modbus_read_registers(conn.ctx, profile->status_address(), profile->status_count(), regs) ==
        -1) {
      s.error = modbus_error("read status");
      return s;
    }
    s.sounding = siren::default_pattern_name(regs[0]);
    s.ac_power = regs[1] != 0;
    s.battery_percent = regs[2];
    s.fault_code = regs[3];
    s.last_sequence = regs[4];
  } else {
    std::uint8_t active = 0;
    if (modbus_read_bits(conn.ctx, 0, 1, &active) == -1) {
      s.error = modbus_error("read activation coil");
      return s;
    }
    s.sounding = active ? "active" : "silent";
  }
  s.reachable = true;
  return s;
}

const SirenController* SirenChannel::find(const std::string& id) const {
  for (const auto& c : controllers_)
    if (c.id == id) return &c;
  return nullptr;
}

std::vector<Recipient> SirenChannel::broadcast_recipients(const Alert& alert) const {
  std::vector<Recipient> out;
  for (const auto& c : controllers_) {
    bool covers = std::any_of(alert.zones.begin(), alert.zones.end(), [&](const std::string& z) {
      return std::find(c.zones.begin(), c.zones.end(), z) != c.zones.end();
    });
    if (covers) out.push_back(Recipient{c.id, c.host + ":" + std::to_string(c.port), "fr"});
  }
  return out;
}

std::uint16_t SirenChannel::sequence_of(const std::string& delivery_id) {
  std::uint32_t h = 2166136261u;  // FNV-1a
  for (unsigned char ch : delivery_id) h = (h ^ ch) * 16777619u;
  return std::uint16_t(1 + h % 65535);
}

SendResult SirenChannel::send(const SendRequest& r) {
  const SirenController* c = find(r.delivery.recipient.id);
  if (!c)
    return SendResult::permanent("unknown_controller",
                                 "no siren controller '" + r.delivery.recipient.id + "'");
  auto profile = SirenProfile::named(c->profile);
  std::uint16_t seq = sequence_of(r.delivery.id);
  auto command = profile->command(r.alert.pattern, int(r.alert.duration.count()), seq);
  if (!command)
    return SendResult::permanent(
        "bad_pattern", "profile " + profile->name() + " cannot sound '" + r.alert.pattern + "'");
  Connection conn(*c, timeout_);
  if (!conn.ok()) return SendResult::retryable("connect", conn.error);
  for (const auto& w : command->writes) {
    int rc = w.values.size() == 1 ? modbus_write_register(conn.ctx, w.address, w.values[0])
                                  : modbus_write_registers(conn.ctx, w.address,
                                                           int(w.values.size()), w.values.data());
    if (rc == -1)
      return SendResult::retryable("modbus", c->id + ": " + modbus_error("write command"));
  }
  const Confirmation& k = command->confirm;
  std::string ref = c->id + "#" + std::to_string(seq);
  if (k.kind == Confirmation::Kind::none) return SendResult::ok(ref);
  bool confirmed = false;
  if (k.kind == Confirmation::Kind::register_equals) {
    std::uint16_t v = 0;
    if (modbus_read_registers(conn.ctx, k.address, 1, &v) == -1)
      return SendResult::retryable("modbus", c->id + ": " + modbus_error("read confirmation"));
    confirmed = v == k.value;
  } else {
    std::uint8_t bit = 0;
    if (modbus_read_bits(conn.ctx, k.address, 1, &bit) == -1)
      return SendResult::retryable("modbus", c->id + ": " + modbus_error("read activation coil"));
    confirmed = bit == k.value;
  }
  if (!confirmed)
    return SendResult::retryable(
        "not_confirmed", c->id + ": the controller did not confirm command " + std::to_string(seq));
  SendResult ok = SendResult::ok(ref);
  ok.outcome = SendResult::Outcome::delivered;
  return ok;
}

namespace {

struct ModbusSettings : ProviderSettings {
  std::vector<SirenController> controllers;
  std::chrono::seconds poll_interval{10}, timeout{2};
  std::shared_ptr<Channel> build(const Services& services) const override {
    SirenObserver* observer = services.sirens;
    std::function<void(const SirenStatus&)> on_status;
    if (observer) {
      std::map<std::string, std::vector<std::string>> zones;
      for (const auto& c : controllers) zones[c.id] = c.zones;
      observer->controllers(std::move(zones));
      on_status = [observer](const SirenStatus& s) { observer->on_status(s); };
    }
    return std::make_shared<SirenChannel>(controllers, poll_interval, timeout,
                                          std::move(on_status));
  }
};

}  // namespace

std::unique_ptr<ProviderSettings> read_modbus_settings(YamlReader& r, const YAML::Node& n,
                                                       const SettingsScope& scope) {
  const std::string& path = scope.path;
  auto out = std::make_unique<ModbusSettings>();
  r.duration(n, path, "poll_interval", false, out->poll_interval, std::chrono::seconds(1),
             std::chrono::seconds(3600));
  r.duration(n, path, "timeout", false, out->timeout, std::chrono::seconds(1),
             std::chrono::seconds(300));
  auto list = r.section(n, path, "controllers", true);
  if (!list) return out;
  if (!list->IsSequence()) r.error(list->Mark(), path + ".controllers: must be a list");
  std::size_t i = 0;
  for (const auto& item : *list) {
    std::string cp = path + ".controllers[" + std::to_string(i++) + "]";
    if (!r.mapping(item, cp, {"id", "endpoint", "unit_id", "zones", "profile"})) continue;
    SirenController sc;
    r.string(item, cp, "id", true, sc.id);
    std::string ep;
    if (r.string(item, cp, "endpoint", true, ep)) {
      if (auto hp = parse_host_port(ep)) {
        sc.host = hp->host;
        sc.port = hp->port;
      } else {
        r.error(item["endpoint"].Mark(), cp + ".endpoint: '" + ep + "' is not host:port");
      }
    }
    r.integer(item, cp, "unit_id", sc.unit_id, 0, 247);
    r.string_list(item, cp, "zones", true, sc.zones);
    r.choice(item, cp, "profile", sc.profile, {"default", "federal-signal"});
    out->controllers.push_back(std::move(sc));
  }
  return out;
}

}  // namespace tocsin::channels
