#pragma once
// The city's zones drawn as a picture a resident clicks to pick a place: an SVG served beside the
// residents' pages and shown in a form's image button, so that the click's coordinates come back
// with the form (no script needed). One frame turns the picture's pixels into a point and back.

#include <optional>
#include <string>

#include "core/incident.hpp"
#include "core/zones.hpp"

namespace tocsin {

struct ZoneFrame {
  double west = 0, east = 0, south = 0, north = 0;  // the zones' extent, with a margin
  int width = 0, height = 0;                        // the picture's size in CSS pixels

  GeoPoint point_at(double x, double y) const;
  double x_of(const GeoPoint& p) const;
  double y_of(const GeoPoint& p) const;
};

// The frame that holds every zone at `width` pixels (its height keeps the city's proportions on
// the ground); nullopt when there are no zones.
std::optional<ZoneFrame> zone_frame(const ZoneMap& zones, int width = 320);

// The picture: every zone as a shape (the largest under the smaller), named in `lang` (fr, en).
// Each shape's id is "zone-" and the zone's id.
std::string zone_picture_svg(const ZoneMap& zones, const ZoneFrame& frame, const std::string& lang);

}  // namespace tocsin
