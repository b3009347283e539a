#pragma once
// How many SMS segments a text takes. A message that fits the GSM 03.38 alphabet (7-bit, with
// the escape table counting twice) takes 160 characters in one segment and 153 per segment when
// concatenated; anything else (most French accents: é is GSM, but ê, â, î, ô, û, ç, œ are not)
// forces UCS-2: 70 characters alone, 67 per segment concatenated. UCS-2 counts UTF-16 code units.

#include <cstddef>
#include <string>
#include <string_view>

namespace tocsin::channels::sms {

enum class Encoding { gsm7, ucs2 };

struct Segments {
  Encoding encoding = Encoding::gsm7;
  std::size_t units = 0;      // septets (GSM-7) or UTF-16 code units (UCS-2)
  std::size_t segments = 0;   // 0 for an empty text
  std::string first_non_gsm;  // the first character that forced UCS-2, for messages
};

// `text` must be valid UTF-8.
Segments count_segments(std::string_view text);

// The code point at byte i of valid UTF-8, advancing i past it.
char32_t next_code_point(std::string_view s, std::size_t& i);

}  // namespace tocsin::channels::sms
