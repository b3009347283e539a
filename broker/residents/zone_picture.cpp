#include "broker/residents/zone_picture.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

#include <fmt/format.h>

#include "broker/api/responses.hpp"

namespace tocsin {

GeoPoint ZoneFrame::point_at(double x, double y) const {
  return GeoPoint{north - y / height * (north - south), west + x / width * (east - west)};
}

double ZoneFrame::x_of(const GeoPoint& p) const {
  return (p.lon - west) / (east - west) * width;
}

double ZoneFrame::y_of(const GeoPoint& p) const {
  return (north - p.lat) / (north - south) * height;
}

std::optional<ZoneFrame> zone_frame(const ZoneMap& zones, int width) {
  ZoneFrame f;
  f.west = f.south = std::numeric_limits<double>::max();
  f.east = f.north = std::numeric_limits<double>::lowest();
  for (const auto& z : zones.zones())
    for (const auto& ring : z.polygons)
      for (const auto& p : ring) {
        f.west = std::min(f.west, p.lon);
        f.east = std::max(f.east, p.lon);
        f.south = std::min(f.south, p.lat);
        f.north = std::max(f.north, p.lat);
      }
  if (f.west >= f.east || f.south >= f.north) return std::nullopt;
  // A margin of 4 % on every side: a click on the picture's edge is outside the city.
  const double mx = (f.east - f.west) * 0.04, my = (f.north - f.south) * 0.04;
  f.west -= mx, f.east += mx, f.south -= my, f.north += my;
  // A degree of longitude is shorter than one of latitude by the cosine of the latitude.
  const double ground =
      (f.east - f.west) * std::cos((f.north + f.south) / 2 * std::numbers::pi / 180);
  f.width = width;
  f.height = int(std::lround(width * (f.north - f.south) / ground));
  return f;
}

std::string zone_picture_svg(const ZoneMap& zones, const ZoneFrame& frame,
                             const std::string& lang) {
  std::vector<const Zone*> order;
  for (const auto& z : zones.zones()) order.push_back(&z);
  std::stable_sort(order.begin(), order.end(),
                   [](const Zone* a, const Zone* b) { return a->area > b->area; });
  const char* fills[] = {"#eef3f8", "#cfe3f5", "#fde2c4", "#d5efd9", "#f4d3e6", "#fff1a8"};
  std::string out = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} "
      "{1}\" font-family=\"sans-serif\" font-size=\"11\">\n<rect width=\"{0}\" height=\"{1}\" "
      "fill=\"#ffffff\"/>\n",
      frame.width, frame.height);
  std::string labels;
  for (std::size_t i = 0; i < order.size(); ++i) {
    const Zone& z = *order[i];
    out += "<g id=\"zone-" + markup_escaped(z.id) + "\">";
    double w = frame.width, e = 0, n = frame.height, s = 0;
    for (const auto& ring : z.polygons) {
      out += "<polygon fill=\"" + std::string(fills[i % std::size(fills)]) +
             "\" stroke=\"#0b3d91\" stroke-width=\"1\" points=\"";
      for (const auto& p : ring) {
        const double x = frame.x_of(p), y = frame.y_of(p);
        out += fmt::format("{:.1f},{:.1f} ", x, y);
        w = std::min(w, x), e = std::max(e, x), n = std::min(n, y), s = std::max(s, y);
      }
      out += "\"/>";
    }
    out += "</g>\n";
    const std::string& name = lang == "en" ? z.name_en : z.name_fr;
    // The largest zone (the city) is named in its corner, the others in their middle.
    if (i == 0)
      labels += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" fill=\"#111\">{}</text>\n", w + 4,
                            n + 14, markup_escaped(name.empty() ? z.id : name));
    else
      labels += fmt::format(
          "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\" fill=\"#111\">{}</text>\n",
          (w + e) / 2, (n + s) / 2 + 4, markup_escaped(name.empty() ? z.id : name));
  }
  return out + labels + "</svg>\n";
}

}  // namespace tocsin
