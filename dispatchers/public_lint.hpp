#pragma once
// The public-alert lint: the mistakes that made real public warnings fail — no expiry, a
// language missing or identical to the other, a control character or a typographic quote that
// broke delivery, an SMS too long, a headline too long, no area. Run at dry-run
// (`tocsin playbook test`), when an approval opens (shown to the approver, who cannot approve
// past it), before sending (the dispatcher blocks the alert) and on a composed alert
// (`tocsin alert lint FILE`). Every problem is one line starting with the field.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/fwd.hpp>

#include "core/alert.hpp"
#include "core/incident.hpp"
#include "core/result.hpp"
#include "core/time.hpp"

namespace tocsin::dispatchers {

struct PublicDraft {
  Status status = Status::actual;
  Timestamp sent{};
  std::optional<Timestamp> effective, onset, expires;
  std::string headline;
  std::vector<std::string> area;  // zone ids, or "point" / "polygon"
  // channel → language → message, for every channel that carries text. A language missing
  // here is a parity error; `render_errors` says why, when rendering failed.
  std::map<std::string, std::map<std::string, Message>> messages;
  std::vector<std::string> render_errors;
  std::map<std::string, std::string> alphabet;  // sms: gsm (default) | ucs2, as declared
  int max_segments = 0;                         // sms; 0: no limit
};

// What an alert would do if sent now (the console's compose preview): its reach, and its text
// rendered in French and English on every text channel it names.
struct AlertPreview {
  Reach reach;
  PublicDraft draft;
};

constexpr std::size_t kMaxHeadline = 160;  // characters; CAP advises short, SMS-sized headlines

std::vector<std::string> lint_public_alert(const PublicDraft& draft);

// A composed alert as JSON (the console's compose form, `tocsin alert lint FILE`):
// {"status", "sent", "effective", "onset", "expires", "headline", "area": [zones],
//  "max_segments", "alphabet": {"sms": "gsm"}, "messages": {"sms": {"fr": "…", "en": "…"},
//  "email": {"fr": {"subject": "…", "text": "…"}, …}, …}}
Result<PublicDraft> public_draft_from_json(const boost::json::value& v);

}  // namespace tocsin::dispatchers
