#include "channels/websocket/live_channels.hpp"

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
  return json::serialize(m);
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

}  // namespace tocsin::channels
