#pragma once
// The two channels of the live feed:
// - websocket: public alerts to the residents' live page (one delivery per language; an alert
//   that is not public never goes there);
// - console: an alert to the console sessions of the staff it names. Nobody connected is a
//   retryable failure: it is tried again until max_age, then falls back if configured.

#include "channels/channel.hpp"
#include "channels/registry.hpp"
#include "channels/websocket/feed.hpp"

namespace tocsin::channels {

// The JSON text pushed for an alert: {"type":"alert", alert id, incident id, language, text…}.
std::string alert_message(const SendRequest& request);

class WebSocketChannel : public Channel {
 public:
  explicit WebSocketChannel(Feed& feed) : feed_(feed) {}
  // Channel
  std::vector<Recipient> broadcast_recipients(const Alert& alert) const override;
  SendResult send(const SendRequest& request) override;

 private:
  Feed& feed_;
};

class ConsoleChannel : public Channel {
 public:
  explicit ConsoleChannel(Feed& feed) : feed_(feed) {}
  // Channel
  SendResult send(const SendRequest& request) override;

 private:
  Feed& feed_;
};

// tocsin.yaml `channels.console` or `channels.websocket` with `provider: live` (the server's own
// WebSocket sessions; no settings): a channel addressed to people is the consoles', a broadcast
// one the public page's.
std::unique_ptr<ProviderSettings> read_live_settings(YamlReader& reader, const YAML::Node& node,
                                                     const SettingsScope& scope);

}  // namespace tocsin::channels
