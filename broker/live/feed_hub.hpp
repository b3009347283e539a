#pragma once
// Who is connected to the live feed, and fan-out to them. WebSocket sessions (http_server.cpp)
// join and leave; channels publish alerts; the journal's commits go to consoles as incident
// events. Publishing never blocks: a subscriber's push only queues (and drops a session that
// fell too far behind). As in Beast's chat-multi example, the hub keeps weak references, copies
// the subscribers a message is for under its lock and pushes to them outside it; console deltas
// are numbered and pushed in one order (their own lock), so every console sees them in sequence.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "broker/journal/journal.hpp"
#include "channels/websocket/feed.hpp"

namespace tocsin {

class FeedSubscriber {
 public:
  virtual ~FeedSubscriber() = default;
  virtual void push(std::shared_ptr<const std::string> message) = 0;  // must not block
};

struct Subscription {
  bool console = false;
  std::string person;    // console
  std::string language;  // public page: fr, en, or "" for both
};

class FeedHub : public channels::Feed, public CommitObserver {
 public:
  // The console sequence number at the moment of joining: deltas after it reach the session; a
  // snapshot taken after joining covers everything before (deltas are whole states, so one in
  // both is harmless).
  std::uint64_t join(const std::shared_ptr<FeedSubscriber>& s, Subscription what);
  void leave(FeedSubscriber* s);
  std::size_t sessions() const;

  // channels::Feed
  std::size_t publish(const std::string& language,
                      std::shared_ptr<const std::string> message) override;
  std::size_t to_person(const std::string& person,
                        std::shared_ptr<const std::string> message) override;
  // CommitObserver: incident changes, to consoles.
  void on_committed(std::vector<IncidentRecord> records) override;
  // Delivery counts of these alerts changed: consoles refresh them.
  void alerts_changed(const std::vector<std::string>& alert_ids);
  // What a console gets first: every active incident with its runs, alerts and approvals.
  std::function<std::string(std::uint64_t seq)> snapshot;
  // What a public session gets first: the public alerts standing now, in its language (or both).
  std::function<std::string(const std::string& language)> public_snapshot;

 private:
  struct Entry {
    std::weak_ptr<FeedSubscriber> session;
    Subscription what;
  };
  // The live subscribers a message is for, copied under the lock.
  std::vector<std::shared_ptr<FeedSubscriber>> targets(
      const std::function<bool(const Subscription&)>& wanted) const;
  // `count` console deltas, numbered in order, to every console: one copy of the consoles for
  // them all (a commit's whole batch of incidents).
  void to_consoles(std::size_t count,
                   const std::function<std::string(std::size_t i, std::uint64_t seq)>& message);

  mutable std::mutex mutex_;  // the subscribers
  std::map<FeedSubscriber*, Entry> subscribers_;
  std::atomic<std::size_t> consoles_{0};
  std::mutex deltas_;      // numbering and pushing console deltas; taken before mutex_
  std::uint64_t seq_ = 0;  // console deltas, in order: each carries its number
};

// Tells several observers of each commit, in order.
class CommitFanout : public CommitObserver {
 public:
  explicit CommitFanout(std::vector<CommitObserver*> observers)
      : observers_(std::move(observers)) {}
  void on_committed(std::vector<IncidentRecord> records) override {
    for (std::size_t i = 0; i + 1 < observers_.size(); ++i) observers_[i]->on_committed(records);
    if (!observers_.empty()) observers_.back()->on_committed(std::move(records));
  }

 private:
  std::vector<CommitObserver*> observers_;
};

}  // namespace tocsin
