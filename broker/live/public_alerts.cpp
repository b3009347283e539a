#include "broker/live/public_alerts.hpp"

#include <algorithm>

#include <boost/json.hpp>

#include "broker/storage/sqlite.hpp"
#include "core/incident.hpp"

namespace tocsin {

namespace json = boost::json;

namespace {

// A public alert released to the public (alerts AS a): a live one's own notice, not a follow-up
// of it, that went out.
constexpr const char* kReleased =
    "a.public = 1 AND a.kind = 'notify' AND a.follow_up_of IS NULL AND a.status = 'dispatched' "
    "AND a.cap_status = 'actual'";

// The zones an incident's stored location falls in.
std::vector<std::string> zones_of_location(const ZoneMap& zones, const std::string& text) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object()) return {};
  auto location = location_from_json(v, IncidentLimits::unlimited());
  if (!location) return {};
  if (location->point || !location->zone) return zones.zones_of(*location);
  std::vector<std::string> out{*location->zone};
  return out;
}

std::map<std::string, std::string> texts_of(const std::string& notes) {
  std::map<std::string, std::string> out;
  boost::system::error_code ec;
  auto v = json::parse(notes, ec);
  if (ec || !v.is_object()) return out;
  for (const auto& [lang, text] : v.as_object())
    if (text.is_string()) out[std::string(lang)] = std::string(text.as_string());
  return out;
}

}  // namespace

std::vector<PublicAlert> public_alerts_now(db::Connection& db, const ZoneMap& zones, Timestamp at,
                                           std::size_t limit) {
  const std::int64_t ms = to_unix_ms(at);
  auto st = db.prepare(
      std::string("SELECT a.id, a.incident_id, a.created_at, a.expires_s, coalesce(i.location, "
                  "'') FROM alerts a JOIN incidents i ON i.id = a.incident_id WHERE ") +
      kReleased +
      " AND a.expires_s > 0 AND a.created_at + a.expires_s * 1000 > ?1 ORDER BY a.created_at "
      "DESC LIMIT ?2");
  st.bind(1, ms).bind(2, std::int64_t(limit));
  std::vector<PublicAlert> out;
  while (st.step()) {
    PublicAlert a;
    a.id = st.text(0);
    a.incident_id = st.text(1);
    a.issued_at = from_unix_ms(st.integer(2));
    a.expires_at = from_unix_ms(st.integer(2) + st.integer(3) * 1000);
    a.zones = zones_of_location(zones, st.text(4));
    for (const char* lang : {"fr", "en"}) {
      std::string names;
      for (const auto& id : a.zones) {
        const Zone* z = zones.find(id);
        std::string name = !z ? id : std::string(lang) == "fr" ? z->name_fr : z->name_en;
        names += (names.empty() ? "" : ", ") + (name.empty() ? id : name);
      }
      a.area[lang] = names;
    }
    out.push_back(std::move(a));
  }
  st.reset();
  // Its words as sent: the live page's rendering, else the text message's.
  auto words = db.prepare(
      "SELECT language, body FROM alert_messages WHERE alert_id = ?1 AND channel IN ('websocket', "
      "'sms') ORDER BY channel = 'websocket'");
  auto follow_ups = db.prepare(
      "SELECT id, template, created_at, notes FROM alerts WHERE follow_up_of = ?1 AND status = "
      "'dispatched' ORDER BY created_at");
  for (auto& a : out) {
    words.bind(1, a.id);
    while (words.step()) a.text[words.text(0)] = words.text(1);  // websocket last: it wins
    words.reset();
    follow_ups.bind(1, a.id);
    while (follow_ups.step()) {
      const Timestamp when = from_unix_ms(follow_ups.integer(2));
      if (follow_ups.text(1) == "public-cancel") {
        a.cancelled_at = when;
        continue;
      }
      PublicAlert::Update u{when, texts_of(follow_ups.text(3))};
      if (u.text.empty()) {  // no note in each language's words: the update's own message
        words.bind(1, follow_ups.text(0));
        while (words.step()) u.text[words.text(0)] = words.text(1);
        words.reset();
      }
      a.updates.push_back(std::move(u));
    }
    follow_ups.reset();
  }
  return out;
}

