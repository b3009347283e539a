#include "broker/oncall/reply_codes.hpp"

#include <future>
#include <set>

#include "core/time.hpp"

namespace tocsin {

void ReplyCodes::load(db::Connection& db) {
  auto st = db.prepare(
      "SELECT r.person, r.incident_id, r.number FROM reply_codes r JOIN incidents i ON i.id = "
      "r.incident_id WHERE i.state = 'active'");
  std::lock_guard lock(mutex_);
  while (st.step()) known_[{st.text(0), st.text(1)}] = int(st.integer(2));
}

std::optional<int> ReplyCodes::code_for(const std::string& person, const std::string& incident) {
  {
    std::lock_guard lock(mutex_);
    if (auto it = known_.find({person, incident}); it != known_.end()) return it->second;
  }
  auto number = std::make_shared<int>(0);
  auto done = std::make_shared<std::promise<bool>>();
  auto stored = done->get_future();
  journal_.write(
      [person, incident, number](db::Connection& db) {
        auto had =
            db.prepare("SELECT number FROM reply_codes WHERE person = ?1 AND incident_id = ?2");
        had.bind(1, person).bind(2, incident);
        if (had.step()) {
          *number = int(had.integer(0));
          return;
        }
        auto taken = db.prepare(
            "SELECT r.number FROM reply_codes r JOIN incidents i ON i.id = r.incident_id WHERE "
            "r.person = ?1 AND i.state = 'active'");
        taken.bind(1, person);
        std::set<int> used;
        while (taken.step()) used.insert(int(taken.integer(0)));
        int n = 1;
        while (used.count(n)) ++n;
        if (n > 99) return;  // 99 open pages at once: the page goes without a code
        auto put = db.prepare(
            "INSERT INTO reply_codes (person, incident_id, number, created_at) VALUES (?1, ?2, "
            "?3, ?4)");
        put.bind(1, person).bind(2, incident).bind(3, std::int64_t(n)).bind(4, to_unix_ms(now()));
        put.run();
        *number = n;
      },
      [done](bool ok) { done->set_value(ok); });
  if (stored.wait_for(std::chrono::seconds(5)) != std::future_status::ready || !stored.get() ||
      *number == 0)
    return std::nullopt;
  std::lock_guard lock(mutex_);
  if (known_.size() >= 10000) known_.clear();  // the database has them all; these are a shortcut
  known_[{person, incident}] = *number;
  return *number;
}

std::optional<std::string> ReplyCodes::incident_of(db::Connection& db, const std::string& person,
                                                   int number) {
  auto st = db.prepare(
      "SELECT incident_id FROM reply_codes WHERE person = ?1 AND number = ?2 ORDER BY created_at "
      "DESC LIMIT 1");
  st.bind(1, person).bind(2, std::int64_t(number));
  if (!st.step()) return std::nullopt;
  return st.text(0);
}

}  // namespace tocsin
