#include "core/json_body.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include <boost/json.hpp>

namespace tocsin {

namespace json = boost::json;

Error field_error(std::string code, std::string field, std::string message) {
  return Error{std::move(code), field + ": " + message, std::move(field)};
}

std::optional<Error> require_json(std::string_view content_type) {
  if (content_type.substr(0, content_type.find(';')) == "application/json") return std::nullopt;
  return Error{"unsupported_media_type", "Content-Type: send application/json", "Content-Type"};
}

Result<json::value> json_object_body(std::string_view body, std::size_t max_bytes,
                                     std::size_t max_depth, json::storage_ptr storage) {
  if (body.size() > max_bytes)
    return Error{"too_large",
                 "body: " + std::to_string(body.size()) + " bytes is over the limit of " +
                     std::to_string(max_bytes),
                 "body"};
  if (!is_valid_utf8(body)) return Error{"not_utf8", "body: is not valid UTF-8", "body"};
  json::parse_options opts;
  opts.max_depth = max_depth;
  boost::system::error_code ec;
  json::value v =
      json::parse(json::string_view(body.data(), body.size()), ec, std::move(storage), opts);
  if (ec == json::error::too_deep)
    return Error{"too_deep",
                 "body: JSON nested deeper than " + std::to_string(max_depth) + " levels", "body"};
  if (ec) return Error{"not_json", "body: is not valid JSON (" + ec.message() + ")", "body"};
  if (!v.is_object()) return Error{"wrong_type", "body: must be a JSON object", "body"};
  return v;
}

bool is_valid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    int n;
    std::uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (end - p <= n) return false;
    for (int i = 1; i <= n; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i] & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    p += n + 1;
  }
  return true;
}

bool has_control_chars(std::string_view s, bool allow_newlines) {
  for (unsigned char c : s) {
    if (c == 0x7F || (c < 0x20 && !(allow_newlines && (c == '\n' || c == '\r' || c == '\t'))))
      return true;
  }
  return false;
}

std::optional<Error> FieldReader::only(std::initializer_list<std::string_view> allowed) const {
  for (const auto& kv : obj_)
    if (std::find(allowed.begin(), allowed.end(), std::string_view(kv.key())) == allowed.end())
      return field_error("unknown_field", path(kv.key()), "is not a known field");
  return std::nullopt;
}

std::optional<Error> FieldReader::text(std::string_view key, bool required, std::size_t max_bytes,
                                       std::string& out, bool allow_newlines) const {
  const json::value* v = find(key);
  if (!v || v->is_null()) {
    if (required) return field_error("missing_field", path(key), "is required");
    return std::nullopt;
  }
  if (!v->is_string()) return field_error("wrong_type", path(key), "must be a string");
  const json::string& s = v->get_string();
  if (required && s.empty()) return field_error("invalid_value", path(key), "must not be empty");
  if (s.size() > max_bytes)
    return field_error("too_long", path(key),
                       "is longer than " + std::to_string(max_bytes) + " bytes");
  if (has_control_chars(s, allow_newlines))
    return field_error("invalid_value", path(key), "contains control characters");
  out.assign(s.data(), s.size());
  return std::nullopt;
}

std::optional<Error> FieldReader::number(std::string_view key, double& out) const {
  const json::value* v = find(key);
  if (!v) return field_error("missing_field", path(key), "is required");
  if (!v->is_number()) return field_error("wrong_type", path(key), "must be a number");
  out = v->to_number<double>();
  if (!std::isfinite(out)) return field_error("invalid_value", path(key), "must be finite");
  return std::nullopt;
}

std::optional<Error> FieldReader::boolean(std::string_view key, bool& out) const {
  const json::value* v = find(key);
  if (!v) return std::nullopt;
  if (!v->is_bool()) return field_error("wrong_type", path(key), "must be true or false");
  out = v->get_bool();
  return std::nullopt;
}

std::optional<Error> FieldReader::by_language(std::string_view key,
                                              std::initializer_list<std::string_view> languages,
                                              std::size_t max_bytes,
                                              std::map<std::string, std::string>& out) const {
  const json::value* v = find(key);
  if (!v) return std::nullopt;
  if (!v->is_object()) {
    std::string list;
    for (auto l : languages) list += (list.empty() ? "\"" : ", \"") + std::string(l) + "\": …";
    return field_error("wrong_type", path(key), "must be an object {" + list + "}");
  }
  FieldReader each(v->get_object(), path(key));
  if (auto e = each.only(languages)) return e;
  for (auto language : languages) {
    std::string text;
    if (auto e = each.text(language, true, max_bytes, text, true)) return e;
    out[std::string(language)] = std::move(text);
  }
  return std::nullopt;
}

}  // namespace tocsin
