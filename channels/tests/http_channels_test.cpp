// The SMS and webhook channels against a real HTTPS server speaking the provider's wire format.

#include <catch2/catch.hpp>

#include "channels/sms/twilio_channel.hpp"
#include "channels/webhook/webhook_channel.hpp"
#include "tests/support/fake_provider.hpp"

using namespace tocsin;
using namespace tocsin::channels;
using tocsin::test::FakeProvider;
using Outcome = SendResult::Outcome;

namespace {

TwilioOptions twilio(const FakeProvider& p,
                     std::chrono::seconds timeout = std::chrono::seconds(5)) {
  return TwilioOptions{p.base_url(), p.sid(), p.token(), "+15145550000", "", p.ca_file(), timeout};
}

struct Send {
  Delivery delivery;
  Alert alert;
  Message message;
  explicit Send(const std::string& to) {
    delivery.id = "01DELIVERY0000000000000000";
    delivery.channel = "sms";
    delivery.recipient = Recipient{"mgagnon", to, "fr"};
    alert.id = "01ALERT0000000000000000000";
    message = Message{"fr", "", "ALERTE CRUE: éloignez-vous des berges & restez à l'abri", "", ""};
  }
  SendResult through(Channel& c) { return c.send(SendRequest{delivery, alert, message}); }
};

std::string field(const boost::json::object& request, const char* name) {
  return std::string(request.at("form").at(name).as_string());
}

}  // namespace

TEST_CASE("an SMS is POSTed form-encoded with basic auth and an idempotency key, its sid kept") {
  FakeProvider provider;
  TwilioChannel sms(twilio(provider));
  Send s("+15145550101");
  auto r = s.through(sms);
  CHECK(r.outcome == Outcome::sent);
  CHECK(r.provider_ref == "SM00000000000000000000000000000001");
  auto requests = provider.requests();
  REQUIRE(requests.size() == 1);
  const auto& req = requests[0];
  CHECK(req.at("path").as_string() == "/2010-04-01/Accounts/ACtest/Messages.json");
  CHECK(field(req, "To") == "+15145550101");
  CHECK(field(req, "From") == "+15145550000");
  CHECK(field(req, "Body") == "ALERTE CRUE: éloignez-vous des berges & restez à l'abri");
  CHECK(req.at("headers").at("idempotency-key").as_string() == "01DELIVERY0000000000000000");
  CHECK(req.at("headers").at("content-type").as_string() == "application/x-www-form-urlencoded");
}

TEST_CASE("429 is retried after Retry-After, 500 is retried, 400 is refused for good") {
  FakeProvider provider(
      {{"+15145550429", {"429:7"}}, {"+15145550500", {"500"}}, {"+15005550001", {"400"}}});
  TwilioChannel sms(twilio(provider));
  auto busy = Send("+15145550429").through(sms);
  CHECK(busy.outcome == Outcome::retry);
  CHECK(busy.reason == "http_429");
  REQUIRE(busy.retry_after);
  CHECK(*busy.retry_after == std::chrono::seconds(7));
  auto down = Send("+15145550500").through(sms);
  CHECK(down.outcome == Outcome::retry);
  CHECK(down.reason == "http_5xx");
  auto bad = Send("+15005550001").through(sms);
  CHECK(bad.outcome == Outcome::failed);
  CHECK(bad.detail.find("21211") != std::string::npos);
  CHECK(Send("+15145550429").through(sms).outcome == Outcome::sent);  // its script is used up
}

TEST_CASE("a slow provider is a timeout, retried, not a hang") {
  FakeProvider provider(
      std::map<std::string, std::vector<std::string>>{{"+15145550999", {"slow:5"}}});
  TwilioChannel sms(twilio(provider, std::chrono::seconds(1)));
  auto started = std::chrono::steady_clock::now();
  auto r = Send("+15145550999").through(sms);
  CHECK(r.outcome == Outcome::retry);
  CHECK(r.reason == "timeout");
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(4));
}

TEST_CASE("a provider whose certificate we do not trust gets nothing") {
  FakeProvider provider;
  auto options = twilio(provider);
  options.ca_file = "";  // the system's CAs: the fake's self-signed certificate is not among them
  TwilioChannel sms(options);
  auto r = Send("+15145550101").through(sms);
  CHECK(r.outcome == Outcome::retry);
  CHECK(r.reason == "tls");
  CHECK(r.detail.find("certificate verify failed") != std::string::npos);
  CHECK(provider.requests().empty());
}

TEST_CASE("wrong credentials are refused, and the token never appears in the error") {
  FakeProvider provider;
  auto options = twilio(provider);
  options.auth_token = "not-the-token";
  TwilioChannel sms(options);
  auto r = Send("+15145550101").through(sms);
  CHECK(r.outcome == Outcome::failed);
  CHECK(r.detail.find("HTTP 401") == 0);
  CHECK(r.detail.find("not-the-token") == std::string::npos);
}

TEST_CASE("a webhook carries the alert as JSON with an HMAC-SHA256 signature over time and body") {
  FakeProvider provider;
  WebhookChannel hook(
      WebhookOptions{provider.base_url() + "/hooks/tocsin", "hook-secret", provider.ca_file()});
  Send s("");
  s.alert.kind = "notify";
  s.alert.is_public = true;
  s.alert.template_name = "flood-public";
  CHECK(hook.send(SendRequest{s.delivery, s.alert, s.message}).outcome == Outcome::sent);
  auto requests = provider.requests();
  REQUIRE(requests.size() == 1);
  const auto& req = requests[0];
  CHECK(req.at("path").as_string() == "/hooks/tocsin");
  std::string body(req.at("body").as_string());
  auto alert = boost::json::parse(body).at("alert");
  CHECK(alert.at("id").as_string() == "01ALERT0000000000000000000");
  CHECK(alert.at("public").as_bool());
  std::string sig(req.at("headers").at("x-tocsin-signature").as_string());
  auto comma = sig.find(",v1=");
  REQUIRE(sig.rfind("t=", 0) == 0);
  REQUIRE(comma != std::string::npos);
  std::string t = sig.substr(2, comma - 2);
  CHECK(sig.substr(comma + 4) == hmac_sha256_hex("hook-secret", t + "." + body));
  CHECK(sig.substr(comma + 4) != hmac_sha256_hex("other-secret", t + "." + body));
}

TEST_CASE("Twilio's status callback signature: URL, then fields sorted by name") {
  // The example of Twilio's helper-library documentation on validating requests, fields given
  // out of order.
  std::vector<std::pair<std::string, std::string>> fields{{"To", "+18005551212"},
                                                          {"CallSid", "CA1234567890ABCDE"},
                                                          {"Caller", "+14158675309"},
                                                          {"Digits", "1234"},
                                                          {"From", "+14158675309"}};
  CHECK(twilio_signature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", fields) ==
        "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
}
