#pragma once
// Unsubscribing in one step from any message a resident gets: an e-mail carries a link of its
// own, in its List-Unsubscribe header (with List-Unsubscribe-Post, RFC 8058's one click) and in
// its body; a text message says to answer ARRÊT (STOP), when the city takes replies. The link's
// token names the resident and the contact, signed with the residents' key; it does not expire
// (a message read a year later still unsubscribes) and is good for that one contact only.

#include <optional>
#include <string>

#include "broker/residents/sealed_box.hpp"
#include "dispatchers/dispatcher.hpp"

namespace tocsin {

namespace residents {

std::string unsubscribe_token(const SealedBox& box, const std::string& resident_id,
                              const std::string& kind);
struct Unsubscribing {
  std::string resident_id;
  std::string kind;  // email
};
// The resident and contact a token names, if the residents' key signed it.
std::optional<Unsubscribing> unsubscribing(const SealedBox& box, const std::string& token);

}  // namespace residents

// The dispatcher's decorator for residents' deliveries of public alerts: the e-mail's link and
// header, the SMS's ARRÊT line (dropped if it would make the message longer than the channel
// allows: the alert matters more).
class ResidentMessages : public dispatchers::MessageDecorator {
 public:
  // `origin`: http.public_origin (empty: no e-mail link); `sms_replies`: whether STOP is heard.
  ResidentMessages(std::shared_ptr<const SealedBox> box, std::string origin, bool sms_replies)
      : box_(std::move(box)), origin_(std::move(origin)), sms_replies_(sms_replies) {}

  std::optional<Message> decorate(const Delivery& delivery, const Alert& alert,
                                  const Message& message, int max_segments) const override;

 private:
  std::shared_ptr<const SealedBox> box_;
  std::string origin_;
  bool sms_replies_;
};

}  // namespace tocsin
