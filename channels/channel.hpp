#pragma once
// The one interface every channel implements. A channel carries one delivery at a time to its
// provider (an SMS API, an SMTP server, a siren controller…) and says how it went. It knows
// nothing of playbooks, SQLite or retries: the dispatcher's stages do those.

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/alert.hpp"
#include "core/result.hpp"

namespace tocsin::channels {

struct SendRequest {
  const Delivery& delivery;  // delivery.id is the idempotency key of every attempt
  const Alert& alert;
  const Message& message;  // rendered for delivery.recipient.language and this channel
};

struct SendResult {
  enum class Outcome {
    sent,       // the provider took it
    delivered,  // the provider says it reached the recipient (a siren confirmed it sounds)
    retry,      // a failure that may pass: timeout, 429, 5xx, connection refused
    failed,     // a failure that will not: bad number, 4xx, message refused
  };
  Outcome outcome = Outcome::sent;
  std::string reason;  // a short label for metrics: ok, timeout, http_429, http_5xx, refused…
  std::string detail;  // for the delivery's last_error; never holds a secret
  std::optional<std::chrono::milliseconds> retry_after;  // the provider asked us to wait
  std::string provider_ref;                              // the provider's id for the message

  static SendResult ok(std::string provider_ref = {}) {
    return {Outcome::sent, "ok", "", std::nullopt, std::move(provider_ref)};
  }
  static SendResult retryable(std::string reason, std::string detail,
                              std::optional<std::chrono::milliseconds> after = std::nullopt) {
    return {Outcome::retry, std::move(reason), std::move(detail), after, ""};
  }
  static SendResult permanent(std::string reason, std::string detail) {
    return {Outcome::failed, std::move(reason), std::move(detail), std::nullopt, ""};
  }
};

// Which contact detail of a person a channel sends to; broadcast channels pick their own
// recipients (the public feed, siren controllers in the alert's zones, a webhook endpoint).
// A channel's addressing is one of its capabilities (channels/registry.hpp).
enum class Addressing { phone, email, person, broadcast };

// What a provider said later about a message it took (a delivery receipt).
struct Receipt {
  std::string provider_ref;            // the provider's id of the message (SendResult's)
  std::optional<DeliveryState> state;  // delivered or failed; nullopt: nothing to record
  std::string reason;                  // why it failed, in the provider's words
};

// A provider that sends delivery receipts by a signed HTTP callback
// (POST /api/v1/receipts/{channel}).
class Receipts {
 public:
  virtual ~Receipts() = default;
  // The callback's form-encoded body and its headers (names in lower case), its signature
  // checked. Errors: bad_signature (403), invalid_body or invalid_value (400), each naming the
  // field.
  virtual Result<Receipt> read(std::string_view body,
                               const std::map<std::string, std::string>& headers) const = 0;
};

// A text message a person sent to the service's number, as its provider posted it
// (POST /api/v1/inbound/sms).
struct InboundMessage {
  std::string from;  // E.164
  std::string to;
  std::string body;
  std::string provider_ref;  // the provider's id of the message
};

// A provider that forwards the messages people send to its number by a signed HTTP webhook.
class InboundMessages {
 public:
  virtual ~InboundMessages() = default;
  // The webhook's form-encoded body and its headers (names in lower case), its signature
  // checked. Errors as Receipts::read's.
  virtual Result<InboundMessage> read_inbound(
      std::string_view body, const std::map<std::string, std::string>& headers) const = 0;
};

class Channel {
 public:
  virtual ~Channel() = default;
  // Broadcast channels only: where an alert goes on this channel.
  virtual std::vector<Recipient> broadcast_recipients(const Alert&) const { return {}; }
  // Blocking. Called on the dispatcher's worker threads for this channel, several at once when
  // the channel has more than one worker: implementations are thread-safe.
  virtual SendResult send(const SendRequest& request) = 0;
  // Work the channel does beside its sends (a siren's status polling): started with the
  // dispatcher, stopped before its lanes are.
  virtual void start() {}
  virtual void stop() {}
  // Its provider's delivery receipts; null if it sends none.
  virtual const Receipts* receipts() const { return nullptr; }
  // Its provider's inbound messages (replies); null if it forwards none.
  virtual const InboundMessages* inbound() const { return nullptr; }
};

}  // namespace tocsin::channels
