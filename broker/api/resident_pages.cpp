// /residents: the residents' own pages, in French or English (Accept-Language, or the switch on
// every page), plain HTML forms that work without JavaScript. A resident signs up with a mobile
// number and/or an e-mail address, a language, the categories they want and a place found in the
// city's civic address file; each contact is confirmed before anything but its confirmation is sent
// to it (a 6-digit code by SMS, a link by e-mail: broker/residents/signup.hpp). Confirmed, they
// see their subscription on /residents/me (a cookie signed with the residents' key, for an hour).
// Nothing here answers whether a contact is someone's: only the person holding it learns more.
#include "broker/api/api.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "broker/api/responses.hpp"
#include "broker/residents/addresses.hpp"
#include "broker/residents/contact_checks.hpp"
#include "broker/residents/registry.hpp"
#include "broker/residents/signup.hpp"
#include "broker/residents/unsubscribe.hpp"
#include "broker/residents/zone_picture.hpp"
#include "broker/storage/audit.hpp"
#include "core/alert.hpp"
#include "core/ulid.hpp"

namespace tocsin {

namespace json = boost::json;

namespace {

constexpr const char* kCookie = "tocsin_resident";
constexpr std::chrono::hours kSessionLifetime{1};

using Form = std::vector<std::pair<std::string, std::string>>;

// An application/x-www-form-urlencoded body, each field in order (a checkbox group repeats its
// name).
Form parse_form(std::string_view body) {
  Form out;
  std::size_t at = 0;
  while (at < body.size() && out.size() < 64) {
    auto amp = body.find('&', at);
    std::string_view pair = body.substr(at, amp == std::string_view::npos ? amp : amp - at);
    auto eq = pair.find('=');
    out.emplace_back(url_decode(pair.substr(0, eq)),
                     eq == std::string_view::npos ? "" : url_decode(pair.substr(eq + 1)));
    if (amp == std::string_view::npos) break;
    at = amp + 1;
  }
  return out;
}

std::string field(const Form& f, const std::string& name) {
  for (const auto& [k, v] : f)
    if (k == name) return v.substr(0, 256);
  return "";
}

std::vector<std::string> fields(const Form& f, const std::string& name) {
  std::vector<std::string> out;
  for (const auto& [k, v] : f)
    if (k == name) out.push_back(v.substr(0, 64));
  return out;
}

std::string header(const ApiRequest& r, const char* name) {
  auto it = r.headers.find(name);
  return it == r.headers.end() ? std::string() : it->second;
}

// The journal refused a write (the disk, the database): nothing was changed, try again.
ApiResponse not_stored() {
  return Api::error(
      503, Error{"storage_unavailable", "the journal could not store this; try again", ""});
}

// RFC 8058's body, List-Unsubscribe=One-Click, as a form (urlencoded, or multipart as some mail
// providers send it).
bool one_click(const ApiRequest& r) {
  if (header(r, "content-type").rfind("multipart/form-data", 0) == 0) {
    auto at = r.body.find("name=\"List-Unsubscribe\"");
    auto value = at == std::string::npos ? at : r.body.find("\r\n\r\n", at);
    return value != std::string::npos && r.body.compare(value + 4, 9, "One-Click") == 0 &&
           (r.body.size() == value + 13 || r.body[value + 13] == '\r');
  }
  return field(parse_form(r.body), "List-Unsubscribe") == "One-Click";
}

// A write that a browser says comes from another site (its Origin), refused before anything.
bool cross_site(const Auth* auth, const ApiRequest& r) {
  return !auth || !auth->origin_allowed(header(r, "origin"), header(r, "host"));
}

// fr unless the reader asks for English: the page's `lang`, else the browser's first choice.
std::string language_of(const ApiRequest& r, const std::string& asked) {
  if (asked == "fr" || asked == "en") return asked;
  std::string accept = header(r, "accept-language");
  std::transform(accept.begin(), accept.end(), accept.begin(), ::tolower);
  auto fr = accept.find("fr"), en = accept.find("en");
  return en != std::string::npos && (fr == std::string::npos || en < fr) ? "en" : "fr";
}

// The resident a request's cookie names, if it is valid now.
std::optional<std::string> signed_in(const ApiRequest& r, const SealedBox& box) {
  std::string cookies = header(r, "cookie");
  const std::string name = std::string(kCookie) + "=";
  for (std::size_t at = 0; at < cookies.size();) {
    while (at < cookies.size() && (cookies[at] == ' ' || cookies[at] == ';')) ++at;
    auto end = cookies.find(';', at);
    std::string_view one(cookies.data() + at,
                         (end == std::string::npos ? cookies.size() : end) - at);
    if (one.substr(0, name.size()) == name)
      return residents::session_resident(box, std::string(one.substr(name.size())), now());
    at = end == std::string::npos ? cookies.size() : end + 1;
  }
  return std::nullopt;
}

std::string esc(const std::string& s) {
  return markup_escaped(s);
}

// A word in the page's language.
struct Say {
  const std::string& lang;
  std::string operator()(const char* fr, const char* en) const { return lang == "en" ? en : fr; }
};

const std::map<std::string, std::pair<const char*, const char*>> kCategoryNames = {
    {"weather", {"Météo", "Weather"}},  {"water", {"Eau potable et crues", "Water and floods"}},
    {"roads", {"Routes", "Roads"}},     {"health", {"Santé", "Health"}},
    {"fire", {"Incendies", "Fires"}},   {"air", {"Qualité de l'air", "Air quality"}},
    {"safety", {"Sécurité", "Safety"}}, {"other", {"Autres", "Other"}}};

// A whole page: the language switch, the title, the body. Same headers as every page people use.
ApiResponse page(int status, const std::string& lang, const std::string& title,
                 const std::string& body, const std::string& switch_to) {
  Say say{lang};
  ApiResponse r;
  r.status = status;
  r.content_type = "text/html; charset=utf-8";
  r.headers["Cache-Control"] = "no-store";
  // same-origin, not no-referrer: with no-referrer a browser posts its forms with Origin: null.
  r.headers["Referrer-Policy"] = "same-origin";
  r.headers["X-Frame-Options"] = "DENY";
  r.headers["Content-Security-Policy"] =
      "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; "
      "frame-ancestors 'none'";
  const std::string other = lang == "en" ? "fr" : "en";
  r.body =
      "<!doctype html>\n<html lang=\"" + lang +
      "\">\n<head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, "
      "initial-scale=1\"><title>" +
      esc(title) + " — " + say("Alertes de la Ville", "City alerts") +
      "</title>\n<style>"
      "body{font:1.1rem/1.5 system-ui,sans-serif;max-width:38rem;margin:0 auto;padding:1rem;"
      "color:#111;background:#fff}"
      "a{color:#0645ad}label,legend{display:block;font-weight:600;margin-top:1rem}"
      "input[type=text],input[type=tel],input[type=email],input:not([type]){font-size:1.1rem;"
      "width:100%;box-sizing:border-box;min-height:44px;padding:.4rem;border:2px solid #555}"
      "fieldset{border:none;padding:0;margin:0}"
      ".choice{display:flex;align-items:center;gap:.5rem;min-height:44px}"
      ".choice input{width:24px;height:24px}.choice label{display:inline;font-weight:400;margin:0}"
      "button{font-size:1.1rem;min-height:48px;padding:.6rem 1.2rem;margin-top:1rem;"
      "background:#0b3d91;color:#fff;border:none;border-radius:4px}"
      "button.secondary{background:#fff;color:#0b3d91;border:2px solid #0b3d91}"
      ".error{color:#a00000;font-weight:600}.hint{color:#333;font-size:.95rem}"
      "[role=alert]{border:2px solid #a00000;padding:.5rem 1rem}"
      "header{display:flex;justify-content:space-between;align-items:center}"
      "input[type=image]{display:block;margin-top:.5rem;border:2px solid #555;max-width:none}"
      ".place{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem 1rem}"
      ".place form button{margin-top:0;min-height:44px}"
      "</style></head>\n<body>\n<header><p><strong>" +
      say("Alertes de la Ville", "City alerts") + "</strong></p><p><a href=\"" + esc(switch_to) +
      (switch_to.find('?') == std::string::npos ? "?" : "&amp;") + "lang=" + other + "\" lang=\"" +
      other + "\" hreflang=\"" + other + "\">" + (lang == "en" ? "Français" : "English") +
      "</a></p></header>\n<main>\n<h1>" + esc(title) + "</h1>\n" + body +
      "</main>\n</body>\n</html>\n";
  return r;
}

ApiResponse see_other(const std::string& location, const std::string& cookie = "") {
  ApiResponse r;
  r.status = 303;
  r.content_type = "text/plain; charset=utf-8";
  r.headers["Location"] = location;
  r.headers["Cache-Control"] = "no-store";
  if (!cookie.empty()) r.headers["Set-Cookie"] = cookie;
  return r;
}

std::string error_summary(const Say& say, const std::vector<Error>& errors) {
  if (errors.empty()) return "";
  std::string out = "<div role=\"alert\" id=\"errors\"><p class=\"error\">" +
                    say("Corrigez ceci :", "Please correct this:") + "</p><ul>";
  for (const auto& e : errors)
    out += "<li><a href=\"#" + esc(e.field) + "\">" + esc(e.message) + "</a></li>";
  return out + "</ul></div>\n";
}

// The form's state, to show it again with what the person typed.
struct SignUp {
  std::string phone, email, language, q, address, label;
  std::vector<std::string> categories;
  std::string map_x, map_y;  // where the zone map was clicked, if it was
  std::string point;         // "lat,lon": the point a click picked before, kept in the form
};

SignUp sign_up_of(const Form& f) {
  return {field(f, "phone"),   field(f, "email"), field(f, "language"),    field(f, "q"),
          field(f, "address"), field(f, "label"), fields(f, "categories"), field(f, "map.x"),
          field(f, "map.y"),   field(f, "point")};
}

std::optional<GeoPoint> point_of(const std::string& text) {
  auto comma = text.find(',');
  if (comma == std::string::npos || text.size() > 40) return std::nullopt;
  try {
    GeoPoint p{std::stod(text.substr(0, comma)), std::stod(text.substr(comma + 1))};
    if (p.lat < -90 || p.lat > 90 || p.lon < -180 || p.lon > 180) return std::nullopt;
    return p;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::string point_text(const GeoPoint& p) {
  return fmt::format("{:.6f},{:.6f}", p.lat, p.lon);
}

// The point a click on the zone map picked; nullopt if the map was not clicked, or was pressed
// from the keyboard (a button with no point: the browser sends 0, 0).
std::optional<GeoPoint> map_point(const ZoneMap& zones, const std::string& x,
                                  const std::string& y) {
  if (x.empty() || y.empty() || x.size() > 12 || y.size() > 12) return std::nullopt;
  double px = 0, py = 0;
  try {
    px = std::stod(x), py = std::stod(y);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  auto frame = zone_frame(zones);
  if (!frame || (px == 0 && py == 0) || px < 0 || py < 0 || px > frame->width || py > frame->height)
    return std::nullopt;
  return frame->point_at(px, py);
}

// The zone map as a button of a form: a click sends the form with the point clicked.
std::string map_button(const Say& say, const std::string& lang, const std::string& action) {
  return "<p class=\"hint\" id=\"map-hint\">" +
         say("Vous ne trouvez pas l'adresse ? Cliquez plutôt sur la carte des zones à "
             "l'endroit du lieu : le formulaire est envoyé avec ce point.",
             "Cannot find the address? Click the zone map where the place is instead: the form "
             "is sent with that point.") +
         "</p>\n<input type=\"image\" name=\"map\" src=\"/residents/map.svg?lang=" + lang +
         "\" alt=\"" +
         say("Carte des zones de la ville : cliquez sur le lieu à suivre",
             "Map of the city's zones: click the place to follow") +
         "\" aria-describedby=\"map-hint\" formaction=\"" + action + "\" formmethod=\"post\">\n";
}

// The names of the zones a point falls in, the most specific first, in `lang`.
std::string zone_names(const ZoneMap& zones, const GeoPoint& point, const std::string& lang) {
  std::string out;
  for (const auto& id : zones.zones_of(Location{std::nullopt, point, {}})) {
    const Zone* z = zones.find(id);
    const std::string& name = !z ? id : lang == "en" ? z->name_en : z->name_fr;
    out += (out.empty() ? "" : ", ") + (name.empty() ? id : name);
  }
  return out;
}

// The address's words a GET form sent (a checkbox group repeats its name, so read them all).
Form query_form(const ApiRequest& r) {
  auto q = r.target.find('?');
  return parse_form(q == std::string::npos ? std::string_view()
                                           : std::string_view(r.target).substr(q + 1));
}

// The addresses a search found, to choose one (the only one chosen already), or that none did.
std::string address_choices(const Say& say, const std::string& q,
                            const std::vector<CivicAddress>& found, const std::string& chosen) {
  if (found.empty())
    return q.empty() ? ""
                     : "<p class=\"error\" role=\"status\">" +
                           say("Aucune adresse de la ville ne correspond : vérifiez le numéro et "
                               "la rue.",
                               "No address of the city matches: check the number and street.") +
                           "</p>\n";
  std::string b = "<fieldset id=\"address\"><legend>" +
                  say("Choisissez l'adresse", "Choose the address") + "</legend>";
  for (std::size_t i = 0; i < found.size(); ++i) {
    const auto& a = found[i];
    const std::string id = "address-" + std::to_string(i);
    b += "<div class=\"choice\"><input type=\"radio\" id=\"" + id + "\" name=\"address\" value=\"" +
         esc(a.id) + "\"" + (chosen == a.id || found.size() == 1 ? " checked" : "") +
         "><label for=\"" + id + "\">" + esc(a.text()) + "</label></div>";
  }
  return b + "</fieldset>\n";
}

ApiResponse sign_up_page(const std::string& lang, const SignUp& sign, const ZoneMap* zones,
                         const std::vector<CivicAddress>& found, const std::vector<Error>& errors,
                         int status) {
  Say say{lang};
  auto invalid = [&](const char* name) {
    for (const auto& e : errors)
      if (e.field == name)
        return std::string(" aria-invalid=\"true\" aria-describedby=\"") + name + "-error\"";
    return std::string();
  };
  auto note = [&](const char* name) {
    for (const auto& e : errors)
      if (e.field == name)
        return "<p class=\"error\" id=\"" + std::string(name) + "-error\">" + esc(e.message) +
               "</p>";
    return std::string();
  };
  std::string b = error_summary(say, errors);
  b += "<p>" +
       say("Recevez par texto ou par courriel les alertes de la Ville pour les lieux qui "
           "comptent pour vous : votre domicile, votre travail, la maison d'un parent.",
           "Get the City's alerts by text message or e-mail for the places that matter to "
           "you: your home, your work, a parent's home.") +
       "</p>\n";
  b += "<form method=\"post\" action=\"/residents/signup\" novalidate>\n";
  b += "<input type=\"hidden\" name=\"lang\" value=\"" + lang + "\">\n";
  b += "<label for=\"phone\">" + say("Numéro de cellulaire", "Mobile number") +
       "</label><p class=\"hint\">" +
       say("Par exemple 514 555-0101. Un code de confirmation vous sera envoyé.",
           "For example 514 555-0101. A confirmation code will be sent to it.") +
       "</p>" + note("phone") +
       "<input type=\"tel\" id=\"phone\" name=\"phone\" autocomplete=\"tel\" value=\"" +
       esc(sign.phone) + "\"" + invalid("phone") + ">\n";
  b += "<label for=\"email\">" + say("Adresse courriel", "E-mail address") + "</label>" +
       note("email") +
       "<input type=\"email\" id=\"email\" name=\"email\" autocomplete=\"email\" value=\"" +
       esc(sign.email) + "\"" + invalid("email") + ">\n";
  const std::string chosen = sign.language == "fr" || sign.language == "en" ? sign.language : lang;
  b += "<fieldset id=\"language\"><legend>" + say("Langue des alertes", "Language of alerts") +
       "</legend>";
  for (auto [code, fr_name, en_name] :
       {std::tuple{"fr", "Français", "French"}, std::tuple{"en", "Anglais", "English"}})
    b += std::string("<div class=\"choice\"><input type=\"radio\" id=\"language-") + code +
         "\" name=\"language\" value=\"" + code + "\"" + (chosen == code ? " checked" : "") +
         "><label for=\"language-" + code + "\">" + say(fr_name, en_name) + "</label></div>";
  b += "</fieldset>\n";
  b += "<label for=\"q\">" + say("Adresse du lieu à suivre", "Address of the place to follow") +
       "</label><p class=\"hint\">" +
       say("Tapez le numéro et la rue, cherchez, puis choisissez l'adresse dans la liste.",
           "Type the number and street, search, then choose the address from the list.") +
       "</p>" + note("address") + "<input type=\"text\" id=\"q\" name=\"q\" value=\"" +
       esc(sign.q) + "\"" + invalid("address") + ">\n";
  b += "<button type=\"submit\" class=\"secondary\" formmethod=\"get\" "
       "formaction=\"/residents\">" +
       say("Chercher l'adresse", "Find the address") + "</button>\n";
  b += address_choices(say, sign.q, found, sign.address);
  if (auto point = point_of(sign.point); point && sign.address.empty() && zones)
    b += "<input type=\"hidden\" name=\"point\" value=\"" + point_text(*point) +
         "\">\n<p role=\"status\">" +
         say("Lieu choisi sur la carte : ", "Place picked on the map: ") +
         esc(zone_names(*zones, *point, lang)) + "</p>\n";
  b += "<label for=\"label\">" + say("Nom du lieu (facultatif)", "Name of the place (optional)") +
       "</label>" + note("label") +
       "<input type=\"text\" id=\"label\" name=\"label\" maxlength=\"60\" value=\"" +
       esc(sign.label) + "\">\n";
  b += "<fieldset id=\"categories\"><legend>" + say("Alertes à recevoir", "Alerts to receive") +
       "</legend><p class=\"hint\">" +
       say("Les alertes qui menacent des vies vous parviennent toujours, quels que soient vos "
           "choix.",
           "Alerts about a threat to life always reach you, whatever you choose.") +
       "</p>";
  for (const auto& c : resident_categories()) {
    const auto& names = kCategoryNames.at(c);
    const bool on =
        sign.categories.empty() ||
        std::find(sign.categories.begin(), sign.categories.end(), c) != sign.categories.end();
    b += "<div class=\"choice\"><input type=\"checkbox\" id=\"category-" + c +
         "\" name=\"categories\" value=\"" + c + "\"" + (on ? " checked" : "") +
         "><label for=\"category-" + c + "\">" + say(names.first, names.second) + "</label></div>";
  }
  b += "</fieldset>\n<p class=\"hint\">" +
       say("La Ville garde vos coordonnées chiffrées et ne s'en sert que pour ses alertes. Vous "
           "pouvez les télécharger ou les supprimer à tout moment.",
           "The City keeps your contact details encrypted and uses them for its alerts only. You "
           "can download or delete them at any time.") +
       "</p>\n<button type=\"submit\">" + say("M'inscrire", "Sign up") + "</button>\n" +
       map_button(say, lang, "/residents/signup") + "</form>\n";
  b += "<p><a href=\"/residents/signin?lang=" + lang + "\">" +
       say("Déjà inscrit ? Gérez votre abonnement", "Already signed up? Manage your subscription") +
       "</a></p>\n";
  return page(status, lang, say("M'inscrire aux alertes", "Sign up for alerts"), b, "/residents");
}

// A contact shown to its own holder, not in full: "•••• 0201", "b•••@exemple.ca".
std::string masked(const std::string& kind, const std::string& value) {
  if (kind == "phone") return "•••• " + value.substr(value.size() >= 4 ? value.size() - 4 : 0);
  auto at = value.find('@');
  return at == std::string::npos ? "•••" : value.substr(0, 1) + "•••" + value.substr(at);
}

// The place-adding form's state: what was searched, found, and what went wrong.
struct PlaceForm {
  std::string q, label;
  std::vector<CivicAddress> found;
  std::vector<Error> errors;
};

std::string subscription_html(const std::string& lang, const json::object& data,
                              const ZoneMap* zones, const PlaceForm& adding,
                              std::size_t max_places) {
  Say say{lang};
  std::string b = "<h2>" + say("Coordonnées", "Contact details") + "</h2>\n<ul>\n";
  for (const auto& c : data.at("contacts").as_array()) {
    const auto& o = c.as_object();
    const std::string kind(o.at("kind").as_string());
    const bool stopped = !o.at("stopped_at").is_null();
    b += "<li>" + (kind == "phone" ? say("Cellulaire", "Mobile") : say("Courriel", "E-mail")) +
         " " + esc(masked(kind, std::string(o.at("value").as_string()))) + " : " +
         (stopped && kind == "phone"       ? say("arrêté (ARRÊT)", "stopped (STOP)")
          : stopped                        ? say("désabonné", "unsubscribed")
          : o.at("confirmed_at").is_null() ? say("à confirmer", "to be confirmed")
                                           : say("confirmé", "confirmed"));
    // A number's STOP is the carrier's too: only START from the phone lifts it.
    if (stopped && kind == "phone")
      b +=
          ". " + say("Pour recevoir de nouveau les textos, envoyez START en réponse à un message "
                     "de la Ville.",
                     "To get text messages again, send START in reply to a message from the City.");
    if (stopped && kind == "email")
      b += "<form method=\"post\" action=\"/residents/me/resume\"><input type=\"hidden\" "
           "name=\"lang\" value=\"" +
           lang +
           "\"><input type=\"hidden\" name=\"contact\" value=\"email\"><button "
           "type=\"submit\" class=\"secondary\">" +
           say("Recevoir de nouveau les alertes par courriel", "Get alerts by e-mail again") +
           "</button></form>";
    b += "</li>\n";
  }
  const auto& places = data.at("places").as_array();
  b += "</ul>\n<h2 id=\"places\">" + say("Lieux suivis", "Places followed") + "</h2>\n" +
       error_summary(say, adding.errors) + "<ul>\n";
  for (std::size_t n = 0; n < places.size(); ++n) {
    if (!places[n].is_object() || !places[n].as_object().contains("label")) continue;
    const auto& o = places[n].as_object();
    const std::string label(o.at("label").as_string());
    std::string where = o.contains("address")
                            ? std::string(o.at("address").as_string())
                            : say("un point choisi sur la carte", "a point picked on the map");
    if (zones && o.contains("lat"))
      where +=
          " — " + say("zones : ", "zones: ") +
          zone_names(*zones,
                     GeoPoint{o.at("lat").to_number<double>(), o.at("lon").to_number<double>()},
                     lang);
    b +=
        "<li class=\"place\"><span><strong>" + esc(label) + "</strong> : " + esc(where) + "</span>";
    if (places.size() > 1)
      b += "<form method=\"post\" action=\"/residents/me/places/remove\"><input "
           "type=\"hidden\" name=\"lang\" value=\"" +
           lang + "\"><input type=\"hidden\" name=\"place\" value=\"" + std::to_string(n) +
           "\"><button type=\"submit\" class=\"secondary\" aria-label=\"" +
           esc(say("Ne plus suivre ", "Stop following ") + label) + "\">" +
           say("Ne plus suivre", "Stop following") + "</button></form>";
    b += "</li>\n";
  }
  b += "</ul>\n";
  if (places.size() < max_places) {
    auto invalid = !adding.errors.empty() ? std::string(" aria-invalid=\"true\"") : "";
    b += "<h3>" + say("Ajouter un lieu", "Add a place") +
         "</h3>\n<form method=\"post\" action=\"/residents/me/places\" novalidate>\n<input "
         "type=\"hidden\" name=\"lang\" value=\"" +
         lang + "\">\n<label for=\"place-label\">" +
         say("Nom du lieu (travail, la maison d'un parent…)",
             "Name of the place (work, a parent's home…)") +
         "</label><input type=\"text\" id=\"place-label\" name=\"label\" maxlength=\"60\" "
         "value=\"" +
         esc(adding.label) + "\">\n" + "<label for=\"q\">" +
         say("Adresse du lieu", "Address of the place") +
         "</label><input type=\"text\" id=\"q\" name=\"q\" value=\"" + esc(adding.q) + "\"" +
         invalid +
         ">\n<button type=\"submit\" class=\"secondary\" formmethod=\"get\" "
         "formaction=\"/residents/me#places\">" +
         say("Chercher l'adresse", "Find the address") + "</button>\n";
    b += address_choices(say, adding.q, adding.found, "");
    b += "<button type=\"submit\">" + say("Ajouter ce lieu", "Add this place") + "</button>\n" +
         map_button(say, lang, "/residents/me/places") + "</form>\n";
  }
  b += "<h2>" + say("Alertes reçues", "Alerts received") + "</h2>\n<ul>\n";
  const auto& chosen = data.at("categories").as_array();
  for (const auto& c : resident_categories())
    if (chosen.empty() || std::find(chosen.begin(), chosen.end(), json::value(c)) != chosen.end())
      b += "<li>" + say(kCategoryNames.at(c).first, kCategoryNames.at(c).second) + "</li>\n";
  b += "</ul>\n<p>" +
       say("Les alertes qui menacent des vies vous parviennent toujours.",
           "Alerts about a threat to life always reach you.") +
       "</p>\n<p>" + say("Langue des alertes : ", "Language of alerts: ") +
       (data.at("language") == "en" ? say("anglais", "English") : say("français", "French")) +
       "</p>\n";
  // Change what they get.
  b += "<h2>" + say("Modifier mes choix", "Change my choices") +
       "</h2>\n<form method=\"post\" action=\"/residents/me\">\n<input type=\"hidden\" "
       "name=\"lang\" value=\"" +
       lang + "\">\n<fieldset><legend>" + say("Langue des alertes", "Language of alerts") +
       "</legend>";
  for (auto [code, fr_name, en_name] :
       {std::tuple{"fr", "Français", "French"}, std::tuple{"en", "Anglais", "English"}})
    b += std::string("<div class=\"choice\"><input type=\"radio\" id=\"language-") + code +
         "\" name=\"language\" value=\"" + code + "\"" +
         (data.at("language") == code ? " checked" : "") + "><label for=\"language-" + code +
         "\">" + say(fr_name, en_name) + "</label></div>";
  b += "</fieldset>\n<fieldset><legend>" + say("Alertes à recevoir", "Alerts to receive") +
       "</legend>";
  for (const auto& c : resident_categories()) {
    const bool on =
        chosen.empty() || std::find(chosen.begin(), chosen.end(), json::value(c)) != chosen.end();
    b += "<div class=\"choice\"><input type=\"checkbox\" id=\"category-" + c +
         "\" name=\"categories\" value=\"" + c + "\"" + (on ? " checked" : "") +
         "><label for=\"category-" + c + "\">" +
         say(kCategoryNames.at(c).first, kCategoryNames.at(c).second) + "</label></div>";
  }
  b +=
      "</fieldset>\n<button type=\"submit\">" + say("Enregistrer", "Save") + "</button>\n</form>\n";
  // Their data, and erasure.
  b += "<h2>" + say("Mes données", "My data") +
       "</h2>\n<p><a href=\"/residents/me/data.json\" "
       "download>" +
       say("Télécharger tout ce que la Ville garde sur moi (JSON)",
           "Download everything the City keeps on me (JSON)") +
       "</a></p>\n<form method=\"post\" action=\"/residents/me/delete\">\n<input "
       "type=\"hidden\" name=\"lang\" value=\"" +
       lang +
       "\">\n<div class=\"choice\"><input type=\"checkbox\" id=\"confirm-delete\" "
       "name=\"confirm\" value=\"yes\" required><label for=\"confirm-delete\">" +
       say("Je veux me désabonner et supprimer toutes mes données",
           "I want to unsubscribe and delete all my data") +
       "</label></div>\n<button type=\"submit\" class=\"secondary\">" +
       say("Me désabonner et supprimer mes données", "Unsubscribe and delete my data") +
       "</button>\n</form>\n";
  return b;
}

ApiResponse closed_page(const std::string& lang) {
  Say say{lang};
  return page(404, lang, say("Inscription fermée", "Sign-up closed"),
              "<p>" +
                  say("La Ville n'offre pas encore l'inscription aux alertes.",
                      "The City does not offer sign-up for alerts yet.") +
                  "</p>\n",
              "/residents");
}

}  // namespace

void Api::residents_home(const ApiRequest& request, Respond respond) {
  Form f = query_form(request);
  const std::string lang = language_of(request, field(f, "lang"));
  if (!resident_box_) return respond(closed_page(lang));
  auto sign = std::make_shared<SignUp>(sign_up_of(f));
  off_thread("the residents' page", std::move(respond), [this, lang, sign](Respond& respond) {
    std::vector<CivicAddress> found;
    if (!sign->q.empty())
      found = store_.with_connection(
          [&](db::Connection& db) { return addresses::search(db, sign->q); });
    auto set = library_.current();
    respond(sign_up_page(lang, *sign, set ? &set->references.zones : nullptr, found, {}, 200));
  });
}

void Api::resident_sign_up(const ApiRequest& request, Respond respond) {
  Form f = parse_form(request.body);
  const std::string lang = language_of(request, field(f, "lang"));
  if (!resident_box_) return respond(closed_page(lang));
  if (cross_site(auth_, request))
    return respond(error(403, Error{"cross_origin", "Origin: not this site's", "Origin"}));
  auto sign = std::make_shared<SignUp>(sign_up_of(f));
  Say say{lang};
  std::vector<Error> errors;
  auto resident = std::make_shared<NewResident>();
  if (!sign->phone.empty()) {
    auto e164 = mobile_number(sign->phone, residents_.allowed_countries, "phone");
    if (e164)
      resident->phone = *e164;
    else
      errors.push_back(e164.error());
  }
  if (!sign->email.empty()) {
    auto address = email_address(sign->email, "email");
    if (address)
      resident->email = *address;
    else
      errors.push_back(address.error());
  }
  if (sign->phone.empty() && sign->email.empty())
    errors.push_back({"invalid",
                      say("Donnez un numéro de cellulaire, une adresse courriel, ou les deux.",
                          "Give a mobile number, an e-mail address, or both."),
                      "phone"});
  if (!resident->email.empty() && auth_->options().public_origin.empty())
    errors.push_back({"unavailable",
                      say("L'inscription par courriel n'est pas encore offerte : donnez un "
                          "numéro de cellulaire.",
                          "Sign-up by e-mail is not offered yet: give a mobile number."),
                      "email"});
  resident->language = sign->language == "en" ? "en" : "fr";
  for (const auto& c : sign->categories)
    if (kCategoryNames.count(c)) resident->categories.push_back(c);
  if (sign->label.size() > 60)
    errors.push_back(
        {"too_large", say("60 caractères au plus.", "60 characters at most."), "label"});
  off_thread(
      "a resident's sign-up", std::move(respond),
      [this, lang, sign, resident, errors](Respond& respond) mutable {
        Say say{lang};
        auto set = library_.current();
        if (!set) return respond(error(503, Error{"unavailable", "no playbooks are loaded", ""}));
        const ZoneMap& zones = set->references.zones;
        // A click on the map is the form's submit: it wins; else the address chosen; else the
        // point a click picked before.
        std::optional<GeoPoint> point = map_point(zones, sign->map_x, sign->map_y);
        if (point) sign->address.clear();
        std::optional<CivicAddress> place;
        std::vector<CivicAddress> found;
        store_.with_connection([&](db::Connection& db) {
          if (!sign->address.empty()) place = addresses::find(db, sign->address);
          if (!sign->q.empty()) found = addresses::search(db, sign->q);
          return 0;
        });
        if (!sign->address.empty() && !place)
          errors.push_back({"invalid",
                            say("Cette adresse n'est pas une adresse de la ville.",
                                "This address is not one of the city's."),
                            "address"});
        if (!point && !place && sign->address.empty()) point = point_of(sign->point);
        if (point) sign->point = point_text(*point);
        if (!place && !point && sign->address.empty())
          errors.push_back({"invalid",
                            sign->map_x.empty()
                                ? say("Cherchez l'adresse du lieu, puis choisissez-la dans la "
                                      "liste, ou cliquez sur la carte.",
                                      "Find the place's address, then choose it from the list, or "
                                      "click the map.")
                                : say("Cliquez sur la carte avec la souris ou le doigt, ou "
                                      "cherchez l'adresse du lieu.",
                                      "Click the map with a mouse or a finger, or find the "
                                      "place's address."),
                            "address"});
        if (!errors.empty()) return respond(sign_up_page(lang, *sign, &zones, found, errors, 400));
        const std::string label = sign->label.empty() ? say("domicile", "home") : sign->label;
        if (place)
          resident->places.push_back({label, place->point, place->text()});
        else
          resident->places.push_back({label, *point, ""});
        struct Outcome {
          std::optional<Error> refused;
          std::vector<std::pair<residents::Issued, std::string>> codes;  // with its kind
        };
        auto outcome = std::make_shared<Outcome>();
        journal_.write(
            [this, set, resident, outcome](db::Connection& db) {
              const Timestamp at = now();
              const SealedBox& box = *resident_box_;
              std::vector<std::pair<std::string, std::string>> contacts;  // kind, blind
              if (!resident->phone.empty())
                contacts.emplace_back("phone", box.blind("phone", resident->phone));
              if (!resident->email.empty())
                contacts.emplace_back("email", box.blind("email", resident->email));
              for (const auto& [kind, blind] : contacts)
                if (auto ok =
                        residents::may_send(db, blind, kind, residents_.max_codes_per_day, at);
                    !ok)
                  return void(outcome->refused = ok.error());
              const std::string id = ids_.next();
              auto added = residents::add(db, box, set->references.zones, *resident, false,
                                          residents_.max_places, id, at);
              if (!added) return void(outcome->refused = added.error());
              for (const auto& [kind, blind] : contacts)
                outcome->codes.emplace_back(
                    residents::issue(db, box, id, kind, blind, ids_.next(), at), kind);
              audit::Appender(db).append(
                  {at, "resident", "resident.sign_up", id, R"({"channel":"web"})"});
            },
            [this, lang, sign, set, resident, outcome, found, respond](bool committed) {
              Say say{lang};
              if (!committed) return respond(not_stored());
              if (outcome->refused) {
                Error e = *outcome->refused;
                if (e.code == "duplicate")
                  e.message = e.field == "phone" ? say("Ce numéro est déjà inscrit.",
                                                       "This number is already signed up.")
                                                 : say("Cette adresse est déjà inscrite.",
                                                       "This address is already signed up.");
                if (e.code == "outside")
                  e = {
                      "outside",
                      say("Ce lieu est hors de la ville : la Ville n'envoie d'alertes que pour son "
                          "territoire.",
                          "This place is outside the city: the City sends alerts for its territory "
                          "only."),
                      "address"};
                if (e.code == "rate_limited")
                  e.message = say("Trop de codes ont été envoyés : réessayez dans une heure.",
                                  "Too many codes were sent: try again in an hour.");
                return respond(sign_up_page(lang, *sign, &set->references.zones, found, {e},
                                            e.code == "rate_limited" ? 429 : 400));
              }
              for (const auto& [code, kind] : outcome->codes)
                send_code(lang, kind, kind == "phone" ? resident->phone : resident->email, code);
              // The phone's code first (its page asks for it); an e-mail alone: its page says to
              // look.
              respond(see_other("/residents/confirm/" + outcome->codes.front().first.id +
                                "?lang=" + lang));
            });
      });
}

void Api::send_code(const std::string& lang, const std::string& kind, const std::string& to,
                    const residents::Issued& code) {
  Say say{lang};
  auto* desk = deliveries_.dispatcher;
  if (!desk) return;
  Message m;
  m.language = lang;
  std::string channel = kind == "phone" ? "sms" : "email";
  if (kind == "phone") {
    m.text = say("Alertes de la Ville : votre code de confirmation est ",
                 "City alerts: your confirmation code is ") +
             code.secret + say(". Il expire dans 10 minutes.", ". It expires in 10 minutes.");
  } else {
    const std::string link = auth_->options().public_origin + "/residents/email/" + code.id +
                             "?t=" + code.secret + "&lang=" + lang;
    m.subject = say("Confirmez votre adresse pour les alertes de la Ville",
                    "Confirm your address for the City's alerts");
    m.text = say("Pour recevoir les alertes de la Ville à cette adresse, confirmez-la (le lien "
                 "expire dans 10 minutes) :\n\n",
                 "To get the City's alerts at this address, confirm it (the link expires in 10 "
                 "minutes):\n\n") +
             link + "\n\n" +
             say("Si vous ne vous êtes pas inscrit, ignorez ce message.",
                 "If you did not sign up, ignore this message.") +
             "\n";
  }
  desk->send_direct(channel, Recipient{"resident", to, lang}, std::move(m),
                    [kind](channels::SendResult r) {
                      if (r.outcome == channels::SendResult::Outcome::sent ||
                          r.outcome == channels::SendResult::Outcome::delivered)
                        spdlog::info("residents: a confirmation {} was sent", kind);
                    });
}

void Api::resident_confirm(const std::string& id, const ApiRequest& request, bool act,
                           Respond respond) {
  Form f = act ? parse_form(request.body) : query_form(request);
  const std::string lang = language_of(request, field(f, "lang"));
  if (!resident_box_) return respond(closed_page(lang));
  Say say{lang};
  const std::string self = "/residents/confirm/" + esc(id.substr(0, 40));
  auto form_page = [lang, self, say](int status, const std::string& problem) {
    std::string b =
        problem.empty()
            ? ""
            : "<div role=\"alert\" id=\"errors\"><p class=\"error\" id=\"code-error\">" +
                  esc(problem) + "</p></div>\n";
    b += "<p>" +
         say("Nous vous avons envoyé un code à 6 chiffres par texto. Entrez-le ici pour "
             "confirmer votre numéro. Si vous avez donné une adresse courriel, ouvrez aussi le "
             "lien que nous y avons envoyé.",
             "We sent you a 6-digit code by text message. Enter it here to confirm your number. "
             "If you gave an e-mail address, also open the link we sent there.") +
         "</p>\n<form method=\"post\" action=\"" + self +
         "\">\n<input type=\"hidden\" name=\"lang\" value=\"" + lang + "\">\n<label for=\"code\">" +
         say("Code de confirmation", "Confirmation code") +
         "</label><input type=\"text\" id=\"code\" name=\"code\" inputmode=\"numeric\" "
         "autocomplete=\"one-time-code\" maxlength=\"6\"" +
         (problem.empty() ? "" : " aria-invalid=\"true\" aria-describedby=\"code-error\"") +
         ">\n<button type=\"submit\">" + say("Confirmer", "Confirm") + "</button>\n</form>\n";
    return page(status, lang, say("Confirmez votre inscription", "Confirm your sign-up"), b, self);
  };
  if (!act) return respond(form_page(200, ""));
  if (cross_site(auth_, request))
    return respond(error(403, Error{"cross_origin", "Origin: not this site's", "Origin"}));
  std::string code = field(f, "code");
  code.erase(std::remove_if(code.begin(), code.end(), ::isspace), code.end());
  auto outcome = std::make_shared<std::optional<Result<residents::Redeemed>>>();
  auto left = std::make_shared<int>(0);
  journal_.write(
      [this, id, code, outcome, left](db::Connection& db) {
        *outcome = residents::redeem(db, *resident_box_, id, code, now(), left.get());
        if (**outcome)
          audit::Appender(db).append({now(), "resident", "resident.confirm",
                                      (**outcome)->resident_id,
                                      "{\"contact\":\"" + (**outcome)->kind + "\"}"});
      },
      [this, lang, outcome, left, form_page, respond](bool committed) {
        Say say{lang};
        if (!committed || !*outcome) return respond(not_stored());
        const auto& r = **outcome;
        if (!r) {
          const std::string& c = r.error().code;
          std::string problem =
              c == "wrong" ? say("Ce n'est pas le code envoyé. Essais restants : ",
                                 "This is not the code we sent. Tries left: ") +
                                 std::to_string(*left)
              : c == "expired"
                  ? say("Ce code a expiré (après 10 minutes) : inscrivez-vous de nouveau.",
                        "This code has expired (after 10 minutes): sign up again.")
              : c == "exhausted" ? say("Trop d'essais : demandez un nouveau code.",
                                       "Too many tries: ask for a new code.")
                                 : say("Ce code n'est plus valide : demandez-en un nouveau.",
                                       "This code is no longer valid: ask for a new one.");
          return respond(form_page(c == "expired" ? 410 : 400, problem));
        }
        std::string cookie =
            std::string(kCookie) + "=" +
            residents::session_value(*resident_box_, r->resident_id, now() + kSessionLifetime) +
            "; Path=/residents; HttpOnly; SameSite=Strict; Max-Age=" +
            std::to_string(std::chrono::seconds(kSessionLifetime).count()) +
            (auth_->options().secure_cookie ? "; Secure" : "");
        respond(see_other("/residents/me?lang=" + lang, cookie));
      });
}

void Api::resident_email(const std::string& id, const ApiRequest& request, Respond respond) {
  // GET only shows the button: mail scanners that open links confirm nothing.
  Form f = query_form(request);
  const std::string lang = language_of(request, field(f, "lang"));
  if (!resident_box_) return respond(closed_page(lang));
  Say say{lang};
  const std::string self = "/residents/email/" + esc(id.substr(0, 40));
  std::string b = "<p>" +
                  say("Confirmez que cette adresse courriel recevra les alertes de la Ville.",
                      "Confirm that this e-mail address will get the City's alerts.") +
                  "</p>\n<form method=\"post\" action=\"/residents/confirm/" +
                  esc(id.substr(0, 40)) + "\">\n<input type=\"hidden\" name=\"lang\" value=\"" +
                  lang + "\">\n<input type=\"hidden\" name=\"code\" value=\"" + esc(field(f, "t")) +
                  "\">\n<button type=\"submit\">" +
                  say("Confirmer mon adresse", "Confirm my address") + "</button>\n</form>\n";
  respond(page(200, lang, say("Confirmez votre adresse", "Confirm your address"), b, self));
}

void Api::resident_me(const ApiRequest& request, Respond respond) {
  Form f = query_form(request);
  const std::string lang = language_of(request, field(f, "lang"));
  auto who = resident_of(request, lang, respond);
  if (!who) return;
  resident_subscription(lang, *who, field(f, "q"), field(f, "label"), {}, 200, std::move(respond));
}

void Api::resident_subscription(const std::string& lang, const std::string& id,
                                const std::string& q, const std::string& label,
                                std::vector<Error> errors, int status, Respond respond) {
  off_thread(
      "a resident's subscription", std::move(respond),
      [this, lang, id, q, label, errors, status](Respond& respond) {
        Say say{lang};
        PlaceForm adding{q, label, {}, errors};
        auto data = store_.with_connection([&](db::Connection& db) {
          if (!q.empty()) adding.found = addresses::search(db, q);
          return residents::export_data(db, *resident_box_, id);
        });
        if (!data)
          return respond(page(
              404, lang, say("Abonnement introuvable", "No subscription"),
              "<p>" + say("Cet abonnement n'existe plus.", "This subscription no longer exists.") +
                  "</p>\n",
              "/residents/me"));
        auto set = library_.current();
        respond(page(status, lang, say("Mon abonnement", "My subscription"),
                     subscription_html(lang, *data, set ? &set->references.zones : nullptr, adding,
                                       residents_.max_places),
                     "/residents/me"));
      });
}

void Api::resident_add_place(const ApiRequest& request, Respond respond) {
  Form f = parse_form(request.body);
  const std::string lang = language_of(request, field(f, "lang"));
  auto who = resident_of(request, lang, respond);
  if (!who) return;
  auto sign = std::make_shared<SignUp>(sign_up_of(f));
  off_thread(
      "a resident's new place", std::move(respond),
      [this, lang, id = *who, sign](Respond& respond) {
        Say say{lang};
        auto set = library_.current();
        if (!set) return respond(error(503, Error{"unavailable", "no playbooks are loaded", ""}));
        const ZoneMap& zones = set->references.zones;
        std::optional<GeoPoint> point = map_point(zones, sign->map_x, sign->map_y);
        std::optional<CivicAddress> place;
        if (!point && !sign->address.empty())
          place = store_.with_connection(
              [&](db::Connection& db) { return addresses::find(db, sign->address); });
        auto refuse = [&](std::string message) {
          resident_subscription(lang, id, sign->q, sign->label,
                                {Error{"invalid", std::move(message), "q"}}, 400,
                                std::move(respond));
        };
        if (sign->label.size() > 60)
          return refuse(say("Le nom du lieu a 60 caractères au plus.",
                            "A place's name has 60 characters at most."));
        if (!point && !place)
          return refuse(
              !sign->address.empty() ? say("Cette adresse n'est pas une adresse de la ville.",
                                           "This address is not one of the city's.")
              : !sign->map_x.empty()
                  ? say("Cliquez sur la carte avec la souris ou le doigt, ou cherchez l'adresse "
                        "du lieu.",
                        "Click the map with a mouse or a finger, or find the place's address.")
                  : say("Cherchez l'adresse du lieu, puis choisissez-la dans la liste, ou "
                        "cliquez sur la carte.",
                        "Find the place's address, then choose it from the list, or click the "
                        "map."));
        ResidentPlace where{sign->label.empty() ? say("lieu", "place") : sign->label,
                            place ? place->point : *point, place ? place->text() : ""};
        auto outcome = std::make_shared<std::optional<Error>>();
        journal_.write(
            [this, set, id, where, outcome](db::Connection& db) {
              auto r = residents::add_place(db, *resident_box_, set->references.zones, id, where,
                                            residents_.max_places, now());
              if (!r) *outcome = r.error();
            },
            [this, lang, id, sign, outcome, respond](bool committed) {
              Say say{lang};
              if (!committed) return respond(not_stored());
              if (*outcome) {
                const Error& e = **outcome;
                return resident_subscription(
                    lang, id, sign->q, sign->label,
                    {Error{e.code,
                           e.code == "outside"
                               ? say("Ce lieu est hors de la ville : la Ville n'envoie d'alertes "
                                     "que pour son territoire.",
                                     "This place is outside the city: the City sends alerts for "
                                     "its territory only.")
                           : e.code == "too_large"
                               ? say("Vous suivez déjà le nombre de lieux permis.",
                                     "You already follow as many places as allowed.")
                               : e.message,
                           "q"}},
                    e.code == "not_found" ? 404 : 400, respond);
              }
              respond(see_other("/residents/me?lang=" + lang + "#places"));
            });
      });
}

void Api::resident_remove_place(const ApiRequest& request, Respond respond) {
  Form f = parse_form(request.body);
  const std::string lang = language_of(request, field(f, "lang"));
  auto who = resident_of(request, lang, respond);
  if (!who) return;
  const std::string n = field(f, "place");
  if (n.empty() || n.size() > 3 || n.find_first_not_of("0123456789") != std::string::npos)
    return respond(error(400, Error{"invalid", "the place's number", "place"}));
  auto set = library_.current();
  if (!set) return respond(error(503, Error{"unavailable", "no playbooks are loaded", ""}));
  auto outcome = std::make_shared<std::optional<Error>>();
  journal_.write(
      [this, set, id = *who, number = std::stoul(n), outcome](db::Connection& db) {
        auto r =
            residents::remove_place(db, *resident_box_, set->references.zones, id, number, now());
        if (!r) *outcome = r.error();
      },
      [this, lang, id = *who, outcome, respond](bool committed) {
        Say say{lang};
        if (!committed) return respond(not_stored());
        if (*outcome)
          return resident_subscription(
              lang, id, "", "",
              {Error{(*outcome)->code,
                     (*outcome)->code == "invalid"
                         ? say("Un abonnement suit au moins un lieu : pour tout arrêter, "
                               "désabonnez-vous.",
                               "A subscription follows at least one place: to stop everything, "
                               "unsubscribe.")
                         : say("Ce lieu n'existe plus.", "This place no longer exists."),
                     "q"}},
              (*outcome)->code == "invalid" ? 400 : 404, respond);
        respond(see_other("/residents/me?lang=" + lang + "#places"));
      });
}

void Api::residents_map(const ApiRequest& request, Respond respond) {
  const std::string lang = language_of(request, field(query_form(request), "lang"));
  auto set = library_.current();
  auto frame = set ? zone_frame(set->references.zones) : std::nullopt;
  if (!resident_box_ || !frame) return respond(error(404, Error{"not_found", "no zone map", ""}));
  ApiResponse r;
  r.status = 200;
  r.content_type = "image/svg+xml";
  r.headers["Cache-Control"] = "public, max-age=300";
  r.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'";
  r.headers["X-Content-Type-Options"] = "nosniff";
  r.body = zone_picture_svg(set->references.zones, *frame, lang);
  respond(std::move(r));
}

// The signed-in resident of a request, or the page that says why not (answered).
std::optional<std::string> Api::resident_of(const ApiRequest& request, const std::string& lang,
                                            Respond& respond) {
  if (!resident_box_) {
    respond(closed_page(lang));
    return std::nullopt;
  }
  auto who = signed_in(request, *resident_box_);
  if (!who) {
    Say say{lang};
    respond(page(401, lang, say("Session expirée", "Session expired"),
                 "<p>" +
                     say("Confirmez de nouveau votre numéro ou votre adresse pour voir votre "
                         "abonnement.",
                         "Confirm your number or address again to see your subscription.") +
                     "</p>\n<p><a href=\"/residents/signin?lang=" + lang + "\">" +
                     say("Recevoir un code", "Get a code") + "</a></p>\n",
                 "/residents/me"));
    return std::nullopt;
  }
  if (request.method == "POST" && cross_site(auth_, request)) {
    respond(error(403, Error{"cross_origin", "Origin: not this site's", "Origin"}));
    return std::nullopt;
  }
  return who;
}

void Api::resident_data(const ApiRequest& request, Respond respond) {
  const std::string lang = language_of(request, field(query_form(request), "lang"));
  auto who = resident_of(request, lang, respond);
  if (!who) return;
  off_thread("a resident's data", std::move(respond), [this, id = *who](Respond& respond) {
    auto data = store_.with_connection(
        [&](db::Connection& db) { return residents::export_data(db, *resident_box_, id); });
    if (!data)
      return respond(error(404, Error{"not_found", "this subscription no longer exists", ""}));
    ApiResponse r = json_response(200, *data);
    r.headers["Cache-Control"] = "no-store";
    r.headers["Content-Disposition"] = "attachment; filename=\"tocsin-resident.json\"";
    respond(std::move(r));
  });
}

void Api::resident_update(const ApiRequest& request, Respond respond) {
  Form f = parse_form(request.body);
  const std::string lang = language_of(request, field(f, "lang"));
  auto who = resident_of(request, lang, respond);
  if (!who) return;
  std::string language = field(f, "language");
  std::vector<std::string> categories;
  for (const auto& c : fields(f, "categories"))
    if (kCategoryNames.count(c)) categories.push_back(c);
  // Every category ticked is the same as none: every alert.
  if (categories.size() == resident_categories().size()) categories.clear();
  auto outcome = std::make_shared<std::optional<Error>>();
  journal_.write(
      [id = *who, language, categories, outcome](db::Connection& db) {
        auto r = residents::set_preferences(db, id, language, categories, now());
        if (!r) *outcome = r.error();
      },
      [lang, outcome, respond](bool committed) {
        if (!committed) return respond(not_stored());
        if (*outcome) return respond(error(400, **outcome));
        respond(see_other("/residents/me?lang=" + lang));
      });
}

void Api::resident_erase(const ApiRequest& request, Respond respond) {
  Form f = parse_form(request.body);
  const std::string lang = language_of(request, field(f, "lang"));
  auto who = resident_of(request, lang, respond);
  if (!who) return;
  Say say{lang};
  if (field(f, "confirm") != "yes")
    return respond(page(400, lang, say("Rien n'est supprimé", "Nothing is deleted"),
                        "<p>" +
                            say("Cochez la case pour confirmer la suppression.",
                                "Tick the box to confirm the deletion.") +
                            "</p>\n<p><a href=\"/residents/me?lang=" + lang + "\">" +
                            say("Retour à mon abonnement", "Back to my subscription") +
                            "</a></p>\n",
                        "/residents/me"));
  journal_.write(
      [id = *who](db::Connection& db) { residents::erase(db, id, "resident", now()); },
      [this, lang, respond](bool committed) {
        Say say{lang};
        if (!committed) return respond(not_stored());
        ApiResponse r =
            page(200, lang, say("Désabonnement fait", "Unsubscribed"),
                 "<p>" +
                     say("Votre abonnement et toutes vos données sont supprimés. Vous ne recevrez "
                         "plus d'alertes de la Ville par texto ni par courriel.",
                         "Your subscription and all your data are deleted. You will get no more of "
                         "the City's alerts by text message or e-mail.") +
                     "</p>\n",
                 "/residents");
        r.headers["Set-Cookie"] = std::string(kCookie) +
                                  "=; Path=/residents; HttpOnly; SameSite=Strict; Max-Age=0" +
                                  (auth_->options().secure_cookie ? "; Secure" : "");
        respond(std::move(r));
      });
}

void Api::resident_sign_in(const ApiRequest& request, bool act, Respond respond) {
  Form f = act ? parse_form(request.body) : query_form(request);
  const std::string lang = language_of(request, field(f, "lang"));
  if (!resident_box_) return respond(closed_page(lang));
  Say say{lang};
  auto form = [lang, say](int status, const std::string& given, const std::string& problem) {
    std::string b = problem.empty() ? ""
                                    : "<div role=\"alert\" id=\"errors\"><p class=\"error\" "
                                      "id=\"contact-error\">" +
                                          esc(problem) + "</p></div>\n";
    b += "<p>" +
         say("Donnez le numéro de cellulaire ou l'adresse courriel de votre abonnement : nous y "
             "enverrons un code ou un lien pour l'ouvrir.",
             "Give your subscription's mobile number or e-mail address: we will send a code or "
             "a link to it to open it.") +
         "</p>\n<form method=\"post\" action=\"/residents/signin\">\n<input type=\"hidden\" "
         "name=\"lang\" value=\"" +
         lang + "\">\n<label for=\"contact\">" +
         say("Cellulaire ou courriel", "Mobile number or e-mail") +
         "</label><input type=\"text\" id=\"contact\" name=\"contact\" "
         "autocomplete=\"username\" value=\"" +
         esc(given) + "\"" +
         (problem.empty() ? "" : " aria-invalid=\"true\" aria-describedby=\"contact-error\"") +
         ">\n<button type=\"submit\">" + say("Recevoir un code", "Get a code") +
         "</button>\n</form>\n";
    return page(status, lang, say("Gérer mon abonnement", "Manage my subscription"), b,
                "/residents/signin");
  };
  if (!act) return respond(form(200, "", ""));
  if (cross_site(auth_, request))
    return respond(error(403, Error{"cross_origin", "Origin: not this site's", "Origin"}));
  const std::string given = field(f, "contact");
  std::string kind = given.find('@') == std::string::npos ? "phone" : "email";
  auto value = kind == "phone" ? mobile_number(given, residents_.allowed_countries, "contact")
                               : email_address(given, "contact");
  if (!value) return respond(form(400, given, value.error().message));
  if (kind == "email" && auth_->options().public_origin.empty())
    return respond(form(400, given,
                        say("Les liens par courriel ne sont pas encore offerts : donnez votre "
                            "numéro de cellulaire.",
                            "Links by e-mail are not offered yet: give your mobile number.")));
  // Whether the contact is someone's is never said: the next page is the same either way, and
  // only its holder gets a code.
  struct Outcome {
    std::optional<residents::Issued> code;
    std::optional<Error> refused;
  };
  auto outcome = std::make_shared<Outcome>();
  const std::string fake = ids_.next();
  journal_.write(
      [this, kind, contact = *value, outcome](db::Connection& db) {
        const Timestamp at = now();
        auto id = residents::find_by_contact(db, *resident_box_, kind, contact);
        if (!id) return;
        const std::string blind = resident_box_->blind(kind, contact);
        if (auto ok = residents::may_send(db, blind, "contact", residents_.max_codes_per_day, at);
            !ok)
          return void(outcome->refused = ok.error());
        outcome->code = residents::issue(db, *resident_box_, *id, kind, blind, ids_.next(), at);
      },
      [this, lang, kind, contact = *value, given, outcome, fake, form, respond](bool committed) {
        Say say{lang};
        if (!committed) return respond(not_stored());
        if (outcome->refused)
          return respond(form(429, given,
                              say("Trop de codes ont été envoyés : réessayez dans une heure.",
                                  "Too many codes were sent: try again in an hour.")));
        if (outcome->code) send_code(lang, kind, contact, *outcome->code);
        respond(see_other("/residents/confirm/" + (outcome->code ? outcome->code->id : fake) +
                          "?lang=" + lang));
      });
}

void Api::resident_unsubscribe(const std::string& token, const ApiRequest& request, bool act,
                               Respond respond) {
  // RFC 8058: the mail client (or its provider's server) posts List-Unsubscribe=One-Click to the
  // header's link, with no cookie and no Origin of this site: the signed token is the credential.
  // A GET (a mail scanner, or the body's link) only shows the button.
  const std::string lang = language_of(request, field(query_form(request), "lang"));
  if (!resident_box_) return respond(closed_page(lang));
  Say say{lang};
  auto who = residents::unsubscribing(*resident_box_, token);
  if (!who)
    return respond(page(404, lang, say("Lien non valide", "Link not valid"),
                        "<p>" +
                            say("Ce lien de désabonnement n'est pas valide. Gérez votre "
                                "abonnement depuis ",
                                "This unsubscribe link is not valid. Manage your subscription "
                                "from ") +
                            "<a href=\"/residents/signin?lang=" + lang + "\">" +
                            say("cette page", "this page") + "</a>.</p>\n",
                        "/residents"));
  const std::string self = "/residents/unsubscribe/" + esc(token);
  if (!act)
    return respond(page(200, lang, say("Se désabonner", "Unsubscribe"),
                        "<p>" +
                            say("Ne plus recevoir les alertes de la Ville à cette adresse "
                                "courriel ? Vos autres moyens (texto) ne changent pas.",
                                "Stop getting the City's alerts at this e-mail address? Your "
                                "other means (text messages) do not change.") +
                            "</p>\n<form method=\"post\" action=\"" + self + "?lang=" + lang +
                            "\">\n<input type=\"hidden\" name=\"List-Unsubscribe\" "
                            "value=\"One-Click\">\n<button type=\"submit\">" +
                            say("Me désabonner", "Unsubscribe") + "</button>\n</form>\n",
                        self));
  if (!one_click(request))
    return respond(error(400, Error{"invalid", "the body is List-Unsubscribe=One-Click (RFC 8058)",
                                    "List-Unsubscribe"}));
  journal_.write(
      [who = *who](db::Connection& db) {
        residents::set_contact_stopped(db, who.resident_id, who.kind, true, now());
      },
      [this, lang, respond](bool committed) {
        Say say{lang};
        if (!committed) return respond(not_stored());
        // The same answer whether it was subscribed, already not, or erased since.
        respond(page(200, lang, say("Désabonnement fait", "Unsubscribed"),
                     "<p>" +
                         say("Vous ne recevrez plus d'alertes de la Ville à cette adresse "
                             "courriel.",
                             "You will get no more of the City's alerts at this e-mail address.") +
                         "</p>\n<p><a href=\"/residents/signin?lang=" + lang + "\">" +
                         say("Gérer mon abonnement", "Manage my subscription") + "</a></p>\n",
                     "/residents"));
      });
}

void Api::resident_resume(const ApiRequest& request, Respond respond) {
  Form f = parse_form(request.body);
  const std::string lang = language_of(request, field(f, "lang"));
  auto who = resident_of(request, lang, respond);
  if (!who) return;
  if (field(f, "contact") != "email")
    return respond(
        error(400, Error{"invalid", "only an e-mail address is resumed here; a number sends START",
                         "contact"}));
  journal_.write(
      [id = *who](db::Connection& db) {
        residents::set_contact_stopped(db, id, "email", false, now());
      },
      [lang, respond](bool committed) {
        if (!committed) return respond(not_stored());
        respond(see_other("/residents/me?lang=" + lang));
      });
}

}  // namespace tocsin
