#include <catch2/catch.hpp>

#include "broker/oncall/staff_pages.hpp"

using namespace tocsin;

namespace {

const std::string kKey(64, 'a');

Delivery page_to(const std::string& channel, const std::string& language) {
  Delivery d;
  d.id = "01KDELIVERY0000000000000000";
  d.incident_id = "01KINCIDENT0000000000000000";
  d.channel = channel;
  d.recipient = {"mgagnon", channel == "sms" ? "+15145550101" : "m@ville.example", language};
  return d;
}

Alert staff_alert() {
  Alert a;
  a.kind = "notify";
  return a;
}

}  // namespace

TEST_CASE("a staff page gets its link, a public alert none, and an SMS too long goes without") {
  OneTap links(kKey, "https://alertes.ville.example/");
  StaffPages pages(&links, nullptr);
  Message m{"fr", "", "Tocsin: crue riverside.", "", ""};
  auto sms = pages.decorate(page_to("sms", "fr"), staff_alert(), m, 3);
  REQUIRE(sms);
  CHECK(sms->text.rfind("Tocsin: crue riverside.\nConfirmer : https://alertes.ville.example/a/",
                        0) == 0);
  // The link names its delivery and opens only it.
  auto path = sms->text.substr(sms->text.find("/a/") + 3);
  auto claim = links.verify(path, now());
  REQUIRE(claim);
  CHECK(claim->delivery_id == "01KDELIVERY0000000000000000");
  auto english = pages.decorate(page_to("sms", "en"), staff_alert(), m, 3);
  REQUIRE(english);
  CHECK(english->text.find("\nAcknowledge: https://") != std::string::npos);

  Alert open = staff_alert();
  open.is_public = true;
  CHECK_FALSE(pages.decorate(page_to("sms", "fr"), open, m, 3));
  Alert siren = staff_alert();
  siren.kind = "siren";
  CHECK_FALSE(pages.decorate(page_to("sms", "fr"), siren, m, 3));

  // One segment of GSM-7 is 160 characters: a 150-character page has no room for the link.
  Message full{"fr", "", std::string(150, 'x'), "", ""};
  CHECK_FALSE(pages.decorate(page_to("sms", "fr"), staff_alert(), full, 1));
  CHECK(pages.decorate(page_to("sms", "fr"), staff_alert(), full, 0));  // no limit

  // E-mail: in the text, and as a link in the HTML.
  Message mail{"fr", "Crue", "Texte.", "<p>Texte.</p>", ""};
  auto email = pages.decorate(page_to("email", "fr"), staff_alert(), mail, 0);
  REQUIRE(email);
  CHECK(email->text.find("Accuser réception en un geste : https://alertes.ville.example/a/") !=
        std::string::npos);
  CHECK(email->html.find("<a href=\"https://alertes.ville.example/a/") != std::string::npos);
}

TEST_CASE("a link altered, spliced, signed with another key or out of date is refused") {
  OneTap links(kKey, "https://x.example");
  OneTap other(std::string(64, 'b'), "https://x.example");
  auto path = [](const std::string& url) { return url.substr(url.find("/a/") + 3); };
  const std::string good = path(links.link("D1", now() + std::chrono::hours(1)));
  CHECK(links.verify(good, now()));
  CHECK(links.verify(good.substr(0, good.size() - 1) + (good.back() == 'A' ? "B" : "A"), now())
            .error()
            .code == "not_found");
  CHECK(links.verify("D2" + good.substr(2), now()).error().code == "not_found");
  CHECK(other.verify(good, now()).error().code == "not_found");
  CHECK(links.verify(path(links.link("D1", now() - std::chrono::minutes(2))), now()).error().code ==
        "expired");
  CHECK(links.verify("", now()).error().code == "not_found");
  CHECK(links.verify(std::string(200, '.'), now()).error().code == "not_found");
}