json::object to_json(const PublicAlert& a, const std::string& language) {
  auto in_language = [&](const std::map<std::string, std::string>& by) {
    json::object o;
    for (const auto& [lang, text] : by)
      if (language.empty() || lang == language) o[lang] = text;
    return o;
  };
  json::array zones;
  for (const auto& z : a.zones) zones.emplace_back(z);
  json::array updates;
  for (const auto& u : a.updates)
    updates.push_back(json::object{{"at", format_rfc3339(u.at)}, {"text", in_language(u.text)}});
  return json::object{
      {"id", a.id},
      {"incident_id", a.incident_id},
      {"status", a.cancelled_at ? "cancelled" : "active"},
      {"zones", std::move(zones)},
      {"area", in_language(a.area)},
      {"issued_at", format_rfc3339(a.issued_at)},
      {"expires_at", format_rfc3339(a.expires_at)},
      {"cancelled_at", a.cancelled_at ? json::value(format_rfc3339(*a.cancelled_at)) : nullptr},
      {"text", in_language(a.text)},
      {"updates", std::move(updates)}};
}

json::object public_snapshot(const std::vector<PublicAlert>& alerts, const std::string& language) {
  json::array list;
  for (const auto& a : alerts) list.push_back(to_json(a, language));
  return json::object{{"type", "snapshot"}, {"alerts", std::move(list)}};
}

json::value published_count(std::int64_t n) {
  if (n < 10) return nullptr;
  return (n + 5) / 10 * 10;
}

json::object public_stats(db::Connection& db, const ZoneMap& zones, Timestamp at) {
  const std::int64_t since = to_unix_ms(at - std::chrono::days(24 * 31));  // 24 months
  auto months = db.prepare(
      std::string("SELECT strftime('%Y-%m', a.created_at / 1000, 'unixepoch') AS month, "
                  "coalesce(json_extract(a.audience, '$.residents.category'), 'other'), count(*) "
                  "FROM alerts a WHERE ") +
      kReleased + " AND a.created_at >= ?1 GROUP BY 1, 2 ORDER BY 1 DESC, 2");
  months.bind(1, since);
  json::array sent;
  while (months.step())
    sent.push_back(json::object{{"month", months.text(0)},
                                {"category", months.text(1)},
                                {"alerts", published_count(months.integer(2))}});
  months.reset();
  // From the report's arrival to the first delivery sent of its alert (the earliest that left).
  auto delays = db.prepare(
      std::string("SELECT (SELECT min(d.updated_at) FROM deliveries d WHERE d.alert_id = a.id AND "
                  "d.state IN ('sent', 'delivered')) - i.received_at FROM alerts a JOIN incidents "
                  "i ON i.id = a.incident_id WHERE ") +
      kReleased + " AND a.created_at >= ?1");
  delays.bind(1, since);
  std::vector<std::int64_t> ms;
  while (delays.step())
    if (!delays.is_null(0)) ms.push_back(delays.integer(0));
  delays.reset();
  json::value median = nullptr;
  if (!ms.empty()) {
    std::sort(ms.begin(), ms.end());
    const std::size_t n = ms.size();
    median = (n % 2 ? ms[n / 2] : (ms[n / 2 - 1] + ms[n / 2]) / 2) / 1000.0;
  }
  auto reach = db.prepare(
      "SELECT z.zone, r.language, count(*) FROM resident_zones z JOIN residents r ON r.id = "
      "z.resident_id WHERE EXISTS (SELECT 1 FROM resident_contacts c WHERE c.resident_id = r.id "
      "AND c.confirmed_at IS NOT NULL AND c.stopped_at IS NULL) GROUP BY 1, 2 ORDER BY 1, 2");
  json::array subscribers;
  while (reach.step()) {
    const Zone* z = zones.find(reach.text(0));
    subscribers.push_back(
        json::object{{"zone", reach.text(0)},
                     {"name", json::object{{"fr", z ? z->name_fr : reach.text(0)},
                                           {"en", z ? z->name_en : reach.text(0)}}},
                     {"language", reach.text(1)},
                     {"residents", published_count(reach.integer(2))}});
  }
  reach.reset();
  return json::object{{"as_of", format_rfc3339(at)},
                      {"alerts_sent", std::move(sent)},
                      {"median_seconds_to_first_delivery", median},
                      {"alerts_timed", published_count(std::int64_t(ms.size()))},
                      {"subscribers", std::move(subscribers)}};
}

std::vector<PublicAlert> PublicBoard::current() {
  std::lock_guard lock(mutex_);
  const auto t = std::chrono::steady_clock::now();
  if (!valid_ || t - read_at_ > keep_) {
    kept_ = read_();
    read_at_ = t;
    valid_ = true;
  }
  return kept_;
}

void PublicBoard::invalidate() {
  std::lock_guard lock(mutex_);
  valid_ = false;
}

}  // namespace tocsin
