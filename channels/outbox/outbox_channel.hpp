#pragma once
// The outbox: each delivery written as one JSON line to a file under the data directory. For
// running without accounts (`make run`), and for inspecting what would have been sent.

#include <cstdio>
#include <filesystem>
#include <mutex>

#include "channels/channel.hpp"

namespace tocsin::channels {

class OutboxChannel : public Channel {
 public:
  OutboxChannel(std::string channel, Addressing addressing, std::filesystem::path file);
  ~OutboxChannel() override;

  // Channel
  Addressing addressing() const override { return addressing_; }
  std::vector<Recipient> broadcast_recipients(const Alert& alert) const override;
  // As the channel it stands in for: the text channels render templates; a CAP feed, a webhook
  // or a siren carries the alert itself.
  bool uses_templates() const override {
    return channel_ == "sms" || channel_ == "email" || channel_ == "console" ||
           channel_ == "websocket";
  }
  SendResult send(const SendRequest& request) override;

 private:
  std::string channel_;
  Addressing addressing_;
  std::filesystem::path file_;
  std::mutex mutex_;
  std::FILE* out_ = nullptr;
};

}  // namespace tocsin::channels
