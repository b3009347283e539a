#pragma once
// The outbox: each delivery written as one JSON line to a file under the data directory. For
// running without accounts (`make run`), and for inspecting what would have been sent.

#include <cstdio>
#include <filesystem>
#include <mutex>

#include "channels/channel.hpp"
#include "channels/registry.hpp"

namespace tocsin::channels {

class OutboxChannel : public Channel {
 public:
  // It stands in for `channel`, with that channel's capabilities (a broadcast channel's
  // recipients are the file's, one per language).
  OutboxChannel(std::string channel, std::filesystem::path file);
  ~OutboxChannel() override;

  // Channel
  std::vector<Recipient> broadcast_recipients(const Alert& alert) const override;
  SendResult send(const SendRequest& request) override;

 private:
  std::string channel_;
  std::filesystem::path file_;
  std::mutex mutex_;
  std::FILE* out_ = nullptr;
};

// tocsin.yaml `channels.NAME` with `provider: outbox`: file (default:
// <data_dir>/outbox/NAME.jsonl).
std::unique_ptr<ProviderSettings> read_outbox_settings(YamlReader& reader, const YAML::Node& node,
                                                       const SettingsScope& scope);

}  // namespace tocsin::channels
