#include <catch2/catch.hpp>

#include "channels/sms/segments.hpp"

using namespace tocsin::channels::sms;

TEST_CASE("plain GSM-7 text: 160 in one segment, then 153 per segment") {
  CHECK(count_segments("").segments == 0);
  CHECK(count_segments(std::string(160, 'a')).segments == 1);
  auto two = count_segments(std::string(161, 'a'));
  CHECK(two.encoding == Encoding::gsm7);
  CHECK(two.segments == 2);
  CHECK(count_segments(std::string(306, 'a')).segments == 2);
  CHECK(count_segments(std::string(307, 'a')).segments == 3);
}

TEST_CASE("the GSM extension table counts two septets per character") {
  auto euro = count_segments("Prix: 5€ [promo]");
  CHECK(euro.encoding == Encoding::gsm7);
  CHECK(euro.units == 19);  // 16 characters, 3 of them escaped
  std::string braces(80, '{');
  CHECK(count_segments(braces).segments == 1);  // 160 septets
  CHECK(count_segments(braces + "{").segments == 2);
}

TEST_CASE("accents in the GSM alphabet stay GSM-7, others force UCS-2 (70, then 67)") {
  auto gsm = count_segments("Évacuez les berges, élevé, où, à");
  CHECK(gsm.encoding == Encoding::gsm7);
  auto fr = count_segments("Fermez les fenêtres");  // ê is not in GSM 03.38
  CHECK(fr.encoding == Encoding::ucs2);
  CHECK(fr.first_non_gsm == "ê");
  CHECK(fr.units == 19);
  CHECK(fr.segments == 1);
  std::string base = "ê" + std::string(69, 'a');  // 70 UTF-16 units
  CHECK(count_segments(base).segments == 1);
  CHECK(count_segments(base + "a").segments == 2);                   // 71
  CHECK(count_segments("ê" + std::string(133, 'a')).segments == 2);  // 134 = 2 x 67
  CHECK(count_segments("ê" + std::string(134, 'a')).segments == 3);
}

TEST_CASE("typographic quotes and emoji force UCS-2, and emoji take two UTF-16 units") {
  CHECK(count_segments("l’eau").encoding == Encoding::ucs2);  // U+2019, not '
  auto emoji = count_segments("Alerte 🚨");
  CHECK(emoji.encoding == Encoding::ucs2);
  CHECK(emoji.units == 9);
}
