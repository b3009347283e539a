#include "core/json_text.hpp"

#include <charconv>
#include <cmath>
#include <utility>

#include <boost/json.hpp>

namespace tocsin {

namespace json = boost::json;

namespace {

void append_string(std::string& out, json::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (u < 0x20) {
          out += "\\u00";
          out += kHex[u >> 4];
          out += kHex[u & 0xf];
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

template <class Number>
void append_number(std::string& out, Number n) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
  out.append(buf, end);
}

void append_array(std::string& out, const json::array& a) {
  out += '[';
  bool first = true;
  for (const auto& e : a) {
    if (!std::exchange(first, false)) out += ',';
    append_json(out, e);
  }
  out += ']';
}

void append_object(std::string& out, const json::object& o) {
  out += '{';
  bool first = true;
  for (const auto& [key, e] : o) {
    if (!std::exchange(first, false)) out += ',';
    append_string(out, key);
    out += ':';
    append_json(out, e);
  }
  out += '}';
}

}  // namespace

void append_json(std::string& out, const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      out += "null";
      break;
    case json::kind::bool_:
      out += v.get_bool() ? "true" : "false";
      break;
    case json::kind::int64:
      append_number(out, v.get_int64());
      break;
    case json::kind::uint64:
      append_number(out, v.get_uint64());
      break;
    case json::kind::double_:
      if (!std::isfinite(v.get_double())) {
        out += "null";
      } else {
        // A whole number keeps its ".0", so that it reads back as a double (4.0, not 4).
        const std::size_t from = out.size();
        append_number(out, v.get_double());
        if (out.find_first_of(".e", from) == std::string::npos) out += ".0";
      }
      break;
    case json::kind::string:
      append_string(out, v.get_string());
      break;
    case json::kind::array:
      append_array(out, v.get_array());
      break;
    case json::kind::object:
      append_object(out, v.get_object());
      break;
  }
}

template <class T, void (*append)(std::string&, const T&)>
std::string text_of(const T& v) {
  std::string out;
  append(out, v);
  return out;
}

std::string json_text(const json::value& v) {
  return text_of<json::value, append_json>(v);
}
std::string json_text(const json::object& o) {
  return text_of<json::object, append_object>(o);
}
std::string json_text(const json::array& a) {
  return text_of<json::array, append_array>(a);
}

}  // namespace tocsin
