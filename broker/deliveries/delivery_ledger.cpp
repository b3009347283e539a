#include "broker/deliveries/delivery_ledger.hpp"

#include <map>
#include <set>

#include <spdlog/spdlog.h>

#include <boost/json.hpp>
#include "core/personal_data.hpp"

#include "broker/residents/registry.hpp"
#include "broker/storage/alerts_table.hpp"
#include "broker/storage/audit.hpp"
#include "broker/storage/incident_store.hpp"
#include "broker/storage/sqlite.hpp"
#include "core/json_text.hpp"

namespace tocsin {

namespace json = boost::json;

namespace {
// A delivery's change in the audit trail: who it was for (their id, never their address: the
// trail is kept for good and may not hold a resident's phone number), on what, and how it went.
audit::Entry delivery_entry(const Delivery& d, const std::string& actor) {
  json::object detail{{"alert", d.alert_id},           {"incident", d.incident_id},
                      {"channel", d.channel},          {"recipient", d.recipient.id},
                      {"attempts", d.attempts},        {"error", d.last_error},
                      {"provider_ref", d.provider_ref}};
  if (!d.fallback_of.empty()) detail["fallback_of"] = d.fallback_of;
  return {now(), actor, std::string("delivery.") + to_string(d.state), d.id, json_text(detail)};
}
}  // namespace

struct SqliteDeliveryLedger::Statements {
  explicit Statements(db::Connection& db)
      : db(db),
        audit(db),
        insert(db.prepare(
            "INSERT INTO deliveries (id, alert_id, incident_id, channel, recipient, address, "
            "language, state, attempts, last_error, provider_ref, fallback_of, created_at, "
            "updated_at, next_attempt_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
            "?12, ?13, ?13, ?14)")),
        message(db.prepare(
            "INSERT INTO alert_messages (alert_id, channel, language, subject, body, html) VALUES "
            "(?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING")),
        clear(db.prepare("DELETE FROM deliveries WHERE alert_id = ?1")),
        // A late update never overrides a receipt that already said delivered or failed.
        update(db.prepare(
            "UPDATE deliveries SET state = ?2, attempts = ?3, last_error = ?4, provider_ref = ?5, "
            "updated_at = ?6, next_attempt_at = ?7 WHERE id = ?1 AND state NOT IN ('delivered') "
            "AND NOT (state = 'failed' AND ?2 IN ('sent', 'sending', 'queued'))")),
        receipt(db.prepare(
            "UPDATE deliveries SET state = ?3, last_error = ?4, updated_at = ?5 WHERE channel = "
            "?1 AND provider_ref = ?2 AND state IN ('sent', 'sending', 'queued') RETURNING id, "
            "alert_id, incident_id, channel, recipient, address, language, state, attempts, "
            "last_error, provider_ref, fallback_of, created_at, next_attempt_at")),
        alerts(db) {}

