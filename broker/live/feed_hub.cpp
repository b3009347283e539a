#include "broker/live/feed_hub.hpp"
#include "core/json_text.hpp"

#include <boost/json.hpp>

namespace tocsin {

namespace json = boost::json;

std::uint64_t FeedHub::join(const std::shared_ptr<FeedSubscriber>& s, Subscription what) {
  // Under the deltas' lock: a delta numbered after the one returned reaches this subscriber.
  std::lock_guard order(deltas_);
  std::lock_guard lock(mutex_);
  if (what.console) ++consoles_;
  subscribers_[s.get()] = Entry{s, std::move(what)};
  return seq_;
}

void FeedHub::leave(FeedSubscriber* s) {
  std::lock_guard lock(mutex_);
  auto it = subscribers_.find(s);
  if (it == subscribers_.end()) return;
  if (it->second.what.console) --consoles_;
  subscribers_.erase(it);
}

std::size_t FeedHub::sessions() const {
  std::lock_guard lock(mutex_);
  return subscribers_.size();
}

std::vector<std::shared_ptr<FeedSubscriber>> FeedHub::targets(
    const std::function<bool(const Subscription&)>& wanted) const {
  std::vector<std::shared_ptr<FeedSubscriber>> out;
  std::lock_guard lock(mutex_);
  out.reserve(subscribers_.size());
  for (const auto& [key, e] : subscribers_)
    if (wanted(e.what))
      if (auto s = e.session.lock()) out.push_back(std::move(s));
  return out;
}

void FeedHub::to_consoles(std::size_t count,
                          const std::function<std::string(std::size_t, std::uint64_t)>& message) {
  std::lock_guard order(deltas_);
  auto consoles = targets([](const Subscription& w) { return w.console; });
  if (consoles.empty()) return;
  for (std::size_t i = 0; i < count; ++i) {
    auto text = std::make_shared<const std::string>(message(i, ++seq_));
    for (auto& s : consoles) s->push(text);
  }
}

void FeedHub::alerts_changed(const std::vector<std::string>& alert_ids) {
  if (consoles_ == 0) return;
  json::array ids;
  for (const auto& id : alert_ids) ids.emplace_back(id);
  to_consoles(1, [&](std::size_t, std::uint64_t seq) {
    return json_text(json::object{{"type", "deliveries"}, {"seq", seq}, {"alert_ids", ids}});
  });
}

std::size_t FeedHub::publish(const std::string& language,
                             std::shared_ptr<const std::string> message) {
  // A page that chose a language gets that language; a page that did not (and every console)
  // gets the message in French and English together, once.
  bool both = language == "fr+en";
  auto to = targets([&](const Subscription& w) {
    return w.language == language || ((w.console || w.language.empty()) && both);
  });
  for (auto& s : to) s->push(message);
  return to.size();
}

std::size_t FeedHub::to_person(const std::string& person,
                               std::shared_ptr<const std::string> message) {
  auto to = targets([&](const Subscription& w) { return w.console && w.person == person; });
  for (auto& s : to) s->push(message);
  return to.size();
}

void FeedHub::on_committed(std::vector<IncidentRecord> records) {
  if (consoles_ == 0) return;  // the common case on the journal's thread: nothing to do
  to_consoles(records.size(), [&](std::size_t i, std::uint64_t seq) {
    const IncidentRecord& r = records[i];
    json::object incident = to_json(r.incident);
    incident["state"] = r.state;
    incident["updated_at"] = format_rfc3339(r.updated_at);
    if (r.acknowledged_at) {
      incident["acknowledged_at"] = format_rfc3339(*r.acknowledged_at);
      incident["acknowledged_by"] = r.acknowledged_by;
    }
    incident["created_at"] = format_rfc3339(r.created_at);
    incident["updates"] = r.updates;
    return json_text(
        json::object{{"type", "incident"}, {"seq", seq}, {"incident", std::move(incident)}});
  });
}

}  // namespace tocsin
