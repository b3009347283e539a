#pragma once
// What a resident gives to be reached, checked before anything is stored: a mobile number in a
// national or international format, turned into E.164 with libphonenumber and accepted only
// from the countries the city allows; an e-mail address of a plausible shape.

#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace tocsin {

// E.164 ("+15145550101"), or an error naming `field`: not a number, a number of another country
// than `countries` (ISO 3166 codes, e.g. CA), or one that cannot receive SMS (toll-free, premium).
// The first country is the one a national format (514 555-0101) is read in.
Result<std::string> mobile_number(std::string_view text, const std::vector<std::string>& countries,
                                  const std::string& field);

// The address in lower case, or an error naming `field`.
Result<std::string> email_address(std::string_view text, const std::string& field);

// Whether libphonenumber knows `code` as a region (residents.allowed_countries is checked).
bool known_country(const std::string& code);

}  // namespace tocsin
