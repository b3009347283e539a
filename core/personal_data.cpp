#include "core/personal_data.hpp"

#include <algorithm>
#include <cctype>

namespace tocsin {

namespace {

bool local_char(unsigned char c) {
  return std::isalnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}
bool domain_char(unsigned char c) {
  return std::isalnum(c) || c == '.' || c == '-';
}
bool digit(unsigned char c) {
  return c >= '0' && c <= '9';
}
bool phone_separator(unsigned char c) {
  return c == ' ' || c == '.' || c == '-' || c == '(' || c == ')';
}

void replace_all(std::string& s, std::string_view what, std::string_view with) {
  if (what.size() < 3) return;  // too short to be an address; would match anywhere
  for (auto at = s.find(what); at != std::string::npos; at = s.find(what, at + with.size()))
    s.replace(at, what.size(), with);
}

// E-mail addresses: a local part, an @, a domain with a dot.
std::string emails_out(const std::string& s) {
  std::string out;
  std::size_t copied = 0;
  for (std::size_t at = s.find('@'); at != std::string::npos; at = s.find('@', at + 1)) {
    std::size_t begin = at, end = at + 1;
    while (begin > copied && local_char(static_cast<unsigned char>(s[begin - 1]))) --begin;
    while (end < s.size() && domain_char(static_cast<unsigned char>(s[end]))) ++end;
    while (end > at + 1 && s[end - 1] == '.') --end;  // a sentence's full stop
    std::string_view domain(s.data() + at + 1, end - at - 1);
    if (begin == at || domain.find('.') == std::string_view::npos) continue;
    out.append(s, copied, begin - copied).append("[email]");
    copied = end;
    at = end - 1;
  }
  return out.append(s, copied);
}

// Phone numbers: +, then digits and separators with at least 7 digits; or 10 digits in a row.
std::string phones_out(const std::string& s) {
  std::string out;
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    const bool starts =
        (c == '+' && i + 1 < s.size() && digit(s[i + 1])) ||
        (digit(c) && (i == 0 || !std::isalnum(static_cast<unsigned char>(s[i - 1]))));
    if (!starts) {
      out += s[i++];
      continue;
    }
    std::size_t end = i + (c == '+' ? 1 : 0), digits = 0, last_digit = end, run = 0, longest = 0;
    for (; end < s.size(); ++end) {
      const auto d = static_cast<unsigned char>(s[end]);
      if (digit(d)) {
        ++digits;
        longest = std::max(longest, ++run);
        last_digit = end + 1;
      } else if (c == '+' && phone_separator(d)) {
        run = 0;
      } else {
        break;
      }
    }
    const bool letter_after =
        last_digit < s.size() && std::isalpha(static_cast<unsigned char>(s[last_digit]));
    if (!letter_after && ((c == '+' && digits >= 7) || longest >= 10)) {
      out += "[phone]";
      i = last_digit;
    } else {
      out.append(s, i, last_digit - i);
      i = last_digit;
    }
  }
  return out;
}

}  // namespace

std::string without_personal_data(std::string_view text, std::string_view address) {
  if (text.empty()) return {};  // a send that went well: nothing to scan
  std::string s(text);
  // Only an address that is personal: an e-mail address or a phone number (a console's address
  // is its person's id, a siren's its controller's: those are how the record names them).
  const auto digits =
      std::count_if(address.begin(), address.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (address.find('@') != std::string_view::npos || digits >= 7) {
    replace_all(s, address, "[recipient]");
    if (address.front() == '+') replace_all(s, address.substr(1), "[recipient]");
  }
  return phones_out(emails_out(s));
}

}  // namespace tocsin
