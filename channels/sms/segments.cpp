#include "channels/sms/segments.hpp"

#include <cstdint>
#include <string>

namespace tocsin::channels::sms {

namespace {

// GSM 03.38 basic character set, as Unicode code points (one septet each).
constexpr std::u32string_view kBasic =
    U"@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    U"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
// The extension table: an escape septet and the character, two septets each.
constexpr std::u32string_view kExtension = U"\f^{}\\[~]|€";

std::size_t segments_for(std::size_t units, std::size_t single, std::size_t multi) {
  if (units == 0) return 0;
  if (units <= single) return 1;
  return (units + multi - 1) / multi;
}

}  // namespace

char32_t next_code_point(std::string_view s, std::size_t& i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  int n = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : 3;
  char32_t cp = n == 0 ? c : n == 1 ? (c & 0x1F) : n == 2 ? (c & 0x0F) : (c & 0x07);
  for (int k = 1; k <= n && i + k < s.size(); ++k)
    cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  i += std::size_t(n) + 1;
  return cp;
}

Segments count_segments(std::string_view text) {
  Segments out;
  std::size_t septets = 0, utf16 = 0;
  for (std::size_t i = 0; i < text.size();) {
    std::size_t start = i;
    char32_t cp = next_code_point(text, i);
    utf16 += cp > 0xFFFF ? 2 : 1;
    if (out.encoding == Encoding::gsm7) {
      if (kBasic.find(cp) != std::u32string_view::npos) {
        septets += 1;
      } else if (kExtension.find(cp) != std::u32string_view::npos) {
        septets += 2;
      } else {
        out.encoding = Encoding::ucs2;
        out.first_non_gsm = std::string(text.substr(start, i - start));
      }
    }
  }
  if (out.encoding == Encoding::gsm7) {
    out.units = septets;
    out.segments = segments_for(septets, 160, 153);
  } else {
    out.units = utf16;
    out.segments = segments_for(utf16, 70, 67);
  }
  return out;
}

}  // namespace tocsin::channels::sms
