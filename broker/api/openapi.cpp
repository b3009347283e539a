#include "broker/api/openapi.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <stdexcept>

#include <yaml-cpp/yaml.h>
#include <boost/json.hpp>

#include "broker/build_info.hpp"

namespace tocsin {

namespace json = boost::json;

extern const char* const kOpenApiYaml;  // openapi_document.cpp, generated from docs/openapi.yaml

namespace {

// YAML's plain scalars typed as YAML 1.2's core schema types them (true, 12, -90, 4.5, null);
// a quoted one is always a string ("200", "0").
json::value scalar(const YAML::Node& n) {
  const std::string& s = n.Scalar();
  if (n.Tag() == "!") return json::string(s);
  if (s == "true") return true;
  if (s == "false") return false;
  if (s == "null" || s == "~") return nullptr;
  std::int64_t i = 0;
  if (auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), i);
      ec == std::errc() && end == s.data() + s.size())
    return i;
  double d = 0;
  if (!s.empty() && (std::isdigit((unsigned char)s[0]) || s[0] == '-'))
    if (auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
        ec == std::errc() && end == s.data() + s.size())
      return d;
  return json::string(s);
}

json::value to_json(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map: {
      json::object o;
      for (const auto& kv : n) o[kv.first.Scalar()] = to_json(kv.second);
      return o;
    }
    case YAML::NodeType::Sequence: {
      json::array a;
      for (const auto& item : n) a.push_back(to_json(item));
      return a;
    }
    case YAML::NodeType::Scalar:
      return scalar(n);
    default:
      return nullptr;
  }
}

}  // namespace

const boost::json::value& openapi_document() {
  static const json::value document = [] {
    json::value v = to_json(YAML::Load(kOpenApiYaml));
    v.as_object()["info"].as_object()["version"] = kVersion;
    return v;
  }();
  return document;
}

std::vector<std::string> openapi_operations(const boost::json::value& document) {
  static const char* methods[] = {"get", "put", "post", "delete", "patch", "head", "options"};
  std::vector<std::string> out;
  for (const auto& [path, item] : document.at("paths").as_object())
    for (const char* m : methods)
      if (item.as_object().contains(m)) {
        std::string upper(m);
        std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
        out.push_back(upper + " " + std::string(path));
      }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace tocsin
