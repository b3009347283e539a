#include "dispatchers/dispatcher.hpp"

#include <pthread.h>
#include <algorithm>
#include <atomic>
#include <set>

#include <spdlog/spdlog.h>

#include "channels/registry.hpp"
#include "core/personal_data.hpp"
#include "dispatchers/stages.hpp"

namespace tocsin::dispatchers {

using channels::Addressing;
using channels::SendResult;

const Message* AlertContent::message(const std::string& channel,
                                     const std::string& language) const {
  auto it = messages.find({channel, language});
  return it == messages.end() ? nullptr : &it->second;
}

namespace {

// A system-clock due time as a point on the steady clock the lanes wait on.
Clock::time_point steady_due(Timestamp due) {
  auto delta = due - now();
  if (delta < Timestamp::duration::zero()) delta = Timestamp::duration::zero();
  return Clock::now() + std::chrono::duration_cast<Clock::duration>(delta);
}

}  // namespace

struct Dispatcher::Job {
  Delivery delivery;
  std::shared_ptr<const AlertContent> content;
};

struct Dispatcher::Lane {
  Lane(ChannelSetup setup)
      : name(std::move(setup.name)),
        channel(std::move(setup.channel)),
        policy(setup.policy),
        can(channels::capabilities(name)) {}

  const std::string name;
  const std::shared_ptr<channels::Channel> channel;
  const ChannelPolicy policy;
  const channels::Capabilities can;
  std::vector<std::unique_ptr<Stage>> stages;  // in order; composed by the dispatcher
  const BreakerStage* breaker = nullptr;       // one of them, for its gauge

  std::mutex mutex;
  std::condition_variable_any wake;
  std::multimap<std::pair<Clock::time_point, std::uint64_t>, Job> queue;  // by due time, FIFO
  std::uint64_t sequence = 0;
  std::map<std::string, Counter> failures;  // by reason
  std::vector<std::jthread> workers;

  Counter attempts, sent, failed, fallbacks;
  std::atomic<long> sending{0};
  Histogram send_seconds{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};

