#pragma once
// The HTTP API's route table: each route a method, a path pattern, the scope it needs and its
// handler, declared in one place (Api::routes) instead of an if-chain with a second list of
// paths for the scopes. Patterns are segments: literals, {name} (one segment, captured) and a
// trailing * (the rest of the path, captured as "*").

#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace tocsin {

struct ApiRequest;
struct ApiResponse;

// A query string's parameters, names and values URL-decoded ("a+b" is "a b", "%C3%A9" is "é").
// The one parser for the API and the WebSocket paths.
using Query = std::map<std::string, std::string>;
Query parse_query(std::string_view query);
std::string url_decode(std::string_view s);

// What a route's pattern captured: {id} → params.at("id").
using Params = std::map<std::string, std::string, std::less<>>;

template <class Respond>
class RouteTable {
 public:
  using Handler = std::function<void(ApiRequest&, const Params&, const Query&, Respond)>;
  struct Route {
    std::string method;
    std::vector<std::string> pattern;   // segments
    std::string scope;                  // "" public; read, ingest, operate, approve, admin
    const bool* public_when = nullptr;  // set and true: public after all (/health, /metrics)
    Handler handler;
    std::string needs() const { return public_when && *public_when ? "" : scope; }
  };
  struct Match {
    const Route* route = nullptr;       // the route for this method and path
    const Route* path_route = nullptr;  // a route of this path for another method (405)
    std::string allow;                  // the methods this path takes, for a 405's Allow
    Params params;
  };

  void add(std::string method, std::string_view pattern, std::string scope, Handler handler,
           const bool* public_when = nullptr) {
    routes_.push_back(Route{std::move(method), segments(pattern), std::move(scope), public_when,
                            std::move(handler)});
  }

  const std::vector<Route>& all() const { return routes_; }

  Match match(const std::string& method, std::string_view path) const {
    Match m;
    std::set<std::string> methods;  // sorted, for Allow
    auto parts = segments(path);
    for (const auto& r : routes_) {
      Params params;
      if (!matches(r.pattern, parts, params)) continue;
      if (r.method == method) {  // found: Allow is only for a wrong method
        m.route = m.path_route = &r;
        m.params = std::move(params);
        return m;
      }
      if (!m.path_route) m.path_route = &r;
      methods.insert(r.method);
    }
    for (const auto& name : methods) m.allow += (m.allow.empty() ? "" : ", ") + name;
    return m;
  }

 private:
  static std::vector<std::string> segments(std::string_view path) {
    std::vector<std::string> out;
    while (!path.empty()) {
      if (path.front() == '/') path.remove_prefix(1);
      auto slash = path.find('/');
      out.emplace_back(path.substr(0, slash));
      path = slash == std::string_view::npos ? std::string_view() : path.substr(slash);
    }
    return out;
  }
  static bool matches(const std::vector<std::string>& pattern,
                      const std::vector<std::string>& parts, Params& params) {
    for (std::size_t i = 0; i < pattern.size(); ++i) {
      const std::string& p = pattern[i];
      if (p == "*") {
        std::string rest;
        for (std::size_t j = i; j < parts.size(); ++j) rest += (j > i ? "/" : "") + parts[j];
        params["*"] = rest;
        return i < parts.size();
      }
      if (i >= parts.size()) return false;
      if (p.size() > 2 && p.front() == '{' && p.back() == '}')
        params[p.substr(1, p.size() - 2)] = parts[i];
      else if (p != parts[i])
        return false;
    }
    return pattern.size() == parts.size();
  }

  std::vector<Route> routes_;
};

}  // namespace tocsin
