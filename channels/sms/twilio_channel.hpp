#pragma once
// SMS through a Twilio-compatible REST API: POST
// {api_base}/2010-04-01/Accounts/{sid}/Messages.json, form-encoded To/From/Body (and
// StatusCallback), HTTP basic auth with the account SID and auth token. 201 is sent (the answer's
// "sid" is kept to match receipts); 429 and 5xx are retried, honouring Retry-After; other 4xx are
// refused for good (a bad number, a blocked recipient).

#include <string>

#include "channels/channel.hpp"
#include "channels/http/http_client.hpp"
#include "channels/registry.hpp"

namespace tocsin::channels {

struct TwilioOptions {
  std::string api_base;  // https://api.twilio.com
  std::string account_sid;
  std::string auth_token;
  std::string from;
  std::string status_callback;  // where the provider reports delivery; empty: no receipts
  std::string ca_file;
  std::chrono::seconds timeout{10};
  // The URL the provider posts replies to (the number's "a message comes in" webhook), as it
  // signs it; empty: replies are not taken.
  std::string inbound_url = {};
};

// Receipts are the provider's status callbacks: form fields MessageSid, MessageStatus,
// ErrorCode, signed in X-Twilio-Signature over the callback URL and the fields.
// Replies: the number's incoming-message webhook, form fields From, To, Body, MessageSid, signed
// the same way over inbound_url.
class TwilioChannel : public Channel, private Receipts, private InboundMessages {
 public:
  explicit TwilioChannel(TwilioOptions options);

  // Channel
  SendResult send(const SendRequest& request) override;
  const Receipts* receipts() const override;
  const InboundMessages* inbound() const override;

 private:
  // InboundMessages
  Result<InboundMessage> read_inbound(
      std::string_view body, const std::map<std::string, std::string>& headers) const override;
  // Receipts
  Result<Receipt> read(std::string_view body,
                       const std::map<std::string, std::string>& headers) const override;

  TwilioOptions options_;
  HttpClient http_;
};

// X-Twilio-Signature of a status callback: base64(HMAC-SHA1(auth token, URL followed by each
// POST field name and value, sorted by name)).
std::string twilio_signature(const std::string& auth_token, const std::string& url,
                             std::vector<std::pair<std::string, std::string>> fields);

// tocsin.yaml `channels.sms` with `provider: twilio`: api_base, account_sid, auth_token_env,
// from, status_callback, inbound_url, ca_file, timeout.
std::unique_ptr<ProviderSettings> read_twilio_settings(YamlReader& reader, const YAML::Node& node,
                                                       const SettingsScope& scope);

// The answer of an HTTP API as a send result: 2xx sent, 429/5xx retried, other 4xx refused.
SendResult result_of_http(const Result<HttpAnswer>& answer);

}  // namespace tocsin::channels