  void push(Job job, Clock::time_point due) {
    queue.emplace(std::make_pair(due, sequence++), std::move(job));
  }
};

Dispatcher::Dispatcher(std::vector<ChannelSetup> channels, DeliveryLedger& ledger,
                       AudienceSource& audience, MessageRenderer& renderer)
    : ledger_(ledger), audience_(audience), renderer_(renderer) {
  for (auto& c : channels) {
    auto lane = std::make_unique<Lane>(std::move(c));
    const ChannelPolicy& p = lane->policy;
    auto& stages = lane->stages;
    stages.push_back(std::make_unique<RateLimitStage>(p.rate_per_second, std::max(1.0, p.burst)));
    auto breaker = std::make_unique<BreakerStage>(p.breaker_failures, p.breaker_cooldown);
    lane->breaker = breaker.get();
    stages.push_back(std::move(breaker));
    stages.push_back(std::make_unique<MessageStage>());
    if (lane->can.segments > 0 && p.max_segments > 0)
      stages.push_back(std::make_unique<SegmentLimitStage>(p.max_segments));
    stages.push_back(
        std::make_unique<RetryStage>(p.max_attempts, p.max_age, p.backoff_initial, p.backoff_max));
    if (!p.fallback.empty())
      stages.push_back(std::make_unique<FallbackStage>(
          [this, from = lane.get()](const std::shared_ptr<const AlertContent>& content,
                                    const Delivery& d) { fall_back(*from, content, d); }));
    std::string name = lane->name;
    lanes_.emplace(name, std::move(lane));
  }
}

Dispatcher::~Dispatcher() {
  stop();
}

bool Dispatcher::has_channel(const std::string& name) const {
  return lanes_.count(name) > 0;
}

const channels::Receipts* Dispatcher::receipts(const std::string& channel) const {
  auto it = lanes_.find(channel);
  return it == lanes_.end() ? nullptr : it->second->channel->receipts();
}

const channels::InboundMessages* Dispatcher::inbound(const std::string& channel) const {
  auto it = lanes_.find(channel);
  return it == lanes_.end() ? nullptr : it->second->channel->inbound();
}

struct Dispatcher::Direct {
  Lane* lane;
  Delivery delivery;
  Message message;
  std::function<void(channels::SendResult)> done;
};

void Dispatcher::send_direct(const std::string& channel, Recipient to, Message message,
                             std::function<void(channels::SendResult)> done) {
  auto it = lanes_.find(channel);
  if (it == lanes_.end() || !direct_sender_.joinable())
    return done(SendResult::permanent("no_channel", "channel '" + channel + "' is not configured"));
  auto d =
      std::make_unique<Direct>(Direct{it->second.get(), {}, std::move(message), std::move(done)});
  d->delivery.id = ids_.next();  // the idempotency key of this one send
  d->delivery.channel = channel;
  d->delivery.recipient = std::move(to);
  d->delivery.created_at = d->delivery.next_attempt_at = now();
  {
    std::lock_guard lock(direct_mutex_);
    direct_.push_back(std::move(d));
  }
  direct_wake_.notify_one();
}

void Dispatcher::start() {
  planner_ = std::jthread([this](std::stop_token stop) {
    pthread_setname_np(pthread_self(), "dispatch");
    plan_loop(stop);
  });
  direct_sender_ = std::jthread([this](std::stop_token stop) {
    pthread_setname_np(pthread_self(), "send-direct");
    const Alert none;
    for (;;) {
      std::vector<std::unique_ptr<Direct>> batch;
      {
        std::unique_lock lock(direct_mutex_);
        direct_wake_.wait(lock, stop, [&] { return !direct_.empty(); });
        if (stop.stop_requested()) return;
        batch.swap(direct_);
      }
      for (auto& d : batch) {
        SendResult r;
        try {
          d->lane->attempts.inc();
          r = d->lane->channel->send({d->delivery, none, d->message});
        } catch (const std::exception& e) {
          r = SendResult::retryable("exception", e.what());
        }
        if (r.outcome != SendResult::Outcome::sent && r.outcome != SendResult::Outcome::delivered)
          spdlog::warn("dispatch: a direct {} message was not taken: {}", d->lane->name,
                       without_personal_data(r.detail));
        d->done(std::move(r));
      }
    }
  });
  for (auto& [name, lane] : lanes_) {
    for (int i = 0; i < std::max(1, lane->policy.workers); ++i)
      lane->workers.emplace_back([this, l = lane.get()](std::stop_token stop) {
        std::string thread_name = ("send-" + l->name).substr(0, 15);
        pthread_setname_np(pthread_self(), thread_name.c_str());
        work(*l, stop);
      });
    lane->channel->start();
  }
}

void Dispatcher::stop() {
  planner_.request_stop();
  if (planner_.joinable()) planner_.join();
  direct_sender_.request_stop();
  if (direct_sender_.joinable()) direct_sender_.join();
  for (auto& [name, lane] : lanes_) {
    lane->channel->stop();
    for (auto& t : lane->workers) t.request_stop();
    lane->workers.clear();  // joins each
  }
}

void Dispatcher::dispatch(Alert alert, IncidentRecord incident) {
  {
    std::lock_guard lock(mutex_);
    inbox_.push_back(Planned{std::move(alert), std::move(incident)});
  }
  wake_.notify_one();
}

void Dispatcher::failed_by_receipt(Delivery delivery) {
  {
    std::lock_guard lock(mutex_);
    failed_later_.push_back(std::move(delivery));
  }
  wake_.notify_one();
}

void Dispatcher::plan_loop(std::stop_token stop) {
  std::vector<Planned> batch;
  std::vector<Delivery> failed;
  std::vector<std::pair<std::shared_ptr<const AlertContent>, std::vector<Delivery>>> stored;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, stop,
                 [&] { return !inbox_.empty() || !failed_later_.empty() || !stored_.empty(); });
      // What is left is in the ledger: alerts still pending are planned at the next start, and
      // stored deliveries are queued rows, resumed then.
      if (stop.stop_requested()) return;
      batch.swap(inbox_);
      failed.swap(failed_later_);
      stored.swap(stored_);
    }
    for (auto& [content, deliveries] : stored) enqueue(content, std::move(deliveries));
    stored.clear();
    for (const auto& d : failed) {
      auto lane = lanes_.find(d.channel);
      if (lane == lanes_.end()) continue;
      try {
        if (auto content = ledger_.content(d.alert_id)) fall_back(*lane->second, content, d);
      } catch (const std::exception& e) {
        spdlog::error("dispatch: no fallback for delivery {}: {}", d.id, e.what());
      }
    }
    failed.clear();
    for (const auto& p : batch) {
      auto started = Clock::now();
      try {
        plan(p);
      } catch (const std::exception& e) {
        spdlog::error("dispatch: alert {} could not be planned: {}", p.alert.id, e.what());
      }
      plan_seconds_.observe(std::chrono::duration<double>(Clock::now() - started).count());
    }
    batch.clear();
  }
}

