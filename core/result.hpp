#pragma once
// Errors are values at boundaries: a Result holds either a value or an Error that names the field.

#include <string>
#include <utility>
#include <variant>

namespace tocsin {

struct Error {
  std::string code;         // machine-readable, e.g. "invalid_value"
  std::string message;      // for a person; names the field
  std::string field;        // dotted path of the offending field, empty if none
  std::string reason = {};  // a finer name where the code is too coarse for the reader
};

template <class T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}
  Result(Error error) : v_(std::move(error)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const Error& error() const { return std::get<1>(v_); }

  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() { return value(); }

 private:
  std::variant<T, Error> v_;
};

}  // namespace tocsin
