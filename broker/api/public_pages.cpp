// /alerts: the public alerts standing now, for everyone, no sign-in: each with its area, when it
// was issued and until when it stands, its updates in order, and marked cancelled in place once
// a cancellation of it went out. French and English side by side unless a language is chosen
// (?lang=fr|en); for one place (?q=, an address of the city) or one zone (?zone=). Plain HTML
// that works without script; with script (/alerts/live.js) the list follows the public
// WebSocket: each alert pushed re-reads the page's list and says so to screen readers.
#include "broker/api/api.hpp"

#include <cmath>

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

// A phrase in the page's language, or in both ("fr / en") when none is chosen.
struct Say {
  const std::string& lang;
  std::string operator()(const char* fr, const char* en) const {
    return lang.empty() ? std::string(fr) + " / " + en : lang == "en" ? std::string(en) : fr;
  }
};

const char* kLiveScript = R"js(// The list follows the public feed: a pushed alert re-reads it.
const list = document.getElementById("alerts");
const said = document.getElementById("live-status");
const lang = document.documentElement.dataset.lang || "";
function follow() {
  const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/public${lang ? "?lang=" + lang : ""}`);
  let first = true;
  ws.onmessage = async () => {
    if (first) { first = false; return; }  // the snapshot: the page has it already
    // The list as the server has it now; read again a few times if it has not changed yet (the
    // server keeps its answer up to a second).
    for (let tries = 0; tries < 6; tries += 1) {
      const page = await fetch(location.href, { cache: "no-store" });
      const html = new DOMParser().parseFromString(await page.text(), "text/html");
      const fresh = html.getElementById("alerts").innerHTML;
      if (fresh !== list.innerHTML) {
        list.innerHTML = fresh;
        said.textContent = said.dataset.changed;
        return;
      }
      await new Promise((done) => setTimeout(done, 500));
    }
  };
  ws.onclose = () => setTimeout(follow, 5000);
}
follow();
)js";

// A page of /alerts: the language links (French, English, both), the title, the content.
ApiResponse public_page(int status, const std::string& lang, const std::string& self,
                        const std::string& title, const std::string& main,
                        const std::string& script) {
  const bool both = lang.empty();
  const Say say{lang};
  ApiResponse r;
  r.status = status;
  r.content_type = "text/html; charset=utf-8";
  r.headers["Cache-Control"] = "no-store";
  r.headers["Referrer-Policy"] = "same-origin";
  r.headers["Content-Security-Policy"] =
      "default-src 'none'; style-src 'unsafe-inline'; script-src 'self'; connect-src 'self'; "
      "form-action 'self'; frame-ancestors 'none'";
  r.body =
      "<!doctype html>\n<html lang=\"" + (both ? std::string("fr") : lang) + "\" data-lang=\"" +
      lang +
      "\">\n<head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, "
      "initial-scale=1\"><title>" +
      esc(title) +
      "</title>\n<style>"
      "body{font:1.1rem/1.5 system-ui,sans-serif;max-width:48rem;margin:0 auto;padding:1rem;"
      "color:#111;background:#fff}a{color:#0645ad}"
      "nav a{margin-right:1rem}label{display:block;font-weight:600;margin-top:1rem}"
      "input{font-size:1.1rem;width:100%;box-sizing:border-box;min-height:44px;padding:.4rem;"
      "border:2px solid #555}button{font-size:1.1rem;min-height:48px;padding:.6rem 1.2rem;"
      "margin-top:.5rem;background:#0b3d91;color:#fff;border:none;border-radius:4px}"
      ".alert{border-left:8px solid #a00000;padding:.2rem 1rem;margin:1.5rem 0;background:#fff4f4}"
      ".alert.cancelled{border-color:#555;background:#f3f3f3}"
      ".status{color:#a00000}.cancelled .status{color:#333}"
      ".text{font-size:1.2rem;font-weight:600}.error{color:#a00000;font-weight:600}"
      "table{border-collapse:collapse;margin:1rem 0}th,td{border:1px solid #555;padding:.3rem "
      ".6rem;"
      "text-align:left}caption{font-weight:600;text-align:left}"
      "</style></head>\n<body>\n<header><nav aria-label=\"" +
      say("Langue et pages", "Language and pages") + "\"><a href=\"" + self +
      "?lang=fr\" lang=\"fr\">Français</a><a href=\"" + self +
      "?lang=en\" lang=\"en\">English</a><a href=\"" + self +
      "\">Français et English</a><a href=\"" + (self == "/alerts" ? "/alerts/stats" : "/alerts") +
      (lang.empty() ? "" : "?lang=" + lang) + "\">" +
      (self == "/alerts" ? say("Les chiffres", "The figures")
                         : say("Alertes en cours", "Current alerts")) +
      "</a><a href=\"/residents" + (lang.empty() ? "" : "?lang=" + lang) + "\">" +
      say("M'inscrire aux alertes", "Sign up for alerts") + "</a></nav></header>\n<main>\n<h1>" +
      esc(title) + "</h1>\n" + main + "</main>\n" + script + "</body>\n</html>\n";
  return r;
}

}  // namespace

void Api::public_alerts_page(const Query& query, Respond respond) {
  auto get = [&](const char* name) {
    auto it = query.find(name);
    return it == query.end() ? std::string() : it->second.substr(0, 120);
  };
  const std::string lang = get("lang") == "fr" || get("lang") == "en" ? get("lang") : "";
  const std::string q = get("q"), zone_asked = get("zone");
  off_thread(
      "the public alerts page", std::move(respond), [this, lang, q, zone_asked](Respond& respond) {
        const bool both = lang.empty();
        const Say say{lang};
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
        std::string main =
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
            "</section>\n";
        respond(public_page(problem.empty() ? 200 : 400, lang, "/alerts", title, main,
                            "<script src=\"/alerts/live.js\" type=\"module\"></script>\n"));
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

void Api::public_stats_page(const Query& query, bool as_json, Respond respond) {
  auto it = query.find("lang");
  const std::string lang =
      it != query.end() && (it->second == "fr" || it->second == "en") ? it->second : "";
  off_thread("the public figures", std::move(respond), [this, lang, as_json](Respond& respond) {
    auto set = library_.current();
    const ZoneMap none;
    auto stats = store_.with_connection([&](db::Connection& db) {
      return public_stats(db, set ? set->references.zones : none, now());
    });
    if (as_json) {
      ApiResponse r = json_response(200, stats);
      r.headers["Cache-Control"] = "no-store";
      return respond(std::move(r));
    }
    const bool both = lang.empty();
    const Say say{lang};
    auto count = [&](const json::value& v) {
      return v.is_null() ? say("moins de 10", "fewer than 10") : std::to_string(v.as_int64());
    };
    // A table's caption and column heads, its body opened.
    auto table = [&](const std::string& caption, const std::vector<std::string>& columns) {
      std::string out = "<table><caption>" + caption + "</caption><thead><tr>";
      for (const auto& c : columns) out += "<th scope=\"col\">" + c + "</th>";
      return out + "</tr></thead><tbody>\n";
    };
    std::string main =
        "<p>" +
        say("Des totaux seulement, jamais une liste : chaque nombre est arrondi à la dizaine, "
            "et un nombre sous 10 n'est pas donné.",
            "Totals only, never a list: every number is rounded to ten, and a number under 10 is "
            "not given.") +
        "</p>\n" +
        table(say("Alertes publiques envoyées, par mois et par catégorie",
                  "Public alerts sent, by month and category"),
              {say("Mois", "Month"), say("Catégorie", "Category"), say("Alertes", "Alerts")});
    for (const auto& row : stats.at("alerts_sent").as_array())
      main += "<tr><td>" + std::string(row.at("month").as_string()) + "</td><td>" +
              esc(std::string(row.at("category").as_string())) + "</td><td>" +
              count(row.at("alerts")) + "</td></tr>\n";
    main += "</tbody></table>\n<p>" +
            say("Temps médian entre un signalement et le premier envoi public de son alerte : ",
                "Median time from a report to its alert's first public delivery: ") +
            (stats.at("median_seconds_to_first_delivery").is_null()
                 ? say("aucune alerte encore", "no alert yet")
                 : std::to_string(std::lround(
                       stats.at("median_seconds_to_first_delivery").to_number<double>())) +
                       " s") +
            ".</p>\n" +
            table(say("Résidents abonnés, par zone et par langue",
                      "Residents subscribed, by zone and language"),
                  {say("Zone", "Zone"), say("Langue", "Language"), say("Résidents", "Residents")});
    for (const auto& row : stats.at("subscribers").as_array())
      main += "<tr><td>" +
              esc(both ? std::string(row.at("name").at("fr").as_string()) + " / " +
                             std::string(row.at("name").at("en").as_string())
                       : std::string(row.at("name").at(lang).as_string())) +
              "</td><td>" +
              (row.at("language") == "en" ? say("anglais", "English") : say("français", "French")) +
              "</td><td>" + count(row.at("residents")) + "</td></tr>\n";
    main += "</tbody></table>\n";
    respond(public_page(200, lang, "/alerts/stats",
                        say("Les chiffres des alertes", "Alert figures"), main, ""));
  });
}

}  // namespace tocsin