std::optional<std::string> Dispatcher::address(const Lane& lane, const Contact& who) const {
  switch (lane.can.addressing) {
    case Addressing::phone:
      if (!who.phone.empty()) return who.phone;
      break;
    case Addressing::email:
      if (!who.email.empty()) return who.email;
      break;
    case Addressing::person:
      return who.id;
    case Addressing::broadcast:
      break;
  }
  return std::nullopt;
}

std::vector<Delivery> Dispatcher::recipients(const Alert& alert,
                                             const IncidentRecord& incident) const {
  std::vector<std::string> wanted = alert.channels;
  if (alert.kind == "siren") {  // a siren step sounds the channels that can, and nothing else
    wanted.clear();
    for (const auto& [name, lane] : lanes_)
      if (lane->can.sounds) wanted.push_back(name);
  }
  // The engine holds back a non-actual public alert; this is the second lock on the same door.
  if (alert.status != Status::actual && (alert.is_public || alert.kind == "siren") &&
      !alert.allow_in_exercise) {
    spdlog::critical(
        "dispatch: alert {} is public but its incident is {}, and its step does not "
        "allow that: nothing is sent",
        alert.id, to_string(alert.status));
    wanted.clear();
  }
  std::vector<std::string> usable;
  for (const auto& c : wanted) {
    if (lanes_.count(c))
      usable.push_back(c);
    else
      spdlog::error("dispatch: alert {} asks for channel '{}', which is not configured", alert.id,
                    c);
  }

  std::vector<Delivery> deliveries;
  auto add = [&](const std::string& channel, Recipient to) {
    Delivery d;
    d.alert_id = alert.id;
    d.incident_id = alert.incident_id;
    d.channel = channel;
    d.recipient = std::move(to);
    deliveries.push_back(std::move(d));
  };

  // Broadcast channels pick their own recipients; personal channels reach each contact on the
  // alert's channels they prefer (or, if they prefer none of them, the first they can get).
  std::vector<Contact> contacts;
  auto broadcast = [&](const std::string& c) {
    return lanes_.at(c)->can.addressing == Addressing::broadcast;
  };
  bool personal = !std::all_of(usable.begin(), usable.end(), broadcast);
  if (personal) contacts = audience_.contacts(alert, incident);
  for (const auto& c : usable)
    if (broadcast(c))
      for (auto& r : lanes_.at(c)->channel->broadcast_recipients(alert)) add(c, std::move(r));
  for (const auto& who : contacts) {
    std::vector<std::string> chosen;
    for (const auto& c : usable) {
      if (broadcast(c) || !address(*lanes_.at(c), who)) continue;
      if (who.channels.empty() ||
          std::find(who.channels.begin(), who.channels.end(), c) != who.channels.end())
        chosen.push_back(c);
    }
    if (chosen.empty())
      for (const auto& c : usable)
        if (!broadcast(c) && address(*lanes_.at(c), who)) {
          chosen.push_back(c);
          break;
        }
    if (chosen.empty())
      spdlog::warn("dispatch: alert {}: {} has no address on any of its channels", alert.id,
                   who.id);
    for (const auto& c : chosen)
      add(c, Recipient{who.id, *address(*lanes_.at(c), who), who.language});
  }
  return deliveries;
}

