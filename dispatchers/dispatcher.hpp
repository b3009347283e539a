#pragma once
// The dispatcher: turns committed alerts into deliveries (one per recipient and channel), stores
// them before any attempt, and runs each channel's lane: a queue and its stages
// (dispatchers/stages.hpp), composed here from the channel's policy:
//   rate limit → circuit breaker → message checks → send → retry with backoff → fallback.
// What a channel can do comes from the registry (channels/registry.hpp); the audience, the
// message templates and the store are interfaces, so residents (or another store) come later
// without changing this file.

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "channels/channel.hpp"
#include "core/alert.hpp"
#include "core/incident.hpp"
#include "core/metrics.hpp"
#include "core/result.hpp"
#include "core/ulid.hpp"
#include "dispatchers/public_lint.hpp"

namespace tocsin::dispatchers {

// A recipient's language when the channel has no reader's language: French and English together.
inline constexpr const char* kBothLanguages = "fr+en";

// A person (staff member, later a resident) the audience names, with what each channel needs.
struct Contact {
  std::string id;
  std::string language;  // fr | en
  std::string phone;     // E.164
  std::string email;
  std::vector<std::string> channels;  // preferred, in order; empty: any
};

class AudienceSource {
 public:
  virtual ~AudienceSource() = default;
  // Everyone the alert's audience names, each once.
  virtual std::vector<Contact> contacts(const Alert& alert, const IncidentRecord& incident) = 0;
  // One contact by id (for a fallback to another channel).
  virtual std::optional<Contact> contact(const std::string& id) = 0;
};

class MessageRenderer {
 public:
  virtual ~MessageRenderer() = default;
  virtual Result<Message> render(const Alert& alert, const IncidentRecord& incident,
                                 const std::string& language, const std::string& channel) = 0;
};

// What a delivery's message gets for its one recipient, on top of the alert's rendering (a staff
// member's one-tap acknowledgement link, a resident's unsubscribe link): nullopt keeps the message
// as it is. Called on the lane's thread before the message checks, at each attempt, each
// decorator in the order they were added. `max_segments` is the channel's (0: none).
class MessageDecorator {
 public:
  virtual ~MessageDecorator() = default;
  virtual std::optional<Message> decorate(const Delivery& delivery, const Alert& alert,
                                          const Message& message, int max_segments) const = 0;
};

// An alert with its messages, rendered once per (channel, language) when it was dispatched.
struct AlertContent {
  Alert alert;
  std::map<std::pair<std::string, std::string>, Message> messages;  // (channel, language)
  const Message* message(const std::string& channel, const std::string& language) const;
  mutable std::atomic_flag first_send;  // set by the first send call of any of its deliveries
};

// Where deliveries are kept (SQLite in the broker). Writes are asynchronous.
class DeliveryLedger {
 public:
  virtual ~DeliveryLedger() = default;
  // In one transaction: the deliveries and messages stored, and, if `dispatched`, the alert
  // marked dispatched. `done(true)` runs once it committed; no delivery is sent before.
  virtual void record(std::shared_ptr<const AlertContent> content, std::vector<Delivery> deliveries,
                      bool dispatched, std::function<void(bool committed)> done) = 0;
  // A delivery's new state; stored in order, in batches.
  virtual void update(const Delivery& delivery) = 0;
  // An alert's content as stored (blocking read), for a delivery that failed later, by receipt.
  virtual std::shared_ptr<const AlertContent> content(const std::string& alert_id) = 0;
  // A public alert the lint, bilingual parity or its approved reach stopped: marked blocked with
  // the reasons (and an incident raised), nothing sent.
  virtual void block(const Alert& alert, const std::vector<std::string>& problems) = 0;
};

struct ChannelPolicy {
  double rate_per_second = 20;
  double burst = 20;
  int workers = 2;
  int max_attempts = 5;
  std::chrono::seconds max_age{15 * 60};
  std::chrono::milliseconds backoff_initial{1000};
  std::chrono::milliseconds backoff_max{5 * 60 * 1000};
  int breaker_failures = 5;
  std::chrono::milliseconds breaker_cooldown{30'000};
  std::string fallback;  // another channel a permanently failed delivery goes to
  int max_segments = 0;  // sms: longer messages fail, never cut; 0: no limit
};

struct ChannelSetup {
  std::string name;
  std::shared_ptr<channels::Channel> channel;
  ChannelPolicy policy;
};

// What the rest of the server (the API) asks of the dispatcher.
class AlertDesk {
 public:
  virtual ~AlertDesk() = default;
  // Never blocks: the alert is planned on the dispatcher's own thread.
  virtual void dispatch(Alert alert, IncidentRecord incident) = 0;
  // The reach, and the text on each channel the alert names, in both languages. Thread-safe.
  virtual AlertPreview preview(const Alert& alert, const IncidentRecord& incident) const = 0;
  virtual bool has_channel(const std::string& name) const = 0;
  // The delivery receipts of a channel's provider; null if it sends none (or no such channel).
  virtual const channels::Receipts* receipts(const std::string& channel) const = 0;
  // The replies a channel's provider forwards; null if none (or no such channel).
  virtual const channels::InboundMessages* inbound(const std::string&) const { return nullptr; }
  // The provider said later (a receipt) that a sent delivery failed: it falls back like a send
  // that failed. Never blocks.
  virtual void failed_by_receipt(Delivery delivery) = 0;
  // A message that is no alert's (a resident's confirmation code) sent once on `channel` to one
  // recipient, apart from the lanes: no delivery row, no retry (the caller keeps its own record
  // and limits, and the person asks again). Never blocks; `done` runs on the direct sender's
  // thread. No such channel: done(failed) at once.
  virtual void send_direct(const std::string& channel, Recipient /*to*/, Message /*message*/,
                           std::function<void(channels::SendResult)> done) {
    done(channels::SendResult::permanent("no_channel",
                                         "channel '" + channel + "' is not configured"));
  }
  virtual std::string render_metrics() const = 0;
};

class Dispatcher : public AlertDesk {
 public:
  Dispatcher(std::vector<ChannelSetup> channels, DeliveryLedger& ledger, AudienceSource& audience,
             MessageRenderer& renderer);
  ~Dispatcher() override;
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  void start();
  // Added before start(); none: messages are sent as rendered.
  void decorator(const MessageDecorator* d) { decorators_.push_back(d); }
  // AlertDesk
  void dispatch(Alert alert, IncidentRecord incident) override;
  AlertPreview preview(const Alert& alert, const IncidentRecord& incident) const override;
  bool has_channel(const std::string& name) const override;
  const channels::Receipts* receipts(const std::string& channel) const override;
  const channels::InboundMessages* inbound(const std::string& channel) const override;
  void failed_by_receipt(Delivery delivery) override;
  void send_direct(const std::string& channel, Recipient to, Message message,
                   std::function<void(channels::SendResult)> done) override;
  std::string render_metrics() const override;

