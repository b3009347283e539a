#pragma once
// The sensors allowed on the ZeroMQ bus when it is authenticated (CurveZMQ): each sensor's public
// key, the sources it may report as, and whether it may acknowledge, resolve or cancel.
//
//   sensors:
//     - { name: gauge-rdp, public_key: "Z85, 40 characters", sources: ["gauge-rdp-*"] }
//     - { name: eoc-bridge, public_key: "…", sources: ["*"], actions: true }

#include <filesystem>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace tocsin {

struct SensorKey {
  std::string name;
  std::string public_key;            // Z85 (40 characters)
  std::vector<std::string> sources;  // globs
  bool actions = false;              // ack / resolve / cancel over ZeroMQ
};

class SensorKeys {
 public:
  explicit SensorKeys(std::vector<SensorKey> keys) : keys_(std::move(keys)) {}
  const SensorKey* by_public_key(std::string_view z85) const;
  const SensorKey* by_name(std::string_view name) const;
  std::size_t size() const { return keys_.size(); }

 private:
  std::vector<SensorKey> keys_;
};

// The file, or its errors ("file:line:column: message").
std::variant<SensorKeys, std::vector<std::string>> load_sensor_keys(
    const std::filesystem::path& file);

// Whether `text` is a Z85-encoded 32-byte CURVE key.
bool is_curve_key(std::string_view text);

// `tocsin keygen`: a new key pair, Z85; the public key of a secret one (nullopt if not a key).
struct CurveKeyPair {
  std::string public_key, secret_key;
};
CurveKeyPair curve_keypair();
std::optional<std::string> curve_public_key(const std::string& secret_key);

}  // namespace tocsin