Message Dispatcher::bilingual(const Message& fr, const Message& en) {
  Message m;
  m.language = kBothLanguages;
  m.subject = fr.subject.empty() ? en.subject : fr.subject + " / " + en.subject;
  m.text = fr.text + "\n\n" + en.text;
  if (!fr.html.empty() || !en.html.empty()) m.html = fr.html + "\n<hr>\n" + en.html;
  return m;
}

PublicDraft Dispatcher::draft(const Alert& alert, const IncidentRecord& incident,
                              const std::vector<Delivery>& deliveries,
                              const std::vector<std::string>& also) const {
  PublicDraft d;
  d.status = alert.status;
  d.sent = now();
  d.effective = d.sent;
  if (alert.expires.count() > 0) d.expires = d.sent + alert.expires;
  d.headline = incident.incident.headline;
  const Location& where = incident.incident.location;
  if (!alert.zones.empty())
    d.area = alert.zones;
  else if (!alert.audience.resident_zones.empty())
    d.area = alert.audience.resident_zones;
  else if (where.zone)
    d.area = {*where.zone};
  else if (!where.polygon.empty())
    d.area = {"polygon"};
  else if (where.point)
    d.area = {"point"};
  // Every channel that carries text, in both languages, whoever the recipients are: a public
  // alert is bilingual before anything is sent.
  std::set<std::string> channels;
  auto add = [&](const std::string& c) {
    if (!lanes_.count(c)) return;
    channels.insert(c);
    const auto& fb = lanes_.at(c)->policy.fallback;
    if (!fb.empty() && lanes_.count(fb)) channels.insert(fb);
  };
  for (const auto& dl : deliveries) add(dl.channel);
  for (const auto& c : also) add(c);
  for (const auto& c : channels) {
    const Lane& lane = *lanes_.at(c);
    if (!lane.can.rendered) continue;
    for (const char* lang : {"fr", "en"}) {
      auto m = renderer_.render(alert, incident, lang, c);
      if (m)
        d.messages[c][lang] = std::move(*m);
      else
        d.render_errors.push_back("messages." + c + "." + lang + ": " + m.error().message);
    }
    if (lane.can.segments > 0) d.max_segments = lane.policy.max_segments;
  }
  return d;
}

Reach Dispatcher::reach(const Alert& alert, const IncidentRecord& incident) const {
  auto deliveries = recipients(alert, incident);
  return reach_of(alert, incident, deliveries);
}

AlertPreview Dispatcher::preview(const Alert& alert, const IncidentRecord& incident) const {
  auto deliveries = recipients(alert, incident);
  AlertPreview p;
  p.reach = reach_of(alert, incident, deliveries);
  p.draft = draft(alert, incident, deliveries, alert.channels);
  return p;
}

Reach Dispatcher::reach_of(const Alert& alert, const IncidentRecord& incident,
                           const std::vector<Delivery>& deliveries) const {
  Reach r;
  r.step = alert.step;
  for (const auto& d : deliveries) {
    ++r.recipients[d.channel];
    if (lanes_.at(d.channel)->can.sounds) r.sirens.push_back(d.recipient.id);
  }
  auto d = draft(alert, incident, deliveries);
  r.zones = d.area;
  if (alert.kind == "notify" && alert.is_public && !deliveries.empty())
    r.problems = lint_public_alert(d);
  return r;
}

