#include "channels/webhook/webhook_channel.hpp"

#include <boost/json.hpp>

#include "channels/sms/twilio_channel.hpp"
#include "core/json_text.hpp"
#include "core/yaml_reader.hpp"

namespace tocsin::channels {

namespace json = boost::json;

WebhookChannel::WebhookChannel(WebhookOptions options)
    : options_(std::move(options)), http_(options_.ca_file) {}

std::vector<Recipient> WebhookChannel::broadcast_recipients(const Alert&) const {
  return {Recipient{"webhook", options_.url, "fr"}};
}

SendResult WebhookChannel::send(const SendRequest& r) {
  const Alert& a = r.alert;
  json::array channels, zones;
  for (const auto& c : a.channels) channels.emplace_back(c);
  for (const auto& z : a.zones) zones.emplace_back(z);
  json::object body{{"delivery_id", r.delivery.id},
                    {"alert", json::object{{"id", a.id},
                                           {"incident_id", a.incident_id},
                                           {"playbook", a.playbook_id},
                                           {"kind", a.kind},
                                           {"public", a.is_public},
                                           {"template", a.template_name},
                                           {"channels", std::move(channels)},
                                           {"zones", std::move(zones)},
                                           {"pattern", a.pattern},
                                           {"duration_s", a.duration.count()},
                                           {"audience", to_json(a.audience)},
                                           {"created_at", format_rfc3339(a.created_at)}}},
                    {"sent_at", format_rfc3339(now())}};
  HttpCall call;
  call.url = options_.url;
  call.body = json_text(body);
  call.headers = {{"Content-Type", "application/json"}, {"Idempotency-Key", r.delivery.id}};
  if (options_.secret) {
    std::string t = std::to_string(to_unix_ms(now()) / 1000);
    call.headers.emplace_back(
        "X-Tocsin-Signature",
        "t=" + t + ",v1=" + hmac_sha256_hex(*options_.secret, t + "." + call.body));
  }
  call.timeout = options_.timeout;
  return result_of_http(http_.call(call));
}

namespace {

struct WebhookSettings : ProviderSettings {
  WebhookOptions options;
  std::shared_ptr<Channel> build(const Services&) const override {
    return std::make_shared<WebhookChannel>(options);
  }
};

}  // namespace

std::unique_ptr<ProviderSettings> read_webhook_settings(YamlReader& r, const YAML::Node& n,
                                                        const SettingsScope& scope) {
  const std::string& path = scope.path;
  auto out = std::make_unique<WebhookSettings>();
  WebhookOptions& w = out->options;
  if (r.string(n, path, "url", true, w.url) && w.url.rfind("https://", 0) != 0 &&
      w.url.rfind("http://", 0) != 0)
    r.error(n["url"].Mark(), path + ".url: must start with https:// or http://");
  r.secret(n, path, "secret_env", w.secret);
  r.string(n, path, "ca_file", false, w.ca_file);
  r.duration(n, path, "timeout", false, w.timeout, std::chrono::seconds(1),
             std::chrono::seconds(300));
  return out;
}

}  // namespace tocsin::channels
