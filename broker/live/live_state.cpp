#include "broker/live/live_state.hpp"
#include "core/json_text.hpp"

#include <pthread.h>
#include <chrono>
#include <unordered_set>

#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>
#include <boost/json.hpp>

namespace tocsin {

namespace json = boost::json;

// Commands are built as argument vectors: no quoting, binary-safe.
class Pipeline {
 public:
  void add(std::vector<std::string> args) { commands_.push_back(std::move(args)); }
  std::size_t size() const { return commands_.size(); }

  // Sends every command, then reads every reply. Returns false on a connection error or an
  // error reply (message in `error`).
  bool run(redisContext* ctx, std::string& error,
           std::vector<std::string>* first_reply_items = nullptr) {
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (const auto& cmd : commands_) {
      argv.clear();
      lens.clear();
      for (const auto& a : cmd) {
        argv.push_back(a.data());
        lens.push_back(a.size());
      }
      if (redisAppendCommandArgv(ctx, int(argv.size()), argv.data(), lens.data()) != REDIS_OK) {
        error = ctx->errstr;
        return false;
      }
    }
    bool ok = true;
    for (std::size_t i = 0; i < commands_.size(); ++i) {
      void* raw = nullptr;
      if (redisGetReply(ctx, &raw) != REDIS_OK) {
        error = ctx->errstr;
        return false;
      }
      auto* reply = static_cast<redisReply*>(raw);
      if (reply->type == REDIS_REPLY_ERROR) {
        error.assign(reply->str, reply->len);
        ok = false;
      } else if (i == 0 && first_reply_items && reply->type == REDIS_REPLY_ARRAY) {
        for (size_t j = 0; j < reply->elements; ++j)
          first_reply_items->emplace_back(reply->element[j]->str, reply->element[j]->len);
      }
      freeReplyObject(reply);
    }
    commands_.clear();
    return ok;
  }

