#include "broker/live/feed_hub.hpp"

#include <boost/json.hpp>

namespace tocsin {

namespace json = boost::json;

std::uint64_t FeedHub::join(FeedSubscriber* s, Subscription what) {
  std::lock_guard lock(mutex_);
  if (what.console) ++consoles_;
  subscribers_[s] = std::move(what);
  return seq_;
}

void FeedHub::alerts_changed(const std::vector<std::string>& alert_ids) {
  std::lock_guard lock(mutex_);
  if (consoles_ == 0) return;
  json::array ids;
  for (const auto& id : alert_ids) ids.emplace_back(id);
  auto message = std::make_shared<const std::string>(json::serialize(
      json::object{{"type", "deliveries"}, {"seq", ++seq_}, {"alert_ids", std::move(ids)}}));
  for (auto& [s, what] : subscribers_)
    if (what.console) s->push(message);
}

void FeedHub::leave(FeedSubscriber* s) {
  std::lock_guard lock(mutex_);
  auto it = subscribers_.find(s);
  if (it == subscribers_.end()) return;
  if (it->second.console) --consoles_;
  subscribers_.erase(it);
}

std::size_t FeedHub::sessions() const {
  std::lock_guard lock(mutex_);
  return subscribers_.size();
}

std::size_t FeedHub::publish(const std::string& language,
                             std::shared_ptr<const std::string> message) {
  std::lock_guard lock(mutex_);
  std::size_t n = 0;
  for (auto& [s, what] : subscribers_) {
    // A page that chose a language gets that language; a page that did not (and every console)
    // gets the message in French and English together, once.
    bool both = language == "fr+en";
    if (what.language == language || ((what.console || what.language.empty()) && both)) {
      s->push(message);
      ++n;
    }
  }
  return n;
}

std::size_t FeedHub::to_person(const std::string& person,
                               std::shared_ptr<const std::string> message) {
  std::lock_guard lock(mutex_);
  std::size_t n = 0;
  for (auto& [s, what] : subscribers_)
    if (what.console && what.person == person) {
      s->push(message);
      ++n;
    }
  return n;
}

void FeedHub::on_committed(std::vector<IncidentRecord> records) {
  {
    std::lock_guard lock(mutex_);
    if (consoles_ == 0) return;  // the common case on the journal's thread: nothing to do
  }
  for (const auto& r : records) {
    json::object incident = to_json(r.incident);
    incident["state"] = r.state;
    incident["updated_at"] = format_rfc3339(r.updated_at);
    if (r.acknowledged_at) {
      incident["acknowledged_at"] = format_rfc3339(*r.acknowledged_at);
      incident["acknowledged_by"] = r.acknowledged_by;
    }
    incident["created_at"] = format_rfc3339(r.created_at);
    incident["updates"] = r.updates;
    std::lock_guard lock(mutex_);
    auto message = std::make_shared<const std::string>(json::serialize(
        json::object{{"type", "incident"}, {"seq", ++seq_}, {"incident", std::move(incident)}}));
    for (auto& [s, what] : subscribers_)
      if (what.console) s->push(message);
  }
}

}  // namespace tocsin