  db::Connection& db;
  audit::Appender audit;
  db::Statement insert, message, clear, update, receipt;
  AlertsTable alerts;
};

SqliteDeliveryLedger::SqliteDeliveryLedger(Intake& journal, std::filesystem::path database,
                                           std::function<void(std::vector<std::string>)> changed)
    : journal_(journal), database_(std::move(database)), changed_(std::move(changed)) {}

SqliteDeliveryLedger::~SqliteDeliveryLedger() = default;

SqliteDeliveryLedger::Statements& SqliteDeliveryLedger::statements(db::Connection& db) {
  if (!statements_) statements_ = std::make_unique<Statements>(db);
  return *statements_;
}

void SqliteDeliveryLedger::record(std::shared_ptr<const dispatchers::AlertContent> content,
                                  std::vector<Delivery> deliveries, bool dispatched,
                                  std::function<void(bool)> done) {
  // A large alert is written in slices, each in the journal's queue on its own, so that reports
  // are committed between them. Until the last slice marks the alert dispatched it stays pending,
  // and a restart plans it again: the first slice clears what an interrupted plan left.
  constexpr std::size_t kSlice = 1000;
  auto rows = std::make_shared<std::vector<Delivery>>(std::move(deliveries));
  auto failed = std::make_shared<bool>(false);
  const std::size_t slices = std::max<std::size_t>(1, (rows->size() + kSlice - 1) / kSlice);
  for (std::size_t k = 0; k < slices; ++k) {
    const bool first = k == 0, last = k + 1 == slices;
    const std::size_t from = k * kSlice, to = std::min(rows->size(), from + kSlice);
    journal_.write(
        [this, content, rows, dispatched, first, last, from, to, failed](db::Connection& db) {
          auto& st = statements(db);
          if (first) {
            if (dispatched) {
              st.clear.bind(1, content->alert.id);
              st.clear.run();
            }
            for (const auto& [key, m] : content->messages) {
              st.message.bind(1, content->alert.id).bind(2, key.first).bind(3, key.second);
              st.message.bind(4, m.subject).bind(5, m.text).bind(6, m.html);
              st.message.run();
            }
          }
          for (std::size_t i = from; i < to; ++i) insert(st, (*rows)[i]);
          if (!dispatched) {
            // A delivery added later (a fallback to another channel): each its own row.
            for (std::size_t i = from; i < to; ++i)
              st.audit.append(delivery_entry((*rows)[i], "dispatcher"));
            return;
          }
          if (!last || *failed) return;
          st.alerts.dispatched(content->alert.id);
          // The dispatcher's change, audited: how many deliveries on which channels.
          json::object per_channel;
          for (const auto& d : *rows)
            per_channel[d.channel] =
                (per_channel.contains(d.channel) ? per_channel[d.channel].as_int64() : 0) + 1;
          st.audit.append({now(), "dispatcher", "alert.dispatch", content->alert.id,
                           json_text(json::object{{"incident", content->alert.incident_id},
                                                  {"public", content->alert.is_public},
                                                  {"deliveries", std::move(per_channel)}})});
        },
        [this, last, failed, done = last ? std::move(done) : nullptr,
         id = content->alert.id](bool committed) {
          if (!committed) *failed = true;
          if (!last) return;
          if (!*failed && changed_) changed_({id});
          done(!*failed);
        });
  }
}

void SqliteDeliveryLedger::insert(Statements& st, const Delivery& d) {
  st.insert.bind(1, d.id).bind(2, d.alert_id).bind(3, d.incident_id).bind(4, d.channel);
  // A resident's address is never stored beside the delivery: the registry holds it sealed, and a
  // resumed delivery asks for it again (dispatchers: resume).
  st.insert.bind(5, d.recipient.id).bind(6, is_resident(d.recipient.id) ? "" : d.recipient.address);
  st.insert.bind(7, d.recipient.language).bind(8, to_string(d.state));
  st.insert.bind(9, std::int64_t(d.attempts)).bind(10, d.last_error);
  st.insert.bind(11, d.provider_ref);
  if (d.fallback_of.empty())
    st.insert.bind_null(12);
  else
    st.insert.bind(12, d.fallback_of);
  st.insert.bind(13, to_unix_ms(d.created_at)).bind(14, to_unix_ms(d.next_attempt_at));
  st.insert.run();
}

void SqliteDeliveryLedger::update(const Delivery& d) {
  journal_.write(
      [this, d](db::Connection& db) {
        auto& all = statements(db);
        auto& st = all.update;
        st.bind(1, d.id).bind(2, to_string(d.state)).bind(3, std::int64_t(d.attempts));
        st.bind(4, d.last_error).bind(5, d.provider_ref).bind(6, to_unix_ms(now()));
        st.bind(7, to_unix_ms(d.next_attempt_at));
        st.run();
        if (all.db.changes() > 0) all.audit.append(delivery_entry(d, "dispatcher"));
      },
      [this, id = d.alert_id](bool committed) {
        if (!committed)
          spdlog::error("deliveries: a state change of alert {} was not stored", id);
        else if (changed_)
          changed_({id});
      });
}

void SqliteDeliveryLedger::receipt(const std::string& channel, const std::string& provider_ref,
                                   DeliveryState state, const std::string& error,
                                   std::function<void(std::optional<Delivery>)> done) {
  auto changed = std::make_shared<std::optional<Delivery>>();
  journal_.write(
      [this, channel, provider_ref, state, error, changed](db::Connection& db) {
        auto& all = statements(db);
        auto& st = all.receipt;
        // A provider's reason may name the address: kept without it.
        st.bind(1, channel).bind(2, provider_ref).bind(3, to_string(state));
        st.bind(4, without_personal_data(error));
        st.bind(5, to_unix_ms(now()));
        if (st.step()) *changed = read_delivery_row(st);
        st.reset();
        // The provider's word (a signed receipt), in the trail under its channel's name.
        if (*changed) all.audit.append(delivery_entry(**changed, "provider:" + channel));
      },
      [this, changed, done = std::move(done)](bool committed) {
        if (!committed) changed->reset();
        if (*changed && changed_) changed_({(*changed)->alert_id});
        done(*changed);
      });
}

namespace {

std::shared_ptr<dispatchers::AlertContent> read_content(db::Connection& db,
                                                        const std::string& alert_id) {
  auto alert = db.prepare(std::string(kAlertSelect) + "WHERE id = ?1");
  alert.bind(1, alert_id);
  if (!alert.step()) return nullptr;
  auto content = std::make_shared<dispatchers::AlertContent>();
  content->alert = read_alert_row(alert);
  auto messages = db.prepare(
      "SELECT channel, language, subject, body, html FROM alert_messages WHERE alert_id = ?1");
  messages.bind(1, alert_id);
  while (messages.step())
    content->messages[{messages.text(0), messages.text(1)}] =
        Message{messages.text(1), messages.text(2), messages.text(3), messages.text(4), ""};
  return content;
}

}  // namespace

std::shared_ptr<const dispatchers::AlertContent> SqliteDeliveryLedger::content(
    const std::string& alert_id) {
  std::lock_guard lock(read_mutex_);
  if (!reader_)
    reader_ = std::make_unique<sqlite::Connection>(database_.string(),
                                                   sqlite::Connection::Mode::read_only);
  return read_content(*reader_, alert_id);
}

void SqliteDeliveryLedger::block(const Alert& alert, const std::vector<std::string>& problems) {
  json::array list;
  std::string all;
  for (const auto& p : problems) {
    list.emplace_back(p);
    all += (all.empty() ? "" : "\n") + p;
  }
  journal_.write(
      [id = alert.id, text = json_text(list)](db::Connection& db) {
        AlertsTable(db).blocked(id, text);
        audit::append(db, {now(), "dispatcher", "alert.block", id,
                           json_text(json::object{{"problems", json::parse(text)}})});
      },
      // Someone must look: the public was not warned. Raised once the alert is marked blocked
      // (or that failed), so whoever opens the incident finds the alert's reasons stored.
      [this, alert, all, problems](bool) {
        changed_({alert.id});
        Incident i = raised_by_tocsin(
            "tocsin/dispatcher", "alert.blocked", alert.id,
            "Public alert blocked: " + (problems.empty() ? std::string() : problems.front()),
            "The public alert " + alert.id + " of incident " + alert.incident_id + " (playbook " +
                alert.playbook_id + ") was not sent:\n" + all,
            {{"alert", alert.id},
             {"incident", alert.incident_id},
             {"playbook", alert.playbook_id}});
        journal_.submit(std::move(i), [id = alert.id](Result<Accepted> r) {
          if (!r) spdlog::error("alert {}: the alert.blocked incident was not stored", id);
        });
      });
}

Unfinished load_unfinished(const std::filesystem::path& database) {
  sqlite::Connection db(database.string(), sqlite::Connection::Mode::read_only);
  Unfinished out;
  auto incident = db.prepare(std::string(kIncidentSelect) + "WHERE id = ?1");
  auto pending =
      db.prepare(std::string(kAlertSelect) + "WHERE status = 'pending' ORDER BY created_at, id");
  auto grouped = db.prepare("SELECT grouped FROM alerts WHERE id = ?1");
  while (pending.step()) {
    Alert a = read_alert_row(pending);
    incident.bind(1, a.incident_id);
    if (incident.step()) {
      IncidentRecord rec = read_incident_row(incident);
      grouped.bind(1, a.id);
      if (grouped.step()) rec.group = group_from_json(json::parse(grouped.text(0)));
      grouped.reset();
      out.pending_alerts.emplace_back(std::move(a), std::move(rec));
    }
    incident.reset();
  }

  std::map<std::string, std::vector<Delivery>> by_alert;
  // An alert still pending is planned again, whole: the rows of its interrupted plan are not
  // resumed (none of them was attempted, for none is handed on before the last slice commits).
  auto open = db.prepare(std::string(kDeliverySelect) +
                         "WHERE state IN ('queued', 'sending') AND alert_id NOT IN (SELECT id "
                         "FROM alerts WHERE status = 'pending') ORDER BY created_at, id");
  while (open.step()) {
    Delivery d = read_delivery_row(open);
    by_alert[d.alert_id].push_back(std::move(d));
  }
  for (auto& [id, deliveries] : by_alert) {
    auto content = read_content(db, id);
    if (!content) continue;
    out.deliveries.emplace_back(std::move(content), std::move(deliveries));
  }
  return out;
}

}  // namespace tocsin