  // Deliveries stored before a restart and not finished: queued again as they are.
  void resume(std::shared_ptr<const AlertContent> content, std::vector<Delivery> deliveries);
  // Stops taking work; sends in progress finish. What is queued stays queued in the ledger.
  void stop();

  // What a public alert would reach if sent now: deliveries per channel, area, sirens, and the
  // public-alert lint's problems. Thread-safe (the journal asks when an approval opens).
  Reach reach(const Alert& alert, const IncidentRecord& incident) const;
  // French then English in one message, for a recipient of language kBothLanguages.
  static Message bilingual(const Message& fr, const Message& en);

 private:
  struct Lane;
  struct Job;
  struct Planned {
    Alert alert;
    IncidentRecord incident;
  };
  void plan_loop(std::stop_token stop);
  void plan(const Planned& p);
  std::vector<Delivery> recipients(const Alert& alert, const IncidentRecord& incident) const;
  PublicDraft draft(const Alert& alert, const IncidentRecord& incident,
                    const std::vector<Delivery>& deliveries,
                    const std::vector<std::string>& also = {}) const;
  Reach reach_of(const Alert& alert, const IncidentRecord& incident,
                 const std::vector<Delivery>& deliveries) const;
  void enqueue(std::shared_ptr<const AlertContent> content, std::vector<Delivery> deliveries);
  void work(Lane& lane, std::stop_token stop);
  // One send of a delivery through the lane's stages, and its new state stored.
  void attempt(Lane& lane, Job job);
  void fall_back(Lane& from, const std::shared_ptr<const AlertContent>& content,
                 const Delivery& failed);
  std::optional<std::string> address(const Lane& lane, const Contact& who) const;

  DeliveryLedger& ledger_;
  AudienceSource& audience_;
  MessageRenderer& renderer_;
  std::vector<const MessageDecorator*> decorators_;
  UlidGenerator ids_;
  std::map<std::string, std::unique_ptr<Lane>> lanes_;

  std::mutex mutex_;
  std::condition_variable_any wake_;
  std::vector<Planned> inbox_;
  // Alerts whose rows the ledger has stored, to be queued on their lanes by the planner's thread
  // (not the ledger's: queueing 100,000 deliveries takes a while).
  std::vector<std::pair<std::shared_ptr<const AlertContent>, std::vector<Delivery>>> stored_;
  std::vector<Delivery> failed_later_;
  std::jthread planner_;
  // Direct sends (send_direct), one at a time on their own thread: a provider that hangs holds
  // back only them, never an alert's lane.
  struct Direct;
  std::mutex direct_mutex_;
  std::condition_variable_any direct_wake_;
  std::vector<std::unique_ptr<Direct>> direct_;
  std::jthread direct_sender_;
  Histogram plan_seconds_{0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5};
  // From the commit that made an alert to the first send call of its deliveries.
  Histogram first_send_seconds_{0.00025, 0.0005, 0.001, 0.002, 0.003, 0.004, 0.005, 0.0075,
                                0.01,    0.015,  0.02,  0.05,  0.1,   0.25,  1,     5};
};

}  // namespace tocsin::dispatchers