void Dispatcher::plan(const Planned& p) {
  const Alert& alert = p.alert;
  auto content = std::make_shared<AlertContent>();
  content->alert = alert;
  Timestamp at = now();
  std::vector<Delivery> deliveries = recipients(alert, p.incident);
  for (auto& d : deliveries) {
    d.id = ids_.next();
    d.created_at = d.next_attempt_at = at;
  }

  // A public alert goes out as linted and as approved, or not at all.
  if (alert.is_public || alert.kind == "siren") {
    Reach now_reach = reach_of(alert, p.incident, deliveries);
    auto problems = now_reach.problems;
    if (alert.approved && !alert.approved->same_reach(now_reach))
      problems.push_back("reach: approved " + alert.approved->describe() + ", now " +
                         now_reach.describe());
    if (!problems.empty()) {
      std::string all;
      for (const auto& pr : problems) all += (all.empty() ? "" : "; ") + pr;
      spdlog::critical("dispatch: public alert {} is blocked, nothing is sent: {}", alert.id, all);
      ledger_.block(alert, problems);
      return;
    }
  }

  // One rendering per (channel, language), and for the channels a failed delivery falls back to.
  std::set<std::pair<std::string, std::string>> needed;
  for (const auto& d : deliveries) {
    needed.insert({d.channel, d.recipient.language});
    const auto& fb = lanes_.at(d.channel)->policy.fallback;
    if (!fb.empty() && lanes_.count(fb)) needed.insert({fb, d.recipient.language});
  }
  for (const auto& [channel, language] : needed) {
    if (!lanes_.at(channel)->can.rendered) {
      content->messages[{channel, language}] = Message{language, "", "", "", ""};
      continue;
    }
    if (language == kBothLanguages) {
      // A channel with no reader's language (the public feed's page in both): French, then
      // English.
      auto fr = renderer_.render(alert, p.incident, "fr", channel);
      auto en = renderer_.render(alert, p.incident, "en", channel);
      if (fr && en)
        content->messages[{channel, language}] = bilingual(*fr, *en);
      else
        spdlog::error("dispatch: alert {}: no bilingual {} message", alert.id, channel);
      continue;
    }
    auto m = renderer_.render(alert, p.incident, language, channel);
    if (m)
      content->messages[{channel, language}] = std::move(*m);
    else
      spdlog::error("dispatch: alert {}: no {} message in {}: {}", alert.id, channel, language,
                    m.error().message);
  }
  spdlog::info("dispatch: alert {} ({}{}) → {} deliveries", alert.id, alert.kind,
               alert.is_public ? ", public" : "", deliveries.size());
  std::shared_ptr<const AlertContent> shared = content;
  auto stored = deliveries;
  ledger_.record(shared, std::move(stored), true,
                 [this, shared, deliveries = std::move(deliveries)](bool committed) mutable {
                   if (committed) {
                     {
                       std::lock_guard lock(mutex_);
                       stored_.emplace_back(shared, std::move(deliveries));
                     }
                     wake_.notify_one();
                   } else
                     spdlog::critical(
                         "dispatch: alert {} could not be stored; it stays pending and is "
                         "dispatched again at the next start",
                         shared->alert.id);
                 });
}

void Dispatcher::resume(std::shared_ptr<const AlertContent> content,
                        std::vector<Delivery> deliveries) {
  // A delivery stored without its address (a resident's: the ledger keeps none) gets it from the
  // audience again; one who can no longer be reached (STOP, erased) is not sent to.
  for (auto& d : deliveries) {
    auto lane = lanes_.find(d.channel);
    if (!d.recipient.address.empty() || lane == lanes_.end() ||
        lane->second->can.addressing == Addressing::broadcast ||
        lane->second->can.addressing == Addressing::person)
      continue;
    auto who = audience_.contact(d.recipient.id);
    if (auto addr = who ? address(*lane->second, *who) : std::nullopt) {
      d.recipient.address = *addr;
      continue;
    }
    d.state = DeliveryState::failed;
    d.last_error = "the recipient can no longer be reached on this channel (stopped or erased)";
    ledger_.update(d);
  }
  std::erase_if(deliveries, [](const Delivery& d) { return d.state == DeliveryState::failed; });
  enqueue(std::move(content), std::move(deliveries));
}

