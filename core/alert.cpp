#include "core/alert.hpp"

#include <boost/json.hpp>

namespace tocsin {

namespace json = boost::json;

std::string Audience::describe() const {
  std::string out;
  auto add = [&](const char* label, const std::vector<std::string>& items) {
    if (items.empty()) return;
    if (!out.empty()) out += "; ";
    out += label;
    for (std::size_t i = 0; i < items.size(); ++i) out += (i ? "," : "") + items[i];
  };
  add("roles:", roles);
  add("groups:", groups);
  add("people:", people);
  add("on-call:", on_call);
  if (residents) {
    if (!out.empty()) out += "; ";
    out += "residents:";
    if (residents_incident_area) out += "incident-area";
    for (std::size_t i = 0; i < resident_zones.size(); ++i)
      out += (i || residents_incident_area ? "," : "") + resident_zones[i];
    if (!resident_category.empty()) out += " (" + resident_category + ")";
    if (life_threatening) out += " (life-threatening)";
  }
  return out;
}

const std::vector<std::string>& resident_categories() {
  static const std::vector<std::string> all{"weather", "water", "roads",  "health",
                                            "fire",    "air",   "safety", "other"};
  return all;
}

namespace {

json::array strings(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

std::vector<std::string> strings_from(const json::object& o, const char* key) {
  std::vector<std::string> out;
  if (auto* a = o.if_contains(key); a && a->is_array())
    for (const auto& s : a->get_array())
      if (s.is_string()) out.emplace_back(s.get_string());
  return out;
}

}  // namespace

json::object to_json(const Audience& a) {
  json::object o{
      {"roles", strings(a.roles)}, {"groups", strings(a.groups)}, {"people", strings(a.people)}};
  if (!a.on_call.empty()) o["on_call"] = strings(a.on_call);
  if (a.residents) {
    json::object r{{"incident_area", a.residents_incident_area},
                   {"zones", strings(a.resident_zones)}};
    if (!a.resident_category.empty()) r["category"] = a.resident_category;
    if (a.life_threatening) r["life_threatening"] = true;
    o["residents"] = std::move(r);
  }
  return o;
}

Audience audience_from_json(const json::value& v) {
  Audience a;
  if (!v.is_object()) return a;
  const auto& o = v.get_object();
  a.roles = strings_from(o, "roles");
  a.groups = strings_from(o, "groups");
  a.people = strings_from(o, "people");
  a.on_call = strings_from(o, "on_call");
  if (auto* r = o.if_contains("residents"); r && r->is_object()) {
    a.residents = true;
    if (auto* area = r->get_object().if_contains("incident_area"); area && area->is_bool())
      a.residents_incident_area = area->get_bool();
    a.resident_zones = strings_from(r->get_object(), "zones");
    if (auto* c = r->get_object().if_contains("category"); c && c->is_string())
      a.resident_category = c->get_string();
    if (auto* l = r->get_object().if_contains("life_threatening"); l && l->is_bool())
      a.life_threatening = l->get_bool();
  }
  return a;
}

const char* to_string(DeliveryState s) {
  static const char* names[] = {"queued", "sending", "sent", "delivered", "failed"};
  return names[static_cast<int>(s)];
}

std::optional<DeliveryState> delivery_state_from(std::string_view s) {
  for (auto st : {DeliveryState::queued, DeliveryState::sending, DeliveryState::sent,
                  DeliveryState::delivered, DeliveryState::failed})
    if (s == to_string(st)) return st;
  return std::nullopt;
}

std::string Reach::describe() const {
  std::string out;
  for (const auto& [channel, n] : recipients)
    out += (out.empty() ? "" : ", ") + channel + " " + std::to_string(n);
  if (out.empty()) out = "no recipients";
  auto list = [](const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ",") + x;
    return s;
  };
  if (!zones.empty()) out += "; zones " + list(zones);
  if (!sirens.empty()) out += "; sirens " + list(sirens);
  return out;
}

boost::json::object to_json(const Reach& r) {
  boost::json::object recipients;
  for (const auto& [c, n] : r.recipients) recipients[c] = n;
  boost::json::array zones, sirens, problems;
  for (const auto& z : r.zones) zones.emplace_back(z);
  for (const auto& z : r.sirens) sirens.emplace_back(z);
  for (const auto& z : r.problems) problems.emplace_back(z);
  return boost::json::object{{"step", r.step + 1},
                             {"recipients", std::move(recipients)},
                             {"zones", std::move(zones)},
                             {"sirens", std::move(sirens)},
                             {"problems", std::move(problems)}};
}

Reach reach_from_json(const boost::json::value& v) {
  Reach r;
  const auto& o = v.as_object();
  r.step = std::size_t(o.at("step").to_number<std::int64_t>() - 1);
  for (const auto& [c, n] : o.at("recipients").as_object())
    r.recipients[std::string(c)] = std::size_t(n.to_number<std::int64_t>());
  for (const auto& z : o.at("zones").as_array()) r.zones.emplace_back(z.as_string());
  for (const auto& z : o.at("sirens").as_array()) r.sirens.emplace_back(z.as_string());
  for (const auto& z : o.at("problems").as_array()) r.problems.emplace_back(z.as_string());
  return r;
}

}  // namespace tocsin
