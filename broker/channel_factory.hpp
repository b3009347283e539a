#pragma once
// Builds each configured channel (tocsin.yaml `channels:`) with its provider.

#include <vector>

#include "broker/config.hpp"
#include "dispatchers/dispatcher.hpp"

namespace tocsin {

std::vector<dispatchers::ChannelSetup> make_channels(const Config& config);

}  // namespace tocsin
