#include "channels/sms/twilio_channel.hpp"

#include <algorithm>

#include <boost/json.hpp>

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

}  // namespace tocsin::channels
