#pragma once
// Personal data out of the permanent record. A provider's error text often echoes the address it
// could not reach ("The 'To' number +15145550101 is not valid", "550 <marie@ville.example>:
// no such user"); what is stored (a delivery's last_error, the audit trail), logged or answered
// names the recipient by id instead. The recipient's address, when it is an e-mail address or a
// phone number, is replaced wherever it appears (with or without its +), and so is anything shaped
// like an e-mail address or a phone number: a + and at least 7 digits (spaces, dots, dashes and
// brackets between them), or a run of 10 digits or more.

#include <string>
#include <string_view>

namespace tocsin {

std::string without_personal_data(std::string_view text, std::string_view address = {});

}  // namespace tocsin