void Dispatcher::enqueue(std::shared_ptr<const AlertContent> content,
                         std::vector<Delivery> deliveries) {
  std::map<Lane*, std::vector<Delivery>> by_lane;
  for (auto& d : deliveries) {
    auto it = lanes_.find(d.channel);
    if (it == lanes_.end()) {
      d.state = DeliveryState::failed;
      d.last_error = "channel '" + d.channel + "' is not configured";
      ledger_.update(d);
      continue;
    }
    by_lane[it->second.get()].push_back(std::move(d));
  }
  for (auto& [lane, items] : by_lane) {
    {
      std::lock_guard lock(lane->mutex);
      for (auto& d : items) {
        auto due = steady_due(d.next_attempt_at);
        lane->push(Job{std::move(d), content}, due);
      }
    }
    lane->wake.notify_all();
  }
}

void Dispatcher::work(Lane& lane, std::stop_token stop) {
  std::unique_lock lock(lane.mutex);
  while (!stop.stop_requested()) {
    if (lane.queue.empty()) {
      lane.wake.wait(lock, stop, [&] { return !lane.queue.empty(); });
      continue;
    }
    auto now_steady = Clock::now();
    auto first = lane.queue.begin();
    std::optional<Clock::time_point> later;
    if (first->first.first > now_steady) later = first->first.first;
    for (auto it = lane.stages.begin(); !later && it != lane.stages.end(); ++it)
      later = (*it)->admit(now_steady);
    if (later) {
      // A job queued meanwhile may be due sooner: it wakes the lane.
      auto seen = lane.sequence;
      lane.wake.wait_until(lock, stop, *later, [&] { return lane.sequence != seen; });
      continue;
    }
    Job job = std::move(first->second);
    lane.queue.erase(first);
    ++lane.sending;
    lock.unlock();
    attempt(lane, std::move(job));
    lock.lock();
    --lane.sending;
  }
}

void Dispatcher::attempt(Lane& lane, Job job) {
  Delivery& d = job.delivery;
  d.attempts += 1;
  d.state = DeliveryState::sending;
  ledger_.update(d);
  lane.attempts.inc();
  const Alert& alert = job.content->alert;
  const Message* message = job.content->message(d.channel, d.recipient.language);
  std::optional<Message> decorated;
  for (const MessageDecorator* decorator : decorators_)
    if (message)
      if (auto more = decorator->decorate(d, alert, *message, lane.policy.max_segments)) {
        decorated = std::move(more);
        message = &*decorated;
      }
  std::optional<SendResult> refused;
  for (auto it = lane.stages.begin(); !refused && it != lane.stages.end(); ++it)
    refused = (*it)->check(d, alert, message);
  SendResult result;
  if (refused) {
    result = std::move(*refused);
  } else {
    auto started = Clock::now();
    if (!job.content->first_send.test_and_set())
      first_send_seconds_.observe(std::chrono::duration<double>(now() - alert.created_at).count());
    try {
      result = lane.channel->send(channels::SendRequest{d, alert, *message});
    } catch (const std::exception& e) {
      result = SendResult::retryable("exception", e.what());
    }
    lane.send_seconds.observe(std::chrono::duration<double>(Clock::now() - started).count());
  }

  Settlement s(d, result, job.content);
  {
    std::lock_guard lock(lane.mutex);
    for (auto& stage : lane.stages) stage->settle(s, Clock::now());
    if (s.next != Settlement::Next::done) lane.failures[result.reason].inc();
  }
  // Stored, audited, logged and shown: named by the recipient's id, never by their address, even
  // where the provider's own words echoed it.
  d.last_error = without_personal_data(s.error, d.recipient.address);
  switch (s.next) {
    case Settlement::Next::done:
      d.state = result.outcome == SendResult::Outcome::delivered ? DeliveryState::delivered
                                                                 : DeliveryState::sent;
      d.provider_ref = result.provider_ref;
      ledger_.update(d);
      lane.sent.inc();
      break;
    case Settlement::Next::retry:
      d.state = DeliveryState::queued;
      d.next_attempt_at = now() + s.delay;
      ledger_.update(d);
      {
        std::lock_guard lock(lane.mutex);
        lane.push(Job{d, job.content}, Clock::now() + s.delay);
      }
      lane.wake.notify_one();
      break;
    case Settlement::Next::failed:
      d.state = DeliveryState::failed;
      ledger_.update(d);
      lane.failed.inc();
      spdlog::warn("delivery {} ({} to {}) failed: {}", d.id, d.channel, d.recipient.id,
                   d.last_error);
      break;
  }
  for (auto& stage : lane.stages) stage->settled(s);
}

