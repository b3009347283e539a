#pragma once
// Text messages through the SMS provider: what it was asked to send to a number, and a message
// from a phone as Twilio's incoming-message webhook posts it to Tocsin, signed
// (X-Twilio-Signature), with the TwiML answer's text.

#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <vector>

#include "tests/support/fake_provider.hpp"
#include "tests/support/process.hpp"
#include "tests/support/tocsin_server.hpp"

namespace tocsin::test {

inline const std::string kInbound = "https://alertes.ville.example/api/v1/inbound/sms";

// The SMS bodies the provider was asked to send to `to`, in order.
inline std::vector<std::string> sent_to(const FakeProvider& provider, const std::string& to) {
  std::vector<std::string> out;
  for (const auto& r : provider.requests())
    if (r.contains("form") && r.at("form").at("To").as_string() == to)
      out.emplace_back(r.at("form").at("Body").as_string());
  return out;
}

// What Twilio posts when `from` texts `body` to the service's number, signed as Twilio signs
// (HMAC-SHA1 over the webhook's URL and the sorted fields, by Python's hmac).
inline std::optional<HttpResponse> reply(const TocsinServer& server, const std::string& token,
                                         const std::string& from, const std::string& body,
                                         bool forged = false) {
  auto r = run_command({"/usr/bin/python3", "-c",
                        "import sys,hmac,hashlib,base64,urllib.parse\n"
                        "token,url,frm,body=sys.argv[1:5]\n"
                        "f={'From':frm,'To':'+15145550000','Body':body,'MessageSid':'SMinbound','"
                        "AccountSid':'ACtest'}\n"
                        "d=url+''.join(k+f[k] for k in sorted(f))\n"
                        "print(base64.b64encode(hmac.new(token.encode(),d.encode(),hashlib.sha1)."
                        "digest()).decode())\n"
                        "print(urllib.parse.urlencode(f))",
                        forged ? "not-the-token" : token, kInbound, from, body},
                       std::chrono::seconds(10));
  REQUIRE(r.exit_code == 0);
  auto eol = r.output.find('\n');
  std::string signature = r.output.substr(0, eol);
  std::string form = r.output.substr(eol + 1);
  form.erase(form.find_last_not_of("\n") + 1);
  return http_request(server.http_port(), "POST", "/api/v1/inbound/sms", form,
                      "application/x-www-form-urlencoded", {{"X-Twilio-Signature", signature}});
}

// The text the provider would send back: the TwiML Message, its entities decoded.
inline std::string message_of(const HttpResponse& r) {
  auto at = r.body.find("<Message>");
  if (at == std::string::npos) return "";
  std::string text = r.body.substr(at + 9, r.body.find("</Message>") - at - 9);
  for (auto [entity, c] : {std::pair{"&#39;", "'"}, std::pair{"&quot;", "\""},
                           std::pair{"&lt;", "<"}, std::pair{"&gt;", ">"}, std::pair{"&amp;", "&"}})
    for (auto p = text.find(entity); p != std::string::npos; p = text.find(entity, p + 1))
      text.replace(p, std::string(entity).size(), c);
  return text;
}

}  // namespace tocsin::test
