#pragma once
// The municipality's zones (config/zones.geojson): named areas that playbooks, sirens and
// residents refer to by id.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/incident.hpp"

namespace tocsin {

struct Zone {
  std::string id;
  std::string name_fr;
  std::string name_en;
  std::vector<std::vector<GeoPoint>> polygons;  // outer rings (GeoJSON Polygon / MultiPolygon)
  double area = 0;  // in square degrees: only to order zones from the most specific
};

class ZoneMap {
 public:
  ZoneMap() = default;
  explicit ZoneMap(std::vector<Zone> zones);

  bool contains(const std::string& id) const { return index_.count(id) > 0; }
  const Zone* find(const std::string& id) const;
  const std::vector<Zone>& zones() const { return zones_; }

  // Whether the point lies inside the zone's area (edges count as inside).
  bool covers(const std::string& zone_id, const GeoPoint& point) const;
  // The zones an incident is in: its named zone, then every zone its point falls in, the
  // smallest (most specific) first.
  std::vector<std::string> zones_of(const Location& location) const;

 private:
  std::vector<Zone> zones_;
  std::map<std::string, std::size_t> index_;
};

// Reads a GeoJSON FeatureCollection: each feature has properties.id (or a top-level id),
// optional properties.name_fr / name_en, and a Polygon or MultiPolygon geometry ([lon, lat]).
Result<ZoneMap> load_zones(const std::string& path);
Result<ZoneMap> parse_zones(std::string_view geojson, const std::string& name);

}  // namespace tocsin
