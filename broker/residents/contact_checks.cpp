#include "broker/residents/contact_checks.hpp"

#include <phonenumbers/phonenumberutil.h>

#include <algorithm>

namespace tocsin {

namespace pn = i18n::phonenumbers;

bool known_country(const std::string& code) {
  std::set<std::string> regions;
  pn::PhoneNumberUtil::GetInstance()->GetSupportedRegions(&regions);
  return regions.count(code) > 0;
}

Result<std::string> mobile_number(std::string_view text, const std::vector<std::string>& countries,
                                  const std::string& field) {
  if (text.empty()) return Error{"invalid", "a phone number is empty", field};
  if (text.size() > 32)
    return Error{"too_large", "a phone number has at most 32 characters", field};
  const auto* util = pn::PhoneNumberUtil::GetInstance();
  pn::PhoneNumber number;
  const std::string home = countries.empty() ? "CA" : countries.front();
  if (util->Parse(std::string(text), home, &number) != pn::PhoneNumberUtil::NO_PARSING_ERROR ||
      !util->IsValidNumber(number))
    return Error{"invalid", "not a phone number that can be reached (e.g. 514 555-0101)", field};
  std::string region;
  util->GetRegionCodeForNumber(number, &region);
  if (std::find(countries.begin(), countries.end(), region) == countries.end()) {
    std::string allowed;
    for (const auto& c : countries) allowed += (allowed.empty() ? "" : ", ") + c;
    return Error{"invalid",
                 "a number of " + region + "; this city sends text messages to numbers of " +
                     allowed + " only",
                 field};
  }
  const auto type = util->GetNumberType(number);
  if (type != pn::PhoneNumberUtil::MOBILE && type != pn::PhoneNumberUtil::FIXED_LINE_OR_MOBILE)
    return Error{"invalid", "not a mobile number: it cannot receive text messages", field};
  std::string e164;
  util->Format(number, pn::PhoneNumberUtil::E164, &e164);
  return e164;
}

Result<std::string> email_address(std::string_view text, const std::string& field) {
  if (text.size() > 254)
    return Error{"too_large", "an e-mail address has at most 254 characters", field};
  const auto at = text.find('@');
  const bool shaped = at != std::string_view::npos && at > 0 && at == text.rfind('@') &&
                      text.find('.', at) != std::string_view::npos && text.back() != '.' &&
                      text[at + 1] != '.';
  const bool clean = std::none_of(text.begin(), text.end(), [](char c) {
    return static_cast<unsigned char>(c) <= ' ' || c == '<' || c == '>' || c == ',' || c == ';' ||
           c == '"' || c == '\\' || c == 0x7f;
  });
  if (!shaped || !clean)
    return Error{"invalid", "not an e-mail address (e.g. nom@exemple.ca)", field};
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return char(std::tolower(c)); });
  return lower;
}

}  // namespace tocsin
