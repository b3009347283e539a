#pragma once
// Builds each configured channel (tocsin.yaml `channels:`) with its provider.

#include <vector>

#include "broker/settings/config.hpp"
#include "channels/siren/siren_channel.hpp"
#include "channels/websocket/feed.hpp"
#include "dispatchers/dispatcher.hpp"

namespace tocsin {

struct BuiltChannels {
  std::vector<dispatchers::ChannelSetup> setups;
  std::shared_ptr<channels::SirenChannel> sirens;  // null without a modbus siren channel
};

// `on_siren_status` gets every poll of every siren controller.
BuiltChannels make_channels(const Config& config,
                            std::function<void(const channels::SirenStatus&)> on_siren_status,
                            channels::Feed& feed);

}  // namespace tocsin
