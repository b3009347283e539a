// /a/{token}: a one-tap acknowledgement link from a staff page (broker/oncall/one_tap.hpp). GET
// shows what a tap will do and does nothing else (link scanners fetch URLs); POST acknowledges the
// incident as the person the link was sent to. Plain HTML with a form: no script, no account.
#include "broker/api/api.hpp"

#include <spdlog/spdlog.h>

#include "broker/api/responses.hpp"

#include "broker/oncall/one_tap.hpp"
#include "core/time.hpp"

namespace tocsin {

namespace {

// A page in the reader's language (both, French first, where no person is known).
ApiResponse page(int status, const std::string& language, const std::string& title,
                 const std::string& body) {
  ApiResponse r;
  r.status = status;
  r.content_type = "text/html; charset=utf-8";
  r.headers["Cache-Control"] = "no-store";
  r.headers["Referrer-Policy"] = "no-referrer";  // the token is in the address
  r.headers["X-Frame-Options"] = "DENY";         // no tap through someone else's page
  r.headers["Content-Security-Policy"] =
      "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'";
  r.body = "<!doctype html>\n<html lang=\"" + (language == "en" ? std::string("en") : "fr") +
           "\">\n<head><meta charset=\"utf-8\"><meta name=\"viewport\" "
           "content=\"width=device-width, initial-scale=1\"><title>" +
           markup_escaped(title) +
           "</title>\n<style>body{font:1.1rem/1.5 system-ui,sans-serif;max-width:32rem;margin:2rem "
           "auto;padding:0 1rem}button{font-size:1.2rem;padding:.8rem 1.4rem;min-height:48px}"
           "</style></head>\n<body>\n<h1>" +
           markup_escaped(title) + "</h1>\n" + body + "</body>\n</html>\n";
  return r;
}

ApiResponse unknown_link(const Error& e) {
  bool expired = e.code == "expired";
  return page(expired ? 410 : 404, "fr",
              expired ? "Lien expiré / Link expired" : "Lien inconnu / Unknown link",
              expired
                  ? "<p>Ce lien a expiré : accusez réception dans la console.</p>\n<p lang=\"en\">"
                    "This link has expired: acknowledge in the console.</p>\n"
                  : "<p>Ce lien n'est pas un lien de Tocsin, ou il a été modifié.</p>\n<p "
                    "lang=\"en\">This is not a Tocsin link, or it was altered.</p>\n");
}

}  // namespace

void Api::one_tap(const std::string& token, bool act, Respond respond) {
  if (!one_tap_) return respond(unknown_link(Error{"not_found", "token: links are off", "token"}));
  auto claim = one_tap_->verify(token, now());
  if (!claim) return respond(unknown_link(claim.error()));
  off_thread(
      "one-tap link", std::move(respond), [this, act, id = claim->delivery_id](Respond& respond) {
        struct Found {
          std::string person, incident, channel;
        };
        auto found = store_.with_connection([&](db::Connection& db) -> std::optional<Found> {
          auto st =
              db.prepare("SELECT recipient, incident_id, channel FROM deliveries WHERE id = ?1");
          st.bind(1, id);
          if (!st.step()) return std::nullopt;
          return Found{st.text(0), st.text(1), st.text(2)};
        });
        auto set = library_.current();
        const Person* person = found && set ? set->references.people.find(found->person) : nullptr;
        if (!person)
          return respond(unknown_link(Error{"not_found", "token: no such page", "token"}));
        auto record = store_.get(found->incident);
        if (!record)
          return respond(unknown_link(Error{"not_found", "token: no incident", "token"}));
        const bool en = person->language == "en";
        const std::string& lang = person->language;
        std::string what = "<p><strong>" + markup_escaped(record->incident.headline) +
                           "</strong><br>" + markup_escaped(record->incident.type) + " · " +
                           markup_escaped(to_string(record->incident.severity)) + "</p>\n";
        if (record->state != "active")
          return respond(page(409, lang, en ? "Already closed" : "Déjà fermé",
                              what + (en ? "<p>This incident is " : "<p>Cet incident est ") +
                                  markup_escaped(record->state) + ".</p>\n"));
        if (record->acknowledged_at) {
          // By whom (their name) and when, on the city's clock.
          const Person* by = set->references.people.find(record->acknowledged_by);
          return respond(page(200, lang, en ? "Already acknowledged" : "Réception déjà accusée",
                              what + (en ? "<p>Acknowledged by " : "<p>Accusée par ") +
                                  markup_escaped(by ? by->name : record->acknowledged_by) + " (" +
                                  set->references.schedules.local_text(*record->acknowledged_at) +
                                  ").</p>\n"));
        }
        if (!act)
          return respond(
              page(200, lang, en ? "Acknowledge?" : "Accuser réception ?",
                   what + "<p>" + markup_escaped(person->name) +
                       (en ? ": one tap acknowledges it and stops the escalation.</p>\n"
                           : " : un geste accuse réception et arrête l'escalade.</p>\n") +
                       "<form method=\"post\"><button type=\"submit\">" +
                       (en ? "Acknowledge" : "Accuser réception") + "</button></form>\n"));
        // The tap: acknowledged as the person the page was sent to.
        journal_.act(
            IncidentAction{found->incident, "ack", person->id,
                           "one-tap link (" + found->channel + ")"},
            [respond, lang, en, what, who = person->id](Result<ActionDone> r) {
              if (!r) {
                spdlog::warn("one-tap link: {} could not acknowledge: {}", who, r.error().message);
                return respond(page(409, lang, en ? "Not acknowledged" : "Réception non accusée",
                                    what + "<p>" + markup_escaped(r.error().message) + "</p>\n"));
              }
              spdlog::info("incident {} acknowledged by {} with a one-tap link", r->incident_id,
                           who);
              respond(page(200, lang, en ? "Acknowledged" : "Réception accusée",
                           what + (en ? "<p>Thank you: the escalation stops.</p>\n"
                                      : "<p>Merci : l'escalade s'arrête.</p>\n")));
            });
      });
}

}  // namespace tocsin
