// An SMS reply as the provider posts it: the first line is X-Twilio-Signature, the rest the
// form-encoded body. Accepted only with the signature made for the webhook's URL; and the same
// body, signed rightly, is read field for field as the form says.
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>

#include "channels/http/http_client.hpp"
#include "channels/sms/twilio_channel.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tocsin::channels;
  if (size > 64 * 1024) return 0;
  static const std::string kUrl = "https://alertes.ville.example/api/v1/inbound/sms";
  static const std::string kToken = "secret-token";
  static TwilioChannel channel([] {
    TwilioOptions o;
    o.api_base = "https://127.0.0.1:1";
    o.account_sid = "ACtest";
    o.auth_token = kToken;
    o.from = "+15145550000";
    o.inbound_url = kUrl;
    return o;
  }());
  const InboundMessages* inbound = channel.inbound();
  if (!inbound) std::abort();
  std::string input(reinterpret_cast<const char*>(data), size);
  auto eol = input.find('\n');
  std::string signature = input.substr(0, eol);
  std::string body = eol == std::string::npos ? "" : input.substr(eol + 1);

  std::vector<std::pair<std::string, std::string>> fields;
  const bool form = form_decode(body, fields);
  const std::string right = form ? twilio_signature(kToken, kUrl, fields) : "";
  auto as_given = inbound->read_inbound(body, {{"x-twilio-signature", signature}});
  if (as_given && signature != right) std::abort();  // accepted without the right signature
  if (!form) return 0;
  auto signed_rightly = inbound->read_inbound(body, {{"x-twilio-signature", right}});
  if (!signed_rightly) {
    if (signed_rightly.error().code == "bad_signature") std::abort();  // its own signature refused
    return 0;
  }
  std::map<std::string, std::string> f(fields.begin(), fields.end());
  if (signed_rightly->from != f["From"] || signed_rightly->body != f["Body"]) std::abort();
  return 0;
}
