#pragma once
// What a staff page gets for its one recipient, on top of the alert's rendering: by SMS, the code
// to answer with ("Répondez 1A pour confirmer"); by SMS and e-mail, the one-tap link. Public
// alerts get neither. An SMS that would then exceed max_segments drops the link, then the code:
// the page itself matters more than the shortcuts.

#include "broker/oncall/one_tap.hpp"
#include "broker/oncall/reply_codes.hpp"
#include "dispatchers/dispatcher.hpp"

namespace tocsin {

class StaffPages : public dispatchers::MessageDecorator {
 public:
  // Either may be null (no links without http.public_origin; no codes without replies).
  StaffPages(const OneTap* links, ReplyCodes* codes) : links_(links), codes_(codes) {}

  std::optional<Message> decorate(const Delivery& delivery, const Alert& alert,
                                  const Message& message, int max_segments) const override;

 private:
  const OneTap* links_;
  ReplyCodes* codes_;
};

}  // namespace tocsin
