#pragma once
// JSON as people write it. Boost.JSON 1.81 prints every double in exponent form (4.2 as 4.2E0, a
// latitude 45.5599 as 4.55599E1); every JSON text Tocsin writes (API answers, the live feed, the
// outbox, webhooks, Redis, the journal's events) goes through json_text instead, which prints a
// double in its shortest form that reads back the same (std::to_chars): 4.2, 45.5599, 4.0, 1e+21. A
// double that is not finite (JSON has none) is written null. Strings are escaped as RFC 8259
// asks: the quote, the backslash and the control characters; the rest is UTF-8 as it was.

#include <string>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

namespace tocsin {

std::string json_text(const boost::json::value& v);
std::string json_text(const boost::json::object& o);  // without a copy into a value
std::string json_text(const boost::json::array& a);
void append_json(std::string& out, const boost::json::value& v);

}  // namespace tocsin
