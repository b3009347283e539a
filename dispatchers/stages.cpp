#include "dispatchers/stages.hpp"

#include "channels/sms/segments.hpp"

namespace tocsin::dispatchers {

using channels::SendResult;

std::optional<SendResult> MessageStage::check(const Delivery& d, const Alert& a, const Message* m) {
  if (m) return std::nullopt;
  return SendResult::permanent("no_message", "no " + d.channel + " message in '" +
                                                 d.recipient.language + "' for template '" +
                                                 a.template_name + "'");
}

std::optional<SendResult> SegmentLimitStage::check(const Delivery&, const Alert&,
                                                   const Message* m) {
  if (!m || max_ <= 0) return std::nullopt;
  auto count = channels::sms::count_segments(m->text);
  if (count.segments <= std::size_t(max_)) return std::nullopt;
  return SendResult::permanent("too_long", "the text takes " + std::to_string(count.segments) +
                                               " SMS segments, over max_segments " +
                                               std::to_string(max_) + "; it is not cut");
}

void RetryStage::settle(Settlement& s, Clock::time_point) {
  if (s.result.outcome != SendResult::Outcome::retry) return;
  const Delivery& d = s.delivery;
  bool too_old = now() - d.created_at >= max_age_;
  if (d.attempts < max_attempts_ && !too_old) {
    s.next = Settlement::Next::retry;
    s.delay = backoff_.delay(d.attempts, s.result.retry_after);
    return;
  }
  s.error += too_old ? " (gave up: older than max_age)"
                     : " (gave up after " + std::to_string(d.attempts) + " attempts)";
}

}  // namespace tocsin::dispatchers
