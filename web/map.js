// The zone map of the compose form: the city's zones drawn from their outlines (SVG), each one a
// checkbox a click or the keyboard toggles.

import { $, state } from "./state.js";
import { t, zoneName } from "./words.js";

const svgNS = "http://www.w3.org/2000/svg";

function ringArea(ring) {
  let a = 0;
  for (let i = 0; i < ring.length; ++i) {
    const [x1, y1] = ring[i], [x2, y2] = ring[(i + 1) % ring.length];
    a += x1 * y2 - x2 * y1;
  }
  return Math.abs(a / 2);
}

export function drawMap(onChange) {
  const svg = $("map");
  const zones = state.options.zones;
  const pts = zones.flatMap((z) => z.polygons.flat());
  const minLon = Math.min(...pts.map((p) => p[0])), maxLon = Math.max(...pts.map((p) => p[0]));
  const minLat = Math.min(...pts.map((p) => p[1])), maxLat = Math.max(...pts.map((p) => p[1]));
  const k = Math.cos(((minLat + maxLat) / 2) * Math.PI / 180);  // degrees of longitude shrink
  const width = 600, scale = width / ((maxLon - minLon) * k || 1);
  const height = Math.round((maxLat - minLat) * scale) || 400;
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  const xy = ([lon, lat]) => [((lon - minLon) * k * scale).toFixed(1), ((maxLat - lat) * scale).toFixed(1)];
  const title = svg.querySelector("title");
  svg.replaceChildren(title);
  // The largest first, so that a smaller zone lies on top and can be picked.
  const ordered = [...zones].sort((a, b) => b.polygons.reduce((s, r) => s + ringArea(r), 0) -
                                            a.polygons.reduce((s, r) => s + ringArea(r), 0));
  for (const z of ordered) {
    const d = z.polygons.map((ring) => "M" + ring.map((p) => xy(p).join(" ")).join(" L") + " Z").join(" ");
    const path = document.createElementNS(svgNS, "path");
    path.setAttribute("d", d);
    path.setAttribute("data-zone", z.id);
    path.setAttribute("role", "checkbox");
    path.setAttribute("tabindex", "0");
    path.setAttribute("aria-label", zoneName(z));
    path.setAttribute("aria-checked", String(state.picked.has(z.id)));
    const tip = document.createElementNS(svgNS, "title");
    tip.textContent = zoneName(z);
    path.append(tip);
    const toggle = () => {
      if (state.picked.has(z.id)) state.picked.delete(z.id); else state.picked.add(z.id);
      path.setAttribute("aria-checked", String(state.picked.has(z.id)));
      pickedLine();
      onChange();
    };
    path.addEventListener("click", toggle);
    path.addEventListener("keydown", (e) => {
      if (e.key === " " || e.key === "Enter") { e.preventDefault(); toggle(); }
    });
    svg.append(path);
    const xs = z.polygons.flat().map((p) => Number(xy(p)[0])), ys = z.polygons.flat().map((p) => Number(xy(p)[1]));
    const label = document.createElementNS(svgNS, "text");
    label.setAttribute("x", String((Math.min(...xs) + 4).toFixed(1)));
    label.setAttribute("y", String((Math.min(...ys) + 13).toFixed(1)));
    label.textContent = z.id;
    svg.append(label);
  }
  pickedLine();
}

function pickedLine() {
  const names = state.options.zones.filter((z) => state.picked.has(z.id)).map(zoneName);
  $("map-picked").textContent = `${t("picked")} : ${names.length ? names.join(", ") : t("nothing_picked")}`;
}
