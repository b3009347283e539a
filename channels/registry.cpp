#include "channels/registry.hpp"

#include <algorithm>

#include "channels/email/smtp_channel.hpp"
#include "channels/outbox/outbox_channel.hpp"
#include "channels/siren/siren_channel.hpp"
#include "channels/sms/twilio_channel.hpp"
#include "channels/webhook/webhook_channel.hpp"
#include "channels/websocket/live_channels.hpp"

namespace tocsin::channels {

const std::vector<ChannelKind>& channel_kinds() {
  // The outbox stands in for any channel: a file of JSON lines, for running without accounts.
  static const Provider outbox{"outbox", {"file"}, read_outbox_settings};
  static const Provider live{"live", {}, read_live_settings};  // the server's /ws/… sessions
  static const std::vector<ChannelKind> kinds{
      {"sms",
       {.addressing = Addressing::phone, .segments = 3},
       {{"twilio",
         {"api_base", "account_sid", "auth_token_env", "from", "status_callback", "inbound_url",
          "ca_file", "timeout"},
         read_twilio_settings},
        outbox}},
      {"email",
       {.addressing = Addressing::email, .subject = true},
       {{"smtp",
         {"url", "from", "starttls", "username", "password_env", "ca_file", "unsubscribe_url",
          "timeout"},
         read_smtp_settings},
        outbox}},
      {"console", {.addressing = Addressing::person}, {live, outbox}},
      {"websocket", {.addressing = Addressing::broadcast}, {live, outbox}},
      {"webhook",
       {.addressing = Addressing::broadcast, .rendered = false},
       {{"http", {"url", "secret_env", "ca_file", "timeout"}, read_webhook_settings}, outbox}},
      {"cap", {.addressing = Addressing::broadcast, .rendered = false}, {outbox}},
      {"siren",
       {.addressing = Addressing::broadcast, .rendered = false, .sounds = true},
       {{"modbus", {"controllers", "poll_interval", "timeout"}, read_modbus_settings}, outbox}},
  };
  return kinds;
}

const ChannelKind* channel_kind(std::string_view name) {
  const auto& kinds = channel_kinds();
  auto it = std::find_if(kinds.begin(), kinds.end(),
                         [&](const ChannelKind& k) { return k.name == name; });
  return it == kinds.end() ? nullptr : &*it;
}

const Capabilities& capabilities(std::string_view name) {
  static const Capabilities nothing{.addressing = Addressing::broadcast, .rendered = false};
  const ChannelKind* k = channel_kind(name);
  return k ? k->can : nothing;
}

}  // namespace tocsin::channels
