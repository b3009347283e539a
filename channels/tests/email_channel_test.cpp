// The email channel against a real SMTP server (aiosmtpd).

#include <catch2/catch.hpp>

#include "channels/email/smtp_channel.hpp"
#include "tests/support/smtp_server.hpp"

using namespace tocsin;
using namespace tocsin::channels;
using tocsin::test::SmtpServer;
using Outcome = SendResult::Outcome;

namespace {

struct Mail {
  Delivery delivery;
  Alert alert;
  Message message;
  explicit Mail(const std::string& to, bool is_public = false) {
    delivery.id = "01DELIVERY0000000000000000";
    delivery.channel = "email";
    delivery.recipient = Recipient{"mgagnon", to, "fr"};
    alert.id = "01ALERT0000000000000000000";
    alert.is_public = is_public;
    message = Message{"fr", "Alerte crue : Berges de la rivière des Prairies",
                      "ALERTE CRUE: éloignez-vous des berges.\n\nGravité : grave\n",
                      "<h1>Alerte crue</h1><p>Éloignez-vous des berges.</p>", ""};
  }
  SendRequest request() const { return SendRequest{delivery, alert, message}; }
};

SmtpOptions options(const SmtpServer& s, const std::string& starttls) {
  SmtpOptions o;
  o.url = s.url();
  o.from = "alertes@ville.example";
  o.starttls = starttls;
  o.ca_file = s.ca_file();
  o.unsubscribe_url = "https://ville.example/alertes/desabonnement";
  o.timeout = std::chrono::seconds(10);
  return o;
}

}  // namespace

TEST_CASE(
    "an email arrives over STARTTLS with text and HTML parts, headers in the recipient's "
    "language") {
  SmtpServer server(true, true);
  SmtpChannel email(options(server, "required"));
  Mail m("marie.gagnon@ville.example", true);
  auto r = email.send(m.request());
  INFO(r.detail);
  REQUIRE(r.outcome == Outcome::sent);
  auto messages = server.messages();
  REQUIRE(messages.size() == 1);
  const auto& msg = messages[0];
  CHECK(msg.at("tls").as_bool());
  CHECK(msg.at("mail_from").as_string() == "alertes@ville.example");
  CHECK(msg.at("rcpt_tos").as_array().at(0).as_string() == "marie.gagnon@ville.example");
  const auto& h = msg.at("headers").as_object();
  CHECK(h.at("subject").as_string() == "Alerte crue : Berges de la rivière des Prairies");
  CHECK(h.at("content-language").as_string() == "fr");
  CHECK(h.at("message-id").as_string() == "<01DELIVERY0000000000000000@ville.example>");
  CHECK(h.at("list-unsubscribe").as_string() == "<https://ville.example/alertes/desabonnement>");
  const auto& parts = msg.at("parts").as_object();
  CHECK(parts.at("text/plain").as_string() ==
        "ALERTE CRUE: éloignez-vous des berges.\n\nGravité : grave\n");
  CHECK(parts.at("text/html").as_string() ==
        "<h1>Alerte crue</h1><p>Éloignez-vous des berges.</p>");
}

TEST_CASE("a resident's email carries their own one-click unsubscribe link (RFC 8058)") {
  SmtpServer server;
  SmtpChannel email(options(server, "off"));
  Mail m("ines.roy@exemple.ca");
  m.message.unsubscribe = "https://ville.example/residents/unsubscribe/R1.email.abc?lang=fr";
  REQUIRE(email.send(m.request()).outcome == Outcome::sent);
  const auto h = server.messages().at(0).at("headers").as_object();
  CHECK(h.at("list-unsubscribe").as_string() ==
        "<https://ville.example/residents/unsubscribe/R1.email.abc?lang=fr>");
  CHECK(h.at("list-unsubscribe-post").as_string() == "List-Unsubscribe=One-Click");
}

TEST_CASE("a staff email has no List-Unsubscribe, and text only when there is no HTML") {
  SmtpServer server;
  SmtpChannel email(options(server, "off"));
  Mail m("marie.gagnon@ville.example");
  m.message.html.clear();
  REQUIRE(email.send(m.request()).outcome == Outcome::sent);
  auto msg = server.messages().at(0);
  CHECK(!msg.at("headers").as_object().contains("list-unsubscribe"));
  CHECK(msg.at("parts").as_object().size() == 1);
  CHECK(!msg.at("tls").as_bool());
}

TEST_CASE("STARTTLS required refuses a server without it, and sends nothing in clear") {
  SmtpServer server;  // no STARTTLS
  SmtpChannel email(options(server, "required"));
  auto r = email.send(Mail("marie.gagnon@ville.example").request());
  CHECK(r.outcome == Outcome::retry);
  CHECK(r.reason == "tls");
  CHECK(server.messages().empty());
}

TEST_CASE("an unknown mailbox (550) is a permanent failure, a closed port is retried") {
  SmtpServer server;
  SmtpChannel email(options(server, "off"));
  auto r = email.send(Mail("nobody@ville.example").request());
  CHECK(r.outcome == Outcome::failed);
  CHECK(r.detail.find("SMTP 550") == 0);
  auto o = options(server, "off");
  o.url = "smtp://127.0.0.1:1";
  SmtpChannel closed(o);
  auto c = closed.send(Mail("marie.gagnon@ville.example").request());
  CHECK(c.outcome == Outcome::retry);
  CHECK(c.reason == "connect");
}

TEST_CASE("a line break in the subject (from a sensor's headline) cannot add a header") {
  SmtpServer server;
  SmtpChannel email(options(server, "off"));
  Mail m("marie.gagnon@ville.example");
  m.message.subject = "Crue\r\nBcc: everyone@ville.example";
  REQUIRE(email.send(m.request()).outcome == Outcome::sent);
  auto msg = server.messages().at(0);
  CHECK(!msg.at("headers").as_object().contains("bcc"));
  CHECK(msg.at("rcpt_tos").as_array().size() == 1);
}
