#include "broker/residents/unsubscribe.hpp"

#include <sodium.h>

#include "broker/api/responses.hpp"
#include "broker/residents/registry.hpp"
#include "channels/sms/segments.hpp"

namespace tocsin {

namespace residents {

std::string unsubscribe_token(const SealedBox& box, const std::string& resident_id,
                              const std::string& kind) {
  const std::string body = resident_id + "." + kind;
  return body + "." + box.blind("unsubscribe", body);
}

std::optional<Unsubscribing> unsubscribing(const SealedBox& box, const std::string& token) {
  if (token.size() > 200) return std::nullopt;
  auto mac_at = token.rfind('.');
  if (mac_at == std::string::npos) return std::nullopt;
  const std::string body = token.substr(0, mac_at), given = token.substr(mac_at + 1);
  const std::string mac = box.blind("unsubscribe", body);
  if (mac.size() != given.size() || sodium_memcmp(mac.data(), given.data(), mac.size()) != 0)
    return std::nullopt;
  auto dot = body.find('.');
  if (dot == std::string::npos) return std::nullopt;
  return Unsubscribing{body.substr(0, dot), body.substr(dot + 1)};
}

}  // namespace residents

std::optional<Message> ResidentMessages::decorate(const Delivery& delivery, const Alert&,
                                                  const Message& message, int max_segments) const {
  if (!is_resident(delivery.recipient.id)) return {};
  const std::string id = delivery.recipient.id.substr(kResidentPrefix.size());
  const bool fr = delivery.recipient.language != "en";
  Message m = message;
  if (delivery.channel == "email") {
    if (origin_.empty()) return {};
    m.unsubscribe = origin_ + "/residents/unsubscribe/" +
                    residents::unsubscribe_token(*box_, id, "email") +
                    "?lang=" + (fr ? "fr" : "en");
    const std::string manage = origin_ + "/residents/signin?lang=" + (fr ? "fr" : "en");
    m.text += std::string(fr ? "\n\n--\nVous recevez ce courriel parce que vous êtes inscrit aux "
                               "alertes de la Ville.\nVous désabonner en un clic : "
                             : "\n\n--\nYou get this e-mail because you signed up for the City's "
                               "alerts.\nUnsubscribe in one click: ") +
              m.unsubscribe + "\n" +
              (fr ? "Gérer votre abonnement : " : "Manage your subscription: ") + manage + "\n";
    if (!m.html.empty())
      m.html += "\n<hr>\n<p>" +
                std::string(fr ? "Vous recevez ce courriel parce que vous êtes inscrit aux alertes "
                                 "de la Ville."
                               : "You get this e-mail because you signed up for the City's "
                                 "alerts.") +
                " <a href=\"" + markup_escaped(m.unsubscribe) + "\">" +
                (fr ? "Vous désabonner" : "Unsubscribe") + "</a> · <a href=\"" +
                markup_escaped(manage) + "\">" +
                (fr ? "Gérer votre abonnement" : "Manage your subscription") + "</a></p>\n";
    return m;
  }
  if (delivery.channel == "sms" && sms_replies_) {
    const std::string more = fr ? "\nARRET pour ne plus recevoir" : "\nSTOP to opt out";
    if (max_segments > 0 &&
        channels::sms::count_segments(message.text + more).segments > std::size_t(max_segments))
      return {};
    m.text = message.text + more;
    return m;
  }
  return {};
}

}  // namespace tocsin
