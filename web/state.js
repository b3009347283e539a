// What the console knows (the signed-in person, the board, the compose form) and the DOM helpers
// every module uses.

export const state = {
  language: localStorage.getItem("tocsin.language") ||
    ((navigator.language || "fr").slice(0, 2) === "en" ? "en" : "fr"),
  me: null, csrf: "", incidents: new Map(), approvals: [], seq: 0, socket: null, retry: 1000,
  options: null, composing: null, picked: new Set(), preview: null, sirens: [],
  timeZone: "UTC",  // the city's (city.time_zone), from the session
  // The board's filters and order, kept in the address (a wall screen's bookmark keeps them).
  filters: { severity: "", zone: "", state: "all", sort: "severity" },
};
export const $ = (id) => document.getElementById(id);

export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") e.textContent = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) if (c) e.append(c);
  return e;
}


export function say(text) { $("message").textContent = text || ""; }
