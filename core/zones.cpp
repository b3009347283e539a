#include "core/zones.hpp"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include <boost/geometry.hpp>
#include <boost/geometry/geometries/point_xy.hpp>
#include <boost/geometry/geometries/polygon.hpp>
#include <boost/json.hpp>

namespace tocsin {

namespace json = boost::json;
namespace bg = boost::geometry;
using BgPoint = bg::model::d2::point_xy<double>;  // x = lon, y = lat
using BgPolygon = bg::model::polygon<BgPoint>;

namespace {
BgPolygon polygon_of(const std::vector<GeoPoint>& ring) {
  BgPolygon poly;
  for (const auto& v : ring) bg::append(poly.outer(), BgPoint(v.lon, v.lat));
  bg::correct(poly);
  return poly;
}
}  // namespace

ZoneMap::ZoneMap(std::vector<Zone> zones) : zones_(std::move(zones)) {
  for (std::size_t i = 0; i < zones_.size(); ++i) {
    index_[zones_[i].id] = i;
    zones_[i].area = 0;
    for (const auto& ring : zones_[i].polygons) zones_[i].area += bg::area(polygon_of(ring));
  }
}

const Zone* ZoneMap::find(const std::string& id) const {
  auto it = index_.find(id);
  return it == index_.end() ? nullptr : &zones_[it->second];
}

bool ZoneMap::covers(const std::string& zone_id, const GeoPoint& point) const {
  const Zone* z = find(zone_id);
  if (!z) return false;
  BgPoint p(point.lon, point.lat);
  for (const auto& ring : z->polygons)
    if (bg::covered_by(p, polygon_of(ring))) return true;
  return false;
}

std::vector<std::string> ZoneMap::zones_of(const Location& location) const {
  std::vector<std::string> out;
  if (location.zone) out.push_back(*location.zone);
  if (location.point) {
    std::vector<const Zone*> inside;
    for (const auto& z : zones_)
      if (z.id != location.zone.value_or("") && covers(z.id, *location.point)) inside.push_back(&z);
    std::stable_sort(inside.begin(), inside.end(),
                     [](const Zone* a, const Zone* b) { return a->area < b->area; });
    for (const Zone* z : inside) out.push_back(z->id);
  }
  return out;
}

namespace {

Error zone_error(const std::string& name, const std::string& where, const std::string& what) {
  return Error{"invalid_zones", name + ": " + where + ": " + what, where};
}

std::optional<std::vector<GeoPoint>> ring_of(const json::value& v) {
  if (!v.is_array() || v.as_array().size() < 4) return std::nullopt;
  std::vector<GeoPoint> ring;
  for (const auto& pos : v.as_array()) {
    if (!pos.is_array() || pos.as_array().size() < 2 || !pos.as_array()[0].is_number() ||
        !pos.as_array()[1].is_number())
      return std::nullopt;
    ring.push_back({pos.as_array()[1].to_number<double>(), pos.as_array()[0].to_number<double>()});
  }
  if (!(ring.front() == ring.back())) return std::nullopt;
  return ring;
}

}  // namespace

Result<ZoneMap> parse_zones(std::string_view text, const std::string& name) {
  boost::system::error_code ec;
  json::value doc = json::parse(json::string_view(text.data(), text.size()), ec);
  if (ec) return zone_error(name, "document", "is not JSON (" + ec.message() + ")");
  if (!doc.is_object() || !doc.as_object().contains("features") || !doc.at("features").is_array())
    return zone_error(name, "document", "must be a GeoJSON FeatureCollection");
  std::vector<Zone> zones;
  std::set<std::string> seen;
  std::size_t index = 0;
  for (const auto& f : doc.at("features").as_array()) {
    std::string where = "features[" + std::to_string(index++) + "]";
    if (!f.is_object()) return zone_error(name, where, "must be an object");
    const auto& o = f.as_object();
    Zone z;
    const json::object* props = o.contains("properties") && o.at("properties").is_object()
                                    ? &o.at("properties").as_object()
                                    : nullptr;
    if (props && props->contains("id") && props->at("id").is_string())
      z.id = std::string(props->at("id").as_string());
    else if (o.contains("id") && o.at("id").is_string())
      z.id = std::string(o.at("id").as_string());
    if (z.id.empty()) return zone_error(name, where, "needs an id (properties.id)");
    if (!seen.insert(z.id).second)
      return zone_error(name, where, "zone id '" + z.id + "' is used twice");
    if (props) {
      if (auto* n = props->if_contains("name_fr"); n && n->is_string()) z.name_fr = n->as_string();
      if (auto* n = props->if_contains("name_en"); n && n->is_string()) z.name_en = n->as_string();
    }
    const json::value* geom = o.if_contains("geometry");
    if (!geom || !geom->is_object() || !geom->as_object().contains("type"))
      return zone_error(name, where, "needs a geometry");
    std::string type(geom->at("type").as_string());
    const json::value& coords = geom->at("coordinates");
    std::vector<const json::value*> polygons;
    if (type == "Polygon") {
      polygons.push_back(&coords);
    } else if (type == "MultiPolygon" && coords.is_array()) {
      for (const auto& p : coords.as_array()) polygons.push_back(&p);
    } else {
      return zone_error(name, where, "geometry must be a Polygon or MultiPolygon");
    }
    for (const auto* p : polygons) {
      if (!p->is_array() || p->as_array().empty())
        return zone_error(name, where, "a polygon needs an outer ring");
      auto ring = ring_of(p->as_array()[0]);
      if (!ring)
        return zone_error(name, where,
                          "an outer ring must be at least 4 [lon, lat] positions, closed");
      z.polygons.push_back(std::move(*ring));
    }
    zones.push_back(std::move(z));
  }
  return ZoneMap(std::move(zones));
}

Result<ZoneMap> load_zones(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{"invalid_zones", path + ": cannot be read", path};
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_zones(ss.str(), path);
}

}  // namespace tocsin