 private:
  std::vector<std::vector<std::string>> commands_;
};

namespace {

constexpr std::size_t kMaxQueued = 200'000;  // past this, drop and rebuild from SQLite
constexpr const char* kActiveSet = "tocsin:incidents:active";

std::string incident_key(const std::string& id) {
  return "tocsin:incident:" + id;
}

std::string number(double v) {
  return json_text(json::value(v));
}

void project(Pipeline& p, const IncidentRecord& r) {
  const Incident& i = r.incident;
  std::string key = incident_key(i.id);
  if (r.state != "active") {
    p.add({"ZREM", kActiveSet, i.id});
    p.add({"DEL", key});
    return;
  }
  // A few fields to filter on, and the whole record as JSON for a console to read. The field
  // set is fixed, so HSET alone replaces the previous state.
  p.add({"HSET", key, "id", i.id, "state", r.state, "severity", std::string(to_string(i.severity)),
         "type", i.type, "zone", i.location.zone.value_or(""), "updated_at",
         format_rfc3339(r.updated_at), "json", json_text(to_json(r))});
  p.add({"ZADD", kActiveSet, number(double(to_unix_ms(r.updated_at))), i.id});
}

}  // namespace

LiveState::LiveState(RedisEndpoint endpoint, IncidentStore& store, BrokerMetrics& metrics,
                     BeforeConnect before_connect)
    : endpoint_(std::move(endpoint)),
      store_(store),
      metrics_(metrics),
      before_connect_(std::move(before_connect)) {}

LiveState::~LiveState() {
  stop();
}

void LiveState::start() {
  thread_ = std::jthread([this](std::stop_token stop) {
    pthread_setname_np(pthread_self(), "live-state");
    run(stop);
  });
}

void LiveState::stop() {
  thread_.request_stop();  // what is queued is written first, if Redis is there
  if (thread_.joinable()) thread_.join();
  if (ctx_) {
    redisFree(ctx_);
    ctx_ = nullptr;
  }
}

std::string LiveState::endpoint() const {
  std::lock_guard lock(mutex_);
  return endpoint_.describe();
}

std::string LiveState::last_error() const {
  std::lock_guard lock(mutex_);
  return last_error_;
}

void LiveState::on_committed(std::vector<IncidentRecord> records) {
  {
    std::lock_guard lock(mutex_);
    if (!accepting_ || queue_.size() + records.size() > kMaxQueued) {
      // Redis is away or far behind: SQLite has it all; the next rebuild brings it back.
      overflowed_ = true;
      queue_.clear();
      return;
    }
    for (auto& r : records) queue_.push_back(std::move(r));
  }
  wake_.notify_one();
}

void LiveState::alerts_changed(std::vector<std::string> alert_ids) {
  {
    std::lock_guard lock(mutex_);
    if (!accepting_) return;  // Redis is away; counts are read again as they change
    changed_alerts_.insert(alert_ids.begin(), alert_ids.end());
  }
  wake_.notify_one();
}

void LiveState::set_hash(std::string key, std::vector<std::pair<std::string, std::string>> fields) {
  {
    std::lock_guard lock(mutex_);
    if (!accepting_) return;
    hashes_[std::move(key)] = std::move(fields);
  }
  wake_.notify_one();
}

bool LiveState::write_alert_counts(const std::set<std::string>& alert_ids) {
  std::map<std::string, std::map<std::string, std::int64_t>> counts;
  try {
    counts = store_.delivery_counts({alert_ids.begin(), alert_ids.end()});
  } catch (const std::exception& e) {
    spdlog::error("live state: cannot read delivery counts from SQLite: {}", e.what());
    return false;
  }
  Pipeline p;
  for (const auto& [id, by_state] : counts) {
    std::vector<std::string> cmd{"HSET", "tocsin:alert:" + id};
    for (const auto& [state, n] : by_state) {
      cmd.push_back(state);
      cmd.push_back(std::to_string(n));
    }
    p.add(cmd);
    p.add({"EXPIRE", "tocsin:alert:" + id, "604800"});  // a week after its last change
  }
  return send(p);
}

bool LiveState::connect() {
  if (before_connect_) {
    RedisEndpoint e = endpoint_;
    before_connect_(e);
    std::lock_guard lock(mutex_);
    endpoint_ = std::move(e);
  }
  timeval timeout{2, 0};
  ctx_ = endpoint_.unix_path.empty()
             ? redisConnectWithTimeout(endpoint_.host.c_str(), endpoint_.port, timeout)
             : redisConnectUnixWithTimeout(endpoint_.unix_path.c_str(), timeout);
  if (!ctx_ || ctx_->err) {
    disconnect(ctx_ ? ctx_->errstr : "cannot allocate a Redis context");
    return false;
  }
  redisSetTimeout(ctx_, timeout);
  Pipeline p;
  if (endpoint_.password) p.add({"AUTH", *endpoint_.password});
  if (endpoint_.db != 0) p.add({"SELECT", std::to_string(endpoint_.db)});
  p.add({"PING"});
  std::string error;
  if (!p.run(ctx_, error)) {
    disconnect(error);
    return false;
  }
  return true;
}

void LiveState::disconnect(const std::string& why) {
  if (ctx_) {
    redisFree(ctx_);
    ctx_ = nullptr;
  }
  metrics_.redis_errors.inc();
  bool was_up = up_.exchange(false);
  metrics_.redis_up = 0;
  {
    std::lock_guard lock(mutex_);
    last_error_ = why;
    accepting_ = false;
    overflowed_ = true;
    queue_.clear();
  }
  if (was_up)
    spdlog::warn("live state: Redis at {} lost ({}); alerting goes on, console degraded",
                 endpoint_.describe(), why);
}

bool LiveState::rebuild() {
  // Forget what was queued: the snapshot read below, taken after this point, contains it.
  // What commits from now on is queued and applied after the snapshot (a repeat is harmless).
  {
    std::lock_guard lock(mutex_);
    queue_.clear();
    overflowed_ = false;
    accepting_ = true;
  }
  std::vector<IncidentRecord> active;
  try {
    active = store_.all_active();
  } catch (const std::exception& e) {
    spdlog::error("live state: cannot read active incidents from SQLite: {}", e.what());
    return false;
  }
  std::string error;
  Pipeline p;
  std::vector<std::string> projected;
  p.add({"ZRANGE", kActiveSet, "0", "-1"});
  if (!p.run(ctx_, error, &projected)) {
    disconnect(error);
    return false;
  }
  std::unordered_set<std::string> keep;
  for (const auto& r : active) keep.insert(r.incident.id);
  p.add({"MULTI"});
  for (const auto& id : projected)
    if (!keep.count(id)) {
      p.add({"ZREM", kActiveSet, id});
      p.add({"DEL", incident_key(id)});
    }
  for (const auto& r : active) project(p, r);
  p.add({"EXEC"});
  if (!p.run(ctx_, error)) {
    disconnect(error);
    return false;
  }
  metrics_.redis_rebuilds.inc();
  up_ = true;
  metrics_.redis_up = 1;
  spdlog::info("live state: projection of {} active incidents rebuilt in Redis at {}",
               active.size(), endpoint_.describe());
  return true;
}

bool LiveState::send(Pipeline& p) {
  std::string error;
  if (!p.run(ctx_, error)) {
    disconnect(error);
    return false;
  }
  return true;
}

bool LiveState::write(const std::vector<IncidentRecord>& records) {
  Pipeline p;
  for (const auto& r : records) project(p, r);
  return send(p);
}

bool LiveState::ping() {
  Pipeline p;
  p.add({"PING"});
  return send(p);
}

void LiveState::run(std::stop_token stop) {
  using namespace std::chrono_literals;
  std::vector<IncidentRecord> batch;
  std::set<std::string> alerts;
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> hashes;
  while (true) {
    {
      std::unique_lock lock(mutex_);
      if (stop.stop_requested() && (queue_.empty() || !ctx_)) break;
    }
    if (!ctx_) {
      if (!connect()) {
        std::unique_lock lock(mutex_);
        wake_.wait_for(lock, stop, 500ms, [&] { return stop.stop_requested(); });
        continue;
      }
      if (!rebuild()) continue;
    }
    bool needs_rebuild = false;
    batch.clear();
    {
      std::unique_lock lock(mutex_);
      // Wake at least every second to ping, so an outage is noticed while idle too.
      bool woken = wake_.wait_for(lock, stop, 1s, [&] {
        return stop.stop_requested() || !queue_.empty() || overflowed_ ||
               !changed_alerts_.empty() || !hashes_.empty();
      });
      needs_rebuild = overflowed_;
      alerts.swap(changed_alerts_);
      hashes.swap(hashes_);
      while (!queue_.empty() && batch.size() < 8192) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      if (!woken && batch.empty() && alerts.empty() && hashes.empty()) {
        lock.unlock();
        ping();
        continue;
      }
    }
    if (needs_rebuild) {
      rebuild();
      continue;
    }
    if (!batch.empty()) write(batch);
    if (!alerts.empty()) write_alert_counts(alerts);
    alerts.clear();
    if (!hashes.empty()) {
      Pipeline p;
      for (auto& [key, fields] : hashes) {
        std::vector<std::string> cmd{"HSET", key};
        for (auto& [f, v] : fields) {
          cmd.push_back(f);
          cmd.push_back(v);
        }
        p.add(std::move(cmd));
      }
      send(p);
      hashes.clear();
    }
  }
}

}  // namespace tocsin
