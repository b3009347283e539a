#include <catch2/catch.hpp>

#include "core/personal_data.hpp"

using namespace tocsin;

TEST_CASE("phone numbers and e-mail addresses are taken out of a provider's error text") {
  // Twilio's and an SMTP server's own words.
  CHECK(without_personal_data("The 'To' number +15145550101 is not a valid phone number.") ==
        "The 'To' number [phone] is not a valid phone number.");
  CHECK(without_personal_data("SMTP 550: 5.1.1 <marie.gagnon@ville.example>: Recipient address "
                              "rejected: User unknown in virtual mailbox table") ==
        "SMTP 550: 5.1.1 <[email]>: Recipient address rejected: User unknown in virtual mailbox "
        "table");
  CHECK(without_personal_data("unreachable: +1 (514) 555-0101, then 15145550102.") ==
        "unreachable: [phone], then [phone].");
  // The recipient's own address, even in a form the shapes miss.
  CHECK(without_personal_data("no route to 5145550101x", "+15145550101") ==
        "no route to 5145550101x");
  CHECK(without_personal_data("user=15145550101;", "+15145550101") == "user=[recipient];");
  CHECK(without_personal_data("mailbox marie@localhost full", "marie@localhost") ==
        "mailbox [recipient] full");
  // An address that is an id (a console's person, a siren controller) is how the record names it.
  CHECK(without_personal_data("jtremblay has no console open", "jtremblay") ==
        "jtremblay has no console open");
  // What is not personal stays: ids, dates, codes, versions, hosts.
  for (const char* kept :
       {"delivery 01M8S26AW35QFW7Q2VP8Q82AYX failed", "at 2026-12-01T14:09:08Z", "HTTP 503",
        "SMTP 421 4.7.0 try again later", "twilio 21211", "connect to api.twilio.com:443 failed",
        "rdp-1: modbus exception 4", "@ the end", "a@b"})
    CHECK(without_personal_data(kept) == kept);
}
