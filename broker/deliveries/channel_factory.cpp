#include "broker/deliveries/channel_factory.hpp"

#include "channels/email/smtp_channel.hpp"
#include "channels/outbox/outbox_channel.hpp"
#include "channels/sms/twilio_channel.hpp"
#include "channels/webhook/webhook_channel.hpp"
#include "channels/websocket/live_channels.hpp"

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

BuiltChannels make_channels(const Config& config,
                            std::function<void(const channels::SirenStatus&)> on_siren_status,
                            channels::Feed& feed) {
  BuiltChannels out;
  for (const auto& ch : config.channels) {
    std::shared_ptr<channels::Channel> channel;
    if (auto* o = std::get_if<OutboxSettings>(&ch.settings))
      channel = std::make_shared<channels::OutboxChannel>(ch.name, addressing_of(ch.name), o->file);
    if (auto* t = std::get_if<TwilioSettings>(&ch.settings))
      channel = std::make_shared<channels::TwilioChannel>(
          channels::TwilioOptions{t->api_base, t->account_sid, t->auth_token.value_or(""), t->from,
                                  t->status_callback, t->ca_file, t->timeout});
    if (auto* m = std::get_if<SmtpSettings>(&ch.settings))
      channel = std::make_shared<channels::SmtpChannel>(
          channels::SmtpOptions{m->url, m->from, m->starttls, m->username, m->password, m->ca_file,
                                m->unsubscribe_url, m->timeout});
    if (auto* w = std::get_if<WebhookSettings>(&ch.settings))
      channel = std::make_shared<channels::WebhookChannel>(
          channels::WebhookOptions{w->url, w->secret, w->ca_file, w->timeout});
    if (auto* sr = std::get_if<SirenSettings>(&ch.settings)) {
      std::vector<channels::SirenController> controllers;
      for (const auto& c : sr->controllers)
        controllers.push_back(
            {c.id, c.endpoint.host, c.endpoint.port, c.unit_id, c.zones, c.profile});
      out.sirens = std::make_shared<channels::SirenChannel>(
          std::move(controllers), sr->poll_interval, sr->timeout, on_siren_status);
      channel = out.sirens;
    }
    if (std::holds_alternative<LiveSettings>(ch.settings)) {
      if (ch.name == "console")
        channel = std::make_shared<channels::ConsoleChannel>(feed);
      else
        channel = std::make_shared<channels::WebSocketChannel>(feed);
    }
    if (!channel)
      throw std::runtime_error("channels." + ch.name + ": provider '" + ch.provider +
                               "' is not available in this build");
    out.setups.push_back(dispatchers::ChannelSetup{ch.name, std::move(channel), ch.policy});
  }
  return out;
}

}  // namespace tocsin
