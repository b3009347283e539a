#include "channels/websocket/live_channels.hpp"
#include "core/json_text.hpp"

#include <stdexcept>

#include <boost/json.hpp>

namespace tocsin::channels {

namespace json = boost::json;

std::string alert_message(const SendRequest& r) {
  json::object m{{"type", "alert"},
                 {"alert_id", r.alert.id},
                 {"incident_id", r.alert.incident_id},
                 {"delivery_id", r.delivery.id},
                 {"public", r.alert.is_public},
                 {"language", r.message.language},
                 {"text", r.message.text},
                 {"sent_at", format_rfc3339(now())}};
  return json_text(m);
}

std::vector<Recipient> WebSocketChannel::broadcast_recipients(const Alert& alert) const {
  if (!alert.is_public) return {};
  return {Recipient{"public", "/ws/public?lang=fr", "fr"},
          Recipient{"public", "/ws/public?lang=en", "en"},
          Recipient{"public", "/ws/public", "fr+en"}};
}

SendResult WebSocketChannel::send(const SendRequest& r) {
  auto n = feed_.publish(r.delivery.recipient.language,
                         std::make_shared<const std::string>(alert_message(r)));
  return SendResult::ok(std::to_string(n) + " sessions");
}

SendResult ConsoleChannel::send(const SendRequest& r) {
  auto n = feed_.to_person(r.delivery.recipient.id,
                           std::make_shared<const std::string>(alert_message(r)));
  if (n == 0)
    return SendResult::retryable("not_connected", r.delivery.recipient.id + " has no console open");
  return SendResult::ok(std::to_string(n) + " sessions");
}

namespace {

struct LiveSettings : ProviderSettings {
  bool to_people = false;
  std::shared_ptr<Channel> build(const Services& services) const override {
    if (!services.feed) throw std::logic_error("the live channels need the live feed");
    if (to_people) return std::make_shared<ConsoleChannel>(*services.feed);
    return std::make_shared<WebSocketChannel>(*services.feed);
  }
};

}  // namespace

std::unique_ptr<ProviderSettings> read_live_settings(YamlReader&, const YAML::Node&,
                                                     const SettingsScope& scope) {
  auto out = std::make_unique<LiveSettings>();
  out->to_people = scope.can.addressing == Addressing::person;
  return out;
}

}  // namespace tocsin::channels
