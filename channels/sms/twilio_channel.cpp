#include "channels/sms/twilio_channel.hpp"

#include <algorithm>

#include <boost/json.hpp>

#include "core/yaml_reader.hpp"

namespace tocsin::channels {

namespace json = boost::json;

TwilioChannel::TwilioChannel(TwilioOptions options)
    : options_(std::move(options)), http_(options_.ca_file) {}

SendResult result_of_http(const Result<HttpAnswer>& answer) {
  if (!answer) {
    const Error& e = answer.error();
    return SendResult::retryable(e.code, e.message);
  }
  const HttpAnswer& a = answer.value();
  if (a.status >= 200 && a.status < 300) return SendResult::ok();
  // A provider's error body says why; keep a short, printable part of it.
  std::string why = a.body.substr(0, 300);
  for (char& c : why)
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  std::string detail = "HTTP " + std::to_string(a.status) + (why.empty() ? "" : ": " + why);
  if (a.status == 429 || a.status >= 500 || a.status == 408) {
    std::optional<std::chrono::milliseconds> after;
    if (auto it = a.headers.find("retry-after"); it != a.headers.end()) {
      try {
        long seconds = std::stol(it->second);
        if (seconds >= 0 && seconds <= 3600) after = std::chrono::seconds(seconds);
      } catch (const std::exception&) {
        // An HTTP date, or nonsense: fall back to our own backoff.
      }
    }
    return SendResult::retryable(a.status == 429 ? "http_429" : "http_5xx", detail, after);
  }
  return SendResult::permanent("http_4xx", detail);
}

SendResult TwilioChannel::send(const SendRequest& r) {
  std::vector<std::pair<std::string, std::string>> form{
      {"To", r.delivery.recipient.address}, {"From", options_.from}, {"Body", r.message.text}};
  if (!options_.status_callback.empty())
    form.emplace_back("StatusCallback", options_.status_callback);
  HttpCall call;
  call.url = options_.api_base + "/2010-04-01/Accounts/" + options_.account_sid + "/Messages.json";
  call.headers = {
      {"Authorization", "Basic " + base64(options_.account_sid + ":" + options_.auth_token)},
      {"Content-Type", "application/x-www-form-urlencoded"},
      {"Accept", "application/json"},
      // Every attempt of a delivery carries its id, so the provider can tell a repeat.
      {"Idempotency-Key", r.delivery.id}};
  call.body = form_encode(form);
  call.timeout = options_.timeout;
  auto answer = http_.call(call);
  SendResult result = result_of_http(answer);
  if (result.outcome == SendResult::Outcome::sent) {
    try {
      auto v = json::parse(answer.value().body);
      if (auto* sid = v.as_object().if_contains("sid"); sid && sid->is_string())
        result.provider_ref = std::string(sid->get_string());
    } catch (const std::exception&) {
      // Sent, but we cannot match its receipts: it stays `sent`.
    }
  }
  return result;
}

std::string twilio_signature(const std::string& auth_token, const std::string& url,
                             std::vector<std::pair<std::string, std::string>> fields) {
  std::sort(fields.begin(), fields.end());
  std::string data = url;
  for (const auto& [k, v] : fields) data += k + v;
  return hmac_sha1_base64(auth_token, data);
}

const Receipts* TwilioChannel::receipts() const {
  if (options_.status_callback.empty() || options_.auth_token.empty()) return nullptr;
  return this;
}

const InboundMessages* TwilioChannel::inbound() const {
  if (options_.inbound_url.empty() || options_.auth_token.empty()) return nullptr;
  return this;
}

namespace {

// A signed form post's fields, once its X-Twilio-Signature is the one made for `url`.
Result<std::map<std::string, std::string>> signed_fields(
    std::string_view body, const std::map<std::string, std::string>& headers,
    const std::string& auth_token, const std::string& url) {
  std::vector<std::pair<std::string, std::string>> fields;
  if (!form_decode(body, fields)) return Error{"invalid_body", "body: not form-encoded", "body"};
  auto sig = headers.find("x-twilio-signature");
  std::string expected = twilio_signature(auth_token, url, fields);
  if (sig == headers.end() || !equal_constant_time(sig->second, expected))
    return Error{"bad_signature", "X-Twilio-Signature: missing or not valid for " + url,
                 "X-Twilio-Signature"};
  return std::map<std::string, std::string>(fields.begin(), fields.end());
}

}  // namespace

Result<InboundMessage> TwilioChannel::read_inbound(
    std::string_view body, const std::map<std::string, std::string>& headers) const {
  auto fields = signed_fields(body, headers, options_.auth_token, options_.inbound_url);
  if (!fields) return fields.error();
  auto& f = fields.value();
  InboundMessage m{f["From"], f["To"], f["Body"], f["MessageSid"]};
  if (m.from.empty() || m.from.size() > 32) return Error{"invalid_value", "From: missing", "From"};
  if (m.body.size() > 1600) return Error{"too_large", "Body: 1600 bytes at most", "Body"};
  if (m.provider_ref.size() > 64)
    return Error{"invalid_value", "MessageSid: 64 characters at most", "MessageSid"};
  return m;
}

Result<Receipt> TwilioChannel::read(std::string_view body,
                                    const std::map<std::string, std::string>& headers) const {
  auto fields = signed_fields(body, headers, options_.auth_token, options_.status_callback);
  if (!fields) return fields.error();
  auto& f = fields.value();
  Receipt r;
  r.provider_ref = f["MessageSid"];
  if (r.provider_ref.empty() || r.provider_ref.size() > 64)
    return Error{"invalid_value", "MessageSid: missing", "MessageSid"};
  const std::string& status = f["MessageStatus"];
  if (status == "delivered") r.state = DeliveryState::delivered;
  if (status == "undelivered" || status == "failed") {
    r.state = DeliveryState::failed;
    r.reason = "provider: " + status +
               (f["ErrorCode"].empty() ? "" : " (error " + f["ErrorCode"].substr(0, 16) + ")");
  }
  return r;  // queued, sent…: nothing to record
}

namespace {

struct TwilioSettings : ProviderSettings {
  TwilioOptions options;
  std::shared_ptr<Channel> build(const Services&) const override {
    return std::make_shared<TwilioChannel>(options);
  }
};

}  // namespace

std::unique_ptr<ProviderSettings> read_twilio_settings(YamlReader& r, const YAML::Node& n,
                                                       const SettingsScope& scope) {
  const std::string& path = scope.path;
  auto out = std::make_unique<TwilioSettings>();
  TwilioOptions& t = out->options;
  t.api_base = "https://api.twilio.com";
  r.string(n, path, "api_base", false, t.api_base);
  if (t.api_base.rfind("https://", 0) != 0)
    r.error(n["api_base"].Mark(), path + ".api_base: must start with https://");
  r.string(n, path, "account_sid", true, t.account_sid);
  if (!YamlReader::has_secret(n, "auth_token_env"))
    r.error(n.Mark(), "missing required key '" + path +
                          ".auth_token_env' (or auth_token_file, auth_token_credential)");
  std::optional<std::string> token;
  r.secret(n, path, "auth_token_env", token);
  t.auth_token = token.value_or("");
  if (r.string(n, path, "from", true, t.from) && (t.from.empty() || t.from[0] != '+'))
    r.error(n["from"].Mark(), path + ".from: an E.164 number, like +15145550100");
  r.string(n, path, "status_callback", false, t.status_callback);
  r.string(n, path, "inbound_url", false, t.inbound_url);
  r.string(n, path, "ca_file", false, t.ca_file);
  r.duration(n, path, "timeout", false, t.timeout, std::chrono::seconds(1),
             std::chrono::seconds(300));
  return out;
}

}  // namespace tocsin::channels
