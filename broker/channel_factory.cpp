#include "broker/channel_factory.hpp"

#include "channels/outbox/outbox_channel.hpp"

namespace tocsin {

namespace {

channels::Addressing addressing_of(const std::string& channel) {
  using channels::Addressing;
  if (channel == "sms") return Addressing::phone;
  if (channel == "email") return Addressing::email;
  if (channel == "console") return Addressing::person;
  return Addressing::broadcast;  // websocket, webhook, cap, siren
}

}  // namespace

std::vector<dispatchers::ChannelSetup> make_channels(const Config& config) {
  std::vector<dispatchers::ChannelSetup> out;
  for (const auto& ch : config.channels) {
    std::shared_ptr<channels::Channel> channel;
    if (auto* o = std::get_if<OutboxSettings>(&ch.settings))
      channel = std::make_shared<channels::OutboxChannel>(ch.name, addressing_of(ch.name), o->file);
    if (!channel)
      throw std::runtime_error("channels." + ch.name + ": provider '" + ch.provider +
                               "' is not available in this build");
    out.push_back(dispatchers::ChannelSetup{ch.name, std::move(channel), ch.policy});
  }
  return out;
}

}  // namespace tocsin
