#include "broker/ingest/sensor_keys.hpp"

#include <stdexcept>

#include <zmq.h>

#include "core/yaml_reader.hpp"
#include "playbooks/playbook.hpp"

namespace tocsin {

const SensorKey* SensorKeys::by_public_key(std::string_view z85) const {
  for (const auto& k : keys_)
    if (k.public_key == z85) return &k;
  return nullptr;
}

const SensorKey* SensorKeys::by_name(std::string_view name) const {
  for (const auto& k : keys_)
    if (k.name == name) return &k;
  return nullptr;
}

bool is_curve_key(std::string_view text) {
  if (text.size() != 40) return false;
  std::string copy(text);
  std::uint8_t bytes[32];
  return zmq_z85_decode(bytes, copy.c_str()) != nullptr;
}

std::variant<SensorKeys, std::vector<std::string>> load_sensor_keys(
    const std::filesystem::path& file) {
  YamlReader r(file.string());
  auto root = load_yaml_file(file.string(), 1 << 20, r);
  if (!root) return r.take();
  std::vector<SensorKey> out;
  if (r.mapping(*root, "", {"sensors"})) {
    if (auto list = r.section(*root, "", "sensors", true)) {
      if (!list->IsSequence()) r.error(list->Mark(), "sensors: must be a list");
      std::size_t i = 0;
      for (const auto& item : *list) {
        std::string path = "sensors[" + std::to_string(i++) + "]";
        if (!r.mapping(item, path, {"name", "public_key", "sources", "actions"})) continue;
        SensorKey k;
        r.string(item, path, "name", true, k.name);
        if (r.string(item, path, "public_key", true, k.public_key) && !is_curve_key(k.public_key))
          r.error(item["public_key"].Mark(),
                  path + ".public_key: not a CURVE public key (40 Z85 characters, as `tocsin " +
                      "keygen` prints)");
        r.string_list(item, path, "sources", true, k.sources);
        if (k.sources.empty() && item["sources"])
          r.error(item["sources"].Mark(), path + ".sources: name at least one source (a glob)");
        r.boolean(item, path, "actions", k.actions);
        for (const auto& o : out) {
          if (o.name == k.name)
            r.error(item["name"].Mark(), path + ".name: '" + k.name + "' is listed twice");
          if (!k.public_key.empty() && o.public_key == k.public_key)
            r.error(item["public_key"].Mark(),
                    path + ".public_key: already the key of '" + o.name + "'");
        }
        out.push_back(std::move(k));
      }
    }
  }
  if (r.failed()) return r.take();
  return SensorKeys(std::move(out));
}

CurveKeyPair curve_keypair() {
  char pub[41], sec[41];
  if (zmq_curve_keypair(pub, sec) != 0)
    throw std::runtime_error("this libzmq has no CURVE support");
  return {pub, sec};
}

std::optional<std::string> curve_public_key(const std::string& secret_key) {
  if (!is_curve_key(secret_key)) return std::nullopt;
  char pub[41];
  if (zmq_curve_public(pub, secret_key.c_str()) != 0) return std::nullopt;
  return std::string(pub);
}

}  // namespace tocsin
