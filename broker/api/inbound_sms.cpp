// POST /api/v1/inbound/sms: a reply to a staff page, as the SMS provider forwards it (Twilio's
// incoming-message webhook: From, To, Body, MessageSid, signed in X-Twilio-Signature). "1A" from a
// person's own number acknowledges the incident their page number 1 was about, as them ("1E"
// escalates it now, "1R" resolves it where their console account may operate); the answer
// goes back in the webhook's reply (TwiML), in their language. Anything else changes nothing and
// gets at most one short help reply per number every 5 minutes, and none after repeated errors
// (replies cost, and SMS pumping is a real fraud).
// Residents answer public alerts with the carriers' keywords: STOP (ARRÊT, ARRET…) stops every
// text message to that number until START; AIDE or HELP says how. The answer is the same whether
// or not the number is a resident's, so the webhook tells nobody who is signed up.
#include "broker/api/api.hpp"

#include <spdlog/spdlog.h>

#include <regex>

#include "broker/api/reply_limits.hpp"
#include "broker/api/responses.hpp"
#include "broker/oncall/reply_codes.hpp"
#include "broker/residents/registry.hpp"

namespace tocsin {

namespace {

// The webhook's answer: the provider sends `text` back to the sender (none when empty).
ApiResponse twiml(const std::string& text) {
  ApiResponse r;
  r.content_type = "text/xml";
  r.body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response>" +
           (text.empty() ? std::string() : "<Message>" + markup_escaped(text) + "</Message>") +
           "</Response>\n";
  return r;
}

// At most `max` bytes of UTF-8 text, cut between characters, with "…" when cut.
std::string shortened(const std::string& s, std::size_t max) {
  if (s.size() <= max) return s;
  std::size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  return s.substr(0, end) + "…";
}

enum class ResidentKeyword { none, stop, start, help };

// The carriers' opt-out words, in French and English, alone in the message (case, spaces and the
// accent of ARRÊT aside).
ResidentKeyword resident_keyword(const std::string& body) {
  std::string word;
  for (std::size_t i = 0; i < body.size(); ++i) {
    unsigned char c = body[i];
    if (std::isspace(c) || c == '.' || c == '!') continue;
    if (c == 0xC3 && i + 1 < body.size() && (body[i + 1] == '\xAA' || body[i + 1] == '\x8A')) {
      word += 'E';  // ê, Ê
      ++i;
      continue;
    }
    word += char(std::toupper(c));
    if (word.size() > 16) return ResidentKeyword::none;
  }
  for (const char* w : {"STOP", "ARRET", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
    if (word == w) return ResidentKeyword::stop;
  for (const char* w : {"START", "UNSTOP", "REPRENDRE"})
    if (word == w) return ResidentKeyword::start;
  for (const char* w : {"AIDE", "HELP", "INFO"})
    if (word == w) return ResidentKeyword::help;
  return ResidentKeyword::none;
}

const std::string kResidentStopped =
    "Tocsin : vous ne recevrez plus d'alertes par texto. Répondez START pour les recevoir de "
    "nouveau. / You will get no more alerts by text. Reply START to get them again.";
const std::string kResidentStarted =
    "Tocsin : vous recevrez de nouveau les alertes par texto. Répondez ARRÊT pour les arrêter. / "
    "You will get alerts by text again. Reply STOP to stop them.";
const std::string kResidentHelp =
    "Tocsin, alertes de la ville : répondez ARRÊT pour ne plus les recevoir, START pour les "
    "reprendre. / City alerts: reply STOP to stop them, START to get them again.";

}  // namespace

void Api::inbound_sms(const ApiRequest& request, Respond respond) {
  const channels::InboundMessages* inbound =
      deliveries_.dispatcher ? deliveries_.dispatcher->inbound("sms") : nullptr;
  if (!inbound)
    return respond(error(404, Error{"not_found",
                                    "channel 'sms': its provider forwards no replies "
                                    "(channels.sms.inbound_url)",
                                    ""}));
  auto read = inbound->read_inbound(request.body, request.headers);
  if (!read) {
    if (read.error().code == "bad_signature") {
      metrics_.rejected("bad_signature");
      return respond(error(403, read.error()));
    }
    return respond(error(400, read.error()));
  }
  if (auto keyword = resident_keyword(read.value().body); keyword != ResidentKeyword::none) {
    if (keyword == ResidentKeyword::help || !resident_box_) return respond(twiml(kResidentHelp));
    const bool stop = keyword == ResidentKeyword::stop;
    return journal_.write(
        [box = resident_box_, from = read.value().from, stop](db::Connection& db) {
          residents::set_stopped(db, *box, from, stop, now());
        },
        [respond = std::move(respond), stop](bool committed) {
          if (!committed)
            return respond(
                error(503, Error{"storage_unavailable",
                                 "the journal could not store this; send it again", ""}));
          spdlog::info("inbound sms: a {} from a number (a resident's or nobody's)",
                       stop ? "STOP" : "START");
          respond(twiml(stop ? kResidentStopped : kResidentStarted));
        });
  }
  off_thread("an SMS reply", std::move(respond), [this, m = read.value()](Respond& respond) {
    auto set = library_.current();
    const Person* person = nullptr;
    if (set)
      for (const auto& p : set->references.people.people())
        if (!p.phone.empty() && p.phone == m.from) person = &p;
    const bool en = person && person->language == "en";
    auto help = [&](const std::string& fr_text, const std::string& en_text) {
      const std::string text = !person ? fr_text + " / " + en_text : en ? en_text : fr_text;
      respond(twiml(reply_limits_->may_help(m.from, now()) ? text : ""));
    };
    if (!person) {
      spdlog::info("inbound sms: a reply from a number that is not a staff member's; ignored");
      return help("Tocsin : ce numéro n'est pas celui d'un membre du personnel.",
                  "Tocsin: this number is not a staff member's.");
    }
    std::string words;
    for (unsigned char c : m.body)
      if (!std::isspace(c)) words += char(std::toupper(c));
    static const std::regex code(R"(^([0-9]{1,2})([AER])$)");
    std::smatch parts;
    if (!std::regex_match(words, parts, code))
      return help("Tocsin : répondez avec le code de l'avis, par exemple 1A.",
                  "Tocsin: reply with the page's code, for example 1A.");
    const int number = std::stoi(parts[1].str());
    const char letter = parts[2].str()[0];
    auto incident = store_.with_connection(
        [&](db::Connection& db) { return ReplyCodes::incident_of(db, person->id, number); });
    auto record = incident ? store_.get(*incident) : std::nullopt;
    if (!record)
      return help("Tocsin : aucun avis n° " + std::to_string(number) + " pour vous.",
                  "Tocsin: no page number " + std::to_string(number) + " for you.");
    const std::string what = shortened(record->incident.headline, 60);
    if (record->state != "active")
      return respond(twiml(en ? "Tocsin: " + what + " is already " + record->state + "."
                              : "Tocsin : " + what + " est déjà " +
                                    (record->state == "resolved" ? "résolu." : "annulé.")));
    if (letter == 'A' && record->acknowledged_at) {
      const Person* by = set->references.people.find(record->acknowledged_by);
      const std::string who = by ? by->name : record->acknowledged_by;
      return respond(twiml(en ? "Tocsin: already acknowledged by " + who + ": " + what
                              : "Tocsin : réception déjà accusée par " + who + " : " + what));
    }
    // Resolving takes what it takes in the console: an account that may operate.
    if (letter == 'R') {
      auto role = store_.with_connection([&](db::Connection& db) -> std::string {
        auto st = db.prepare("SELECT role FROM users WHERE id = ?1 AND disabled_at IS NULL");
        st.bind(1, person->id);
        return st.step() ? st.text(0) : std::string();
      });
      if (role != "operator" && role != "approver" && role != "admin")
        return help("Tocsin : résoudre demande un compte d'opérateur ; rien n'est changé.",
                    "Tocsin: resolving takes an operator's account; nothing changed.");
    }
    const std::string kind = letter == 'A' ? "ack" : letter == 'E' ? "escalate" : "resolve";
    journal_.act(
        IncidentAction{*incident, kind, person->id, "SMS reply " + words},
        [respond, en, what, kind, who = person->id](Result<ActionDone> r) {
          if (!r) {
            spdlog::warn("inbound sms: {}'s {} was refused: {}", who, kind, r.error().message);
            return respond(twiml(en ? "Tocsin: nothing changed; use the console."
                                    : "Tocsin : rien n'est changé ; utilisez la console."));
          }
          spdlog::info("incident {}: {} by {} by SMS reply", r->incident_id, r->state, who);
          if (kind == "ack")
            return respond(twiml(en ? "Tocsin: acknowledged, " + what + ". Thank you."
                                    : "Tocsin : réception accusée, " + what + ". Merci."));
          if (kind == "escalate")
            return respond(twiml(en ? "Tocsin: escalated, " + what + "."
                                    : "Tocsin : escalade demandée, " + what + "."));
          respond(twiml(en ? "Tocsin: resolved, " + what + "." : "Tocsin : résolu, " + what + "."));
        });
  });
}

}  // namespace tocsin