void Dispatcher::fall_back(Lane& from, const std::shared_ptr<const AlertContent>& content,
                           const Delivery& failed) {
  if (from.policy.fallback.empty()) return;
  auto it = lanes_.find(from.policy.fallback);
  if (it == lanes_.end()) return;
  Lane& to = *it->second;
  auto who = audience_.contact(failed.recipient.id);
  std::optional<std::string> addr;
  if (who) addr = address(to, *who);
  if (!addr) {
    spdlog::warn("delivery {}: no {} address for {}, no fallback", failed.id, to.name,
                 failed.recipient.id);
    return;
  }
  Delivery d;
  d.id = ids_.next();
  d.alert_id = failed.alert_id;
  d.incident_id = failed.incident_id;
  d.channel = to.name;
  d.recipient = Recipient{failed.recipient.id, *addr, failed.recipient.language};
  d.fallback_of = failed.id;
  d.created_at = d.next_attempt_at = now();
  from.fallbacks.inc();
  ledger_.record(content, {d}, false, [this, content, d](bool committed) {
    if (committed) enqueue(content, {d});
  });
}

std::string Dispatcher::render_metrics() const {
  std::string out;
  auto family = [&](const char* name, const char* type, const char* help, auto value) {
    render_header(out, name, type, help);
    for (const auto& [n, lane] : lanes_)
      render_sample(out, name, "channel=\"" + n + "\"", double(value(*lane)));
  };
  family("tocsin_delivery_attempts_total", "counter", "Send attempts, by channel.",
         [](Lane& l) { return l.attempts.value(); });
  family("tocsin_delivery_sent_total", "counter", "Deliveries the provider took, by channel.",
         [](Lane& l) { return l.sent.value(); });
  family("tocsin_delivery_failed_total", "counter",
         "Deliveries that failed for good (after retries), by channel.",
         [](Lane& l) { return l.failed.value(); });
  family("tocsin_delivery_fallbacks_total", "counter",
         "Failed deliveries sent again on the channel's fallback, by channel.",
         [](Lane& l) { return l.fallbacks.value(); });
  family("tocsin_delivery_queue_depth", "gauge", "Deliveries waiting to be sent, by channel.",
         [](Lane& l) {
           std::lock_guard lock(l.mutex);
           return l.queue.size() + std::size_t(l.sending.load());
         });
  family("tocsin_channel_breaker_open", "gauge",
         "1 while the channel's circuit breaker holds sends back.", [](Lane& l) {
           std::lock_guard lock(l.mutex);
           return l.breaker->open() ? 1 : 0;
         });
  render_header(out, "tocsin_delivery_attempt_failures_total", "counter",
                "Failed send attempts, by channel and reason.");
  for (const auto& [n, lane] : lanes_) {
    std::lock_guard lock(lane->mutex);
    for (const auto& [reason, c] : lane->failures)
      render_sample(out, "tocsin_delivery_attempt_failures_total",
                    "channel=\"" + n + "\",reason=\"" + reason + "\"", double(c.value()));
  }
  render_header(out, "tocsin_delivery_send_seconds", "histogram",
                "Time a channel's send call took, by channel.");
  for (const auto& [n, lane] : lanes_)
    lane->send_seconds.render_series(out, "tocsin_delivery_send_seconds", "channel=\"" + n + "\"");
  first_send_seconds_.render(out, "tocsin_alert_first_send_seconds",
                             "From the commit that made an alert to its first send call.");
  plan_seconds_.render(out, "tocsin_dispatch_plan_seconds",
                       "Time to resolve an alert's audience, render it and plan its deliveries.");
  return out;
}

}  // namespace tocsin::dispatchers
