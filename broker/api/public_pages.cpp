// /alerts: the public alerts standing now, for everyone, no sign-in: each with its area, when it
// was issued and until when it stands, its updates in order, and marked cancelled in place once
// a cancellation of it went out. French and English side by side unless a language is chosen
// (?lang=fr|en); for one place (?q=, an address of the city) or one zone (?zone=). Plain HTML
// that works without script; with script (/alerts/live.js) the list follows the public
// WebSocket: each alert pushed re-reads the page's list and says so to screen readers.
#include "broker/api/api.hpp"

#include "broker/api/responses.hpp"
#include "broker/live/public_alerts.hpp"
#include "broker/residents/addresses.hpp"
#include "core/schedules.hpp"
#include "dispatchers/templates.hpp"

namespace tocsin {

namespace json = boost::json;

namespace {

std::string esc(const std::string& s) {
  return markup_escaped(s);
}

const char* kLiveScript = R"js(// The list follows the public feed: a pushed alert re-reads it.
const list = document.getElementById("alerts");
const said = document.getElementById("live-status");
const lang = document.documentElement.dataset.lang || "";
function follow() {
  const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/public${lang ? "?lang=" + lang : ""}`);
  let first = true;
  ws.onmessage = async () => {
    if (first) { first = false; return; }  // the snapshot: the page has it already
    const page = await fetch(location.href, { cache: "no-store" });
    const html = new DOMParser().parseFromString(await page.text(), "text/html");
    list.innerHTML = html.getElementById("alerts").innerHTML;
    said.textContent = said.dataset.changed;
  };
  ws.onclose = () => setTimeout(follow, 5000);
}
follow();
)js";

}  // namespace

void Api::public_alerts_page(const ApiRequest& request, const Query& query, Respond respond) {
  auto get = [&](const char* name) {
    auto it = query.find(name);
    return it == query.end() ? std::string() : it->second.substr(0, 120);
  };
  const std::string lang = get("lang") == "fr" || get("lang") == "en" ? get("lang") : "";
  const std::string q = get("q"), zone_asked = get("zone");
  (void)request;
  off_thread(
      "the public alerts page", std::move(respond), [this, lang, q, zone_asked](Respond& respond) {
        const bool both = lang.empty();
        auto say = [&](const char* fr, const char* en) {
          return both ? std::string(fr) + " / " + en : lang == "en" ? std::string(en) : fr;
        };
        auto set = library_.current();
        const ZoneMap none;
        const ZoneMap& zones = set ? set->references.zones : none;
        // The place asked about: the zones it lies in (an alert for any of them concerns it).
        std::optional<std::vector<std::string>> here;
        std::string place_text, problem;
        if (!q.empty()) {
          auto found = store_.with_connection(
              [&](db::Connection& db) { return addresses::search(db, q, 2); });
          if (found.size() == 1) {
            here = zones.zones_of(Location{std::nullopt, found[0].point, {}});
            place_text = found[0].text();
          } else {
            problem = found.empty() ? say("Aucune adresse de la ville ne correspond.",
                                          "No address of the city matches.")
                                    : say("Plusieurs adresses correspondent : précisez le numéro.",
                                          "Several addresses match: give the number.");
          }
        } else if (!zone_asked.empty()) {
          const Zone* z = zones.find(zone_asked);
          if (!z || z->polygons.empty() || z->polygons[0].empty()) {
            problem = say("Cette zone n'existe pas.", "There is no such zone.");
          } else {
            GeoPoint mid{0, 0};
            for (const auto& p : z->polygons[0]) mid.lat += p.lat, mid.lon += p.lon;
            mid.lat /= double(z->polygons[0].size()), mid.lon /= double(z->polygons[0].size());
            here = zones.zones_of(Location{zone_asked, mid, {}});
            place_text = both           ? z->name_fr + " / " + z->name_en
                         : lang == "en" ? z->name_en
                                        : z->name_fr;
          }
        }
        std::vector<PublicAlert> alerts =
            public_board_ ? public_board_->current() : std::vector<PublicAlert>{};
        if (here)
          std::erase_if(alerts, [&](const PublicAlert& a) {
            return a.zones.empty() ||
                   std::find(here->begin(), here->end(), a.zones.front()) == here->end();
          });
        const date::time_zone* clock = find_time_zone(time_zone_);
        const std::vector<std::string> langs =
            both ? std::vector<std::string>{"fr", "en"} : std::vector<std::string>{lang};
        std::string list;
        for (const auto& a : alerts) {
          const bool cancelled = a.cancelled_at.has_value();
          list += std::string("<article class=\"alert") + (cancelled ? " cancelled" : "") + "\">\n";
          list += "<h2>" + esc(both ? a.area.at("fr") + " / " + a.area.at("en") : a.area.at(lang)) +
                  "</h2>\n<p class=\"status\"><strong>" +
                  (cancelled ? say("ANNULÉE", "CANCELLED") : say("EN VIGUEUR", "IN EFFECT")) +
                  "</strong></p>\n";
          for (const auto& l : langs) {
            auto text = a.text.find(l);
            if (text == a.text.end()) continue;
            list += "<div lang=\"" + l + "\">\n<p class=\"text\">" + esc(text->second) +
                    "</p>\n<p>" + (l == "en" ? "Issued " : "Émise le ") +
                    esc(dispatchers::time_text(a.issued_at, l, clock)) + ". " +
                    (cancelled ? (l == "en" ? "Cancelled " : "Annulée le ") +
                                     esc(dispatchers::time_text(*a.cancelled_at, l, clock))
                               : (l == "en" ? "In effect until " : "En vigueur jusqu'au ") +
                                     esc(dispatchers::time_text(a.expires_at, l, clock))) +
                    ".</p>\n";
            for (const auto& u : a.updates)
              if (auto t = u.text.find(l); t != u.text.end())
                list += "<p class=\"update\"><strong>" +
                        std::string(l == "en" ? "Update, " : "Mise à jour, ") +
                        esc(dispatchers::time_text(u.at, l, clock)) + " :</strong> " +
                        esc(t->second) + "</p>\n";
            list += "</div>\n";
          }
          list += "</article>\n";
        }
        if (alerts.empty())
          list = "<p>" +
                 say("Aucune alerte publique n'est en vigueur", "No public alert is in effect") +
                 (here ? say(" pour ce lieu.", " for this place.") : ".") + "</p>\n";

        const std::string title = say("Alertes en cours", "Current alerts");
        std::string body =
            "<!doctype html>\n<html lang=\"" + (both ? std::string("fr") : lang) +
            "\" data-lang=\"" + lang +
            "\">\n<head><meta charset=\"utf-8\"><meta name=\"viewport\" "
            "content=\"width=device-width, "
            "initial-scale=1\"><title>" +
            esc(title) +
            "</title>\n<style>"
            "body{font:1.1rem/1.5 system-ui,sans-serif;max-width:48rem;margin:0 auto;padding:1rem;"
            "color:#111;background:#fff}a{color:#0645ad}"
            "nav a{margin-right:1rem}label{display:block;font-weight:600;margin-top:1rem}"
            "input{font-size:1.1rem;width:100%;box-sizing:border-box;min-height:44px;padding:.4rem;"
            "border:2px solid #555}button{font-size:1.1rem;min-height:48px;padding:.6rem 1.2rem;"
            "margin-top:.5rem;background:#0b3d91;color:#fff;border:none;border-radius:4px}"
            ".alert{border-left:8px solid #a00000;padding:.2rem 1rem;margin:1.5rem "
            "0;background:#fff4f4}"
            ".alert.cancelled{border-color:#555;background:#f3f3f3}"
            ".status{color:#a00000}.cancelled .status{color:#333}"
            ".text{font-size:1.2rem;font-weight:600}.error{color:#a00000;font-weight:600}"
            "</style></head>\n<body>\n<header><nav aria-label=\"" +
            say("Langue", "Language") +
            "\"><a href=\"/alerts?lang=fr\" lang=\"fr\">Français</a><a " +
            "href=\"/alerts?lang=en\" lang=\"en\">English</a><a href=\"/alerts\">" +
            "Français et English</a><a href=\"/residents" + (lang.empty() ? "" : "?lang=" + lang) +
            "\">" + say("M'inscrire aux alertes", "Sign up for alerts") +
            "</a></nav></header>\n<main>\n<h1>" + esc(title) + "</h1>\n" +
            "<form method=\"get\" action=\"/alerts\">" +
            (lang.empty() ? "" : "<input type=\"hidden\" name=\"lang\" value=\"" + lang + "\">") +
            "<label for=\"q\">" + say("Une adresse de la ville", "An address of the city") +
            "</label><input type=\"text\" id=\"q\" name=\"q\" value=\"" + esc(q) + "\"" +
            (problem.empty() ? "" : " aria-invalid=\"true\" aria-describedby=\"q-error\"") +
            "><button type=\"submit\">" +
            say("Voir les alertes de ce lieu", "See this place's alerts") + "</button></form>\n" +
            (problem.empty() ? ""
                             : "<p class=\"error\" id=\"q-error\">" + esc(problem) + "</p>\n") +
            (place_text.empty() ? ""
                                : "<p>" + say("Pour : ", "For: ") + esc(place_text) + "</p>\n") +
            "<p id=\"live-status\" role=\"status\" data-changed=\"" +
            esc(say("La liste vient d'être mise à jour.", "The list was just updated.")) +
            "\"></p>\n<section id=\"alerts\" aria-label=\"" + esc(title) + "\">\n" + list +
            "</section>\n</main>\n<script src=\"/alerts/live.js\" type=\"module\"></script>\n"
            "</body>\n</html>\n";
        ApiResponse r;
        r.status = problem.empty() ? 200 : 400;
        r.content_type = "text/html; charset=utf-8";
        r.headers["Cache-Control"] = "no-store";
        r.headers["Referrer-Policy"] = "same-origin";
        r.headers["Content-Security-Policy"] =
            "default-src 'none'; style-src 'unsafe-inline'; script-src 'self'; connect-src 'self'; "
            "form-action 'self'; frame-ancestors 'none'";
        r.body = std::move(body);
        respond(std::move(r));
      });
}

void Api::public_alerts_script(Respond respond) {
  ApiResponse r{200, "text/javascript; charset=utf-8", kLiveScript, {}};
  r.headers["Cache-Control"] = "public, max-age=300";
  respond(std::move(r));
}

void Api::public_alerts_json(const Query& query, Respond respond) {
  auto it = query.find("lang");
  const std::string lang =
      it != query.end() && (it->second == "fr" || it->second == "en") ? it->second : "";
  off_thread("the public alerts", std::move(respond), [this, lang](Respond& respond) {
    auto alerts = public_board_ ? public_board_->current() : std::vector<PublicAlert>{};
    json::object o = public_snapshot(alerts, lang);
    o.erase("type");
    ApiResponse r = json_response(200, o);
    r.headers["Cache-Control"] = "no-store";
    respond(std::move(r));
  });
}

}  // namespace tocsin
