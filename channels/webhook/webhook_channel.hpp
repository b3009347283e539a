#pragma once
// Webhooks for integrations: each alert POSTed as JSON to one URL, signed with HMAC-SHA256 over
// "timestamp.body" (header X-Tocsin-Signature: t=<unix seconds>,v1=<hex>), so a receiver can check
// it came from us and is fresh. Idempotency-Key carries the delivery id.

#include <optional>
#include <string>

#include "channels/channel.hpp"
#include "channels/http/http_client.hpp"
#include "channels/registry.hpp"

namespace tocsin::channels {

struct WebhookOptions {
  std::string url;
  std::optional<std::string> secret;
  std::string ca_file;
  std::chrono::seconds timeout{10};
};

class WebhookChannel : public Channel {
 public:
  explicit WebhookChannel(WebhookOptions options);

  // Channel
  std::vector<Recipient> broadcast_recipients(const Alert& alert) const override;
  SendResult send(const SendRequest& request) override;

 private:
  WebhookOptions options_;
  HttpClient http_;
};

// tocsin.yaml `channels.webhook` with `provider: http`: url, secret_env, ca_file, timeout.
std::unique_ptr<ProviderSettings> read_webhook_settings(YamlReader& reader, const YAML::Node& node,
                                                        const SettingsScope& scope);

}  // namespace tocsin::channels
