#pragma once
// The named checks every JSON body goes through, wherever it arrives: a report or a staff action
// over ZeroMQ, an HTTP request, a composed alert. Each failure is an Error naming its field
// ("note: must be a string of at most 2048 bytes", field "note"), so an answer can say which
// field to fix.

#include <cstddef>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>
#include <boost/json/storage_ptr.hpp>
#include <boost/json/value.hpp>

#include "core/result.hpp"

namespace tocsin {

// "field: message", with the field named.
Error field_error(std::string code, std::string field, std::string message);

// An HTTP body's Content-Type is application/json (parameters such as charset allowed).
std::optional<Error> require_json(std::string_view content_type);

// A body that must be one JSON object: at most max_bytes (too_large), valid UTF-8 (not_utf8),
// JSON (not_json), nested at most max_depth levels (too_deep), an object (wrong_type).
// `storage`: where the parsed value lives (a caller's stack buffer on the ingest path).
Result<boost::json::value> json_object_body(std::string_view body, std::size_t max_bytes,
                                            std::size_t max_depth = 32,
                                            boost::json::storage_ptr storage = {});

bool is_valid_utf8(std::string_view text);
bool has_control_chars(std::string_view s, bool allow_newlines);

// Reads the fields of one JSON object and reports the first problem, naming the field with its
// path (prefix.key).
class FieldReader {
 public:
  FieldReader(const boost::json::object& obj, std::string prefix = {})
      : obj_(obj), prefix_(std::move(prefix)) {}

  std::string path(std::string_view key) const {
    return prefix_.empty() ? std::string(key) : prefix_ + "." + std::string(key);
  }
  const boost::json::value* find(std::string_view key) const { return obj_.if_contains(key); }

  // Every key is one of `allowed` (unknown_field).
  std::optional<Error> only(std::initializer_list<std::string_view> allowed) const;
  // A string of at most max_bytes, without control characters (newlines and tabs only if
  // allowed); required: present and not empty. Absent or null: `out` is left as it is.
  std::optional<Error> text(std::string_view key, bool required, std::size_t max_bytes,
                            std::string& out, bool allow_newlines = false) const;
  // A finite number, required.
  std::optional<Error> number(std::string_view key, double& out) const;
  // true or false, if present.
  std::optional<Error> boolean(std::string_view key, bool& out) const;
  // An object of one text per language, each of `languages`, each at most max_bytes: {"fr": …,
  // "en": …}. Absent: `out` is left empty.
  std::optional<Error> by_language(std::string_view key,
                                   std::initializer_list<std::string_view> languages,
                                   std::size_t max_bytes,
                                   std::map<std::string, std::string>& out) const;

 private:
  const boost::json::object& obj_;
  std::string prefix_;
};

}  // namespace tocsin
