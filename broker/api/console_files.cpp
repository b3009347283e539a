// /console: the console's static files (web/), plain names only.
#include "broker/api/api.hpp"

#include <algorithm>
#include <fstream>
#include <iterator>

#include "broker/api/responses.hpp"

namespace tocsin {

namespace json = boost::json;

ApiResponse Api::static_file(const std::string& path) const {
  std::string name = path == "/console" || path == "/console/" ? "index.html" : path.substr(9);
  // Only plain names of the files web/ ships: no directories, no dots but the extension's.
  static const std::map<std::string, std::string> kTypes{{".html", "text/html; charset=utf-8"},
                                                         {".js", "text/javascript; charset=utf-8"},
                                                         {".css", "text/css; charset=utf-8"},
                                                         {".svg", "image/svg+xml"},
                                                         {".json", "application/json"}};
  auto dot = name.find('.');
  bool plain = !name.empty() && name.size() <= 64 && dot != std::string::npos &&
               name.find('.', dot + 1) == std::string::npos &&
               std::all_of(name.begin(), name.end(), [](char c) {
                 return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
               });
  auto type = plain ? kTypes.find(name.substr(dot)) : kTypes.end();
  if (type == kTypes.end() || web_dir_.empty())
    return error(404, Error{"not_found", "path: no such file " + path, "path"});
  std::ifstream in(web_dir_ / name, std::ios::binary);
  if (!in) return error(404, Error{"not_found", "path: no such file " + path, "path"});
  std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ApiResponse r{200, type->second, std::move(body), {}};
  // The console's own code only: no framing, no scripts or connections elsewhere.
  r.headers["Content-Security-Policy"] =
      "default-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'";
  r.headers["X-Content-Type-Options"] = "nosniff";
  return r;
}

}  // namespace tocsin
