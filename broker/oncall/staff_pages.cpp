#include "broker/oncall/staff_pages.hpp"

#include "channels/sms/segments.hpp"

namespace tocsin {

std::optional<Message> StaffPages::decorate(const Delivery& delivery, const Alert& alert,
                                            const Message& message, int max_segments) const {
  if (alert.is_public || (alert.kind != "notify" && alert.kind != "escalation")) return {};
  if (delivery.channel != "sms" && delivery.channel != "email") return {};
  if (delivery.recipient.id.empty()) return {};
  const bool fr = delivery.recipient.language != "en";
  const std::string url = links_ ? links_->link(delivery.id) : "";
  Message m = message;
  if (delivery.channel == "email") {
    if (url.empty()) return {};
    m.text +=
        std::string(fr ? "\n\nAccuser réception en un geste : " : "\n\nAcknowledge in one tap: ") +
        url + "\n";
    if (!m.html.empty())
      m.html += "\n<p><a href=\"" + url + "\">" +
                (fr ? "Accuser réception en un geste" : "Acknowledge in one tap") + "</a></p>\n";
    return m;
  }
  std::string code;
  if (codes_)
    if (auto n = codes_->code_for(delivery.recipient.id, delivery.incident_id))
      code = fr ? "\nRépondez " + std::to_string(*n) + "A pour confirmer, " + std::to_string(*n) +
                      "E pour escalader"
                : "\nReply " + std::to_string(*n) + "A to ack, " + std::to_string(*n) +
                      "E to escalate";
  const std::string link = url.empty() ? "" : (fr ? "\nConfirmer : " : "\nAcknowledge: ") + url;
  auto fits = [&](const std::string& text) {
    return max_segments <= 0 ||
           channels::sms::count_segments(text).segments <= std::size_t(max_segments);
  };
  for (const std::string& more : {code + link, code, link}) {
    if (more.empty() || !fits(message.text + more)) continue;
    m.text = message.text + more;
    return m;
  }
  return {};
}

}  // namespace tocsin
