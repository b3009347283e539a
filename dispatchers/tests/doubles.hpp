#pragma once
// Test doubles of the dispatcher's interfaces, shared by its tests: a channel that answers from a
// script and records every call, a ledger in memory, a small staff audience and a renderer.

#include <deque>
#include <map>
#include <mutex>
#include <vector>

#include "dispatchers/audience.hpp"
#include "dispatchers/dispatcher.hpp"

namespace tocsin::dispatchers::test {

class ScriptedChannel : public channels::Channel {
 public:
  // Answers, in order, for the next sends; once used up, every send succeeds.
  void script(std::vector<channels::SendResult> answers) {
    std::lock_guard lock(mutex_);
    for (auto& a : answers) answers_.push_back(std::move(a));
  }
  struct Call {
    std::string delivery_id, to, text;
    int attempt;
  };
  std::vector<Call> calls() const {
    std::lock_guard lock(mutex_);
    return calls_;
  }

  // channels::Channel
  std::vector<Recipient> broadcast_recipients(const Alert&) const override { return broadcast; }
  std::vector<Recipient> broadcast{Recipient{"public", "feed", "fr"},
                                   Recipient{"public", "feed", "en"}};
  channels::SendResult send(const channels::SendRequest& r) override {
    std::lock_guard lock(mutex_);
    calls_.push_back(
        {r.delivery.id, r.delivery.recipient.address, r.message.text, r.delivery.attempts});
    if (answers_.empty()) return channels::SendResult::ok("ref-" + r.delivery.id);
    auto a = answers_.front();
    answers_.pop_front();
    return a;
  }

 private:
  mutable std::mutex mutex_;
  std::deque<channels::SendResult> answers_;
  std::vector<Call> calls_;
};

class MemoryLedger : public DeliveryLedger {
 public:
  void record(std::shared_ptr<const AlertContent> content, std::vector<Delivery> deliveries,
              bool dispatched, std::function<void(bool)> done) override {
    {
      std::lock_guard lock(mutex_);
      for (const auto& d : deliveries) rows_[d.id] = d;
      contents_[content->alert.id] = content;
      if (dispatched) dispatched_.push_back(content->alert.id);
    }
    done(true);
  }
  void update(const Delivery& d) override {
    std::lock_guard lock(mutex_);
    rows_[d.id] = d;
  }
  std::shared_ptr<const AlertContent> content(const std::string& alert_id) override {
    std::lock_guard lock(mutex_);
    auto it = contents_.find(alert_id);
    return it == contents_.end() ? nullptr : it->second;
  }
  void block(const Alert& alert, const std::vector<std::string>& problems) override {
    std::lock_guard lock(mutex_);
    blocked_[alert.id] = problems;
  }
  std::map<std::string, std::vector<std::string>> blocked() const {
    std::lock_guard lock(mutex_);
    return blocked_;
  }
  std::vector<Delivery> rows() const {
    std::lock_guard lock(mutex_);
    std::vector<Delivery> out;
    for (const auto& [id, d] : rows_) out.push_back(d);
    return out;
  }
  std::size_t count(DeliveryState s, const std::string& channel = "") const {
    std::size_t n = 0;
    for (const auto& d : rows())
      if (d.state == s && (channel.empty() || d.channel == channel)) ++n;
    return n;
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::string, Delivery> rows_;
  std::vector<std::string> dispatched_;
  std::map<std::string, std::shared_ptr<const AlertContent>> contents_;
  std::map<std::string, std::vector<std::string>> blocked_;
};

// Staff from a fixed directory; the message text names the template, channel and language.
class FixedSources : public AudienceSource, public MessageRenderer {
 public:
  explicit FixedSources(std::vector<Person> people) : directory_(std::move(people)) {}
  std::vector<Contact> contacts(const Alert& alert, const IncidentRecord&) override {
    return staff_contacts(directory_, alert.audience);
  }
  std::optional<Contact> contact(const std::string& id) override {
    if (const Person* p = directory_.find(id)) return contact_of(*p);
    return std::nullopt;
  }
  Result<Message> render(const Alert& alert, const IncidentRecord&, const std::string& language,
                         const std::string& channel) override {
    if (auto it = texts_.find(channel); it != texts_.end())
      return Message{language, "", it->second, "", ""};
    return Message{language, "subject", alert.template_name + "/" + channel + "/" + language, "",
                   ""};
  }
  std::map<std::string, std::string> texts_;  // channel → a text to render instead

 private:
  Directory directory_;
};

}  // namespace tocsin::dispatchers::test
