#include "broker/ingest/zmq_ingest.hpp"

#include <pthread.h>
#include <array>
#include <memory>
#include <vector>

#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <boost/json.hpp>
#include <optional>
#include <zmq.hpp>

#include "core/json_body.hpp"
#include "playbooks/playbook.hpp"

namespace tocsin {

namespace {
constexpr std::size_t kMaxFrames = 8;
constexpr std::size_t kMaxRequestId = 256;
constexpr int kPeerQueue = 1000;
constexpr int kPeerReplies =
    100000;  // above max_in_flight: every answer of what is in flight leaves

void send_frames(zmq::socket_t& s, std::initializer_list<std::string_view> frames) {
  std::size_t i = 0, n = frames.size();
  for (auto f : frames) {
    auto flags = ++i < n ? zmq::send_flags::sndmore : zmq::send_flags::none;
    // A peer that went away or is over its high-water mark loses its reply; ROUTER drops it.
    (void)s.send(zmq::const_buffer(f.data(), f.size()), flags | zmq::send_flags::dontwait);
  }
}
// [ack|resolve|cancel][{"incident": id, "by": who, "note": text}]
Result<IncidentAction> parse_action(const std::string& verb, std::string_view body) {
  auto v = json_object_body(body, 8192);
  if (!v) return v.error();
  FieldReader f(v.value().get_object());
  if (auto e = f.only({"incident", "by", "note"})) return *e;
  IncidentAction a;
  a.kind = verb;
  if (auto e = f.text("incident", true, 64, a.incident_id)) return *e;
  if (auto e = f.text("by", true, 128, a.by)) return *e;
  if (auto e = f.text("note", false, 2048, a.note, true)) return *e;
  return a;
}

}  // namespace

ZmqIngest::ZmqIngest(zmq::context_t& context, std::string bind, Intake& journal,
                     const IncidentLimits& limits, std::size_t max_in_flight,
                     BrokerMetrics& metrics)
    : context_(context),
      bind_(std::move(bind)),
      journal_(journal),
      limits_(limits),
      max_in_flight_(max_in_flight),
      metrics_(metrics) {}

ZmqIngest::~ZmqIngest() {
  stop();
  if (wake_fd_ >= 0) close(wake_fd_);
}

void ZmqIngest::authenticate(std::string secret_key, SensorKeys sensors) {
  secret_key_ = std::move(secret_key);
  sensors_ = std::make_shared<const SensorKeys>(std::move(sensors));
}

void ZmqIngest::reload_sensors(SensorKeys sensors) {
  auto next = std::make_shared<const SensorKeys>(std::move(sensors));
  std::lock_guard lock(sensors_mutex_);
  sensors_ = std::move(next);
}

void ZmqIngest::start() {
  if (!secret_key_.empty()) {
    // The ZAP handler is bound first: libzmq asks it about every CURVE client from then on.
    auto zap = std::make_unique<zmq::socket_t>(context_, zmq::socket_type::rep);
    zap->set(zmq::sockopt::linger, 0);
    zap->bind("inproc://zeromq.zap.01");
    zap_ = zap.release();
  }
  auto socket = std::make_unique<zmq::socket_t>(context_, zmq::socket_type::router);
  if (!secret_key_.empty()) {
    socket->set(zmq::sockopt::curve_server, 1);
    socket->set(zmq::sockopt::curve_secretkey, secret_key_);
    socket->set(zmq::sockopt::zap_domain, "tocsin");
  }
  socket->set(zmq::sockopt::linger, 2000);  // let the last acknowledgements leave on stop
  // Each peer's state is bounded: at most kPeerQueue messages read from it and not yet taken
  // (then libzmq stops reading its socket: back-pressure on that sender alone), at most
  // kPeerReplies answers it has not read (past them, ROUTER drops its answers: a sensor that
  // does not read retries, and dedup keeps it one incident). A peer has 10 s to finish its
  // handshake, and one that stops answering the transport's heartbeats is dropped.
  socket->set(zmq::sockopt::rcvhwm, kPeerQueue);
  socket->set(zmq::sockopt::sndhwm, kPeerReplies);
  socket->set(zmq::sockopt::handshake_ivl, 10000);
  socket->set(zmq::sockopt::heartbeat_ivl, 10000);
  socket->set(zmq::sockopt::heartbeat_timeout, 30000);
  // Far above the per-message limit: we answer "too_large" ourselves up to this size; beyond it
  // the transport drops the peer.
  socket->set(zmq::sockopt::maxmsgsize, std::int64_t(limits_.max_bytes) * 4 + 4096);
  socket->bind(bind_);
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  socket_ = socket.release();
  thread_ = std::jthread([this](std::stop_token stop) {
    pthread_setname_np(pthread_self(), "zmq-ingest");
    run(stop);
  });
  if (secret_key_.empty())
    spdlog::warn(
        "ingest: ZeroMQ ROUTER bound at {}, NOT authenticated: anyone who reaches it can "
        "report (set ingest.zmq.curve)",
        bind_);
  else
    spdlog::info("ingest: ZeroMQ ROUTER bound at {} (CurveZMQ, {} sensors)", bind_,
                 sensors()->size());
}

void ZmqIngest::stop() {
  if (!thread_.joinable()) return;
  thread_.request_stop();  // it stops reading, and answers what it read
  std::uint64_t one = 1;
  (void)!write(wake_fd_, &one, sizeof one);
  thread_.join();
}

void ZmqIngest::post(Reply reply) {
  bool first;
  {
    std::lock_guard lock(mutex_);
    replies_.push_back(std::move(reply));
    first = replies_.size() == 1;
  }
  // Only the first reply of a batch wakes the socket thread: it takes all waiting replies at once.
  if (first) {
    std::uint64_t one = 1;
    (void)!write(wake_fd_, &one, sizeof one);
  }
}

// ZAP (ZeroMQ RFC 27): [version][request id][domain][address][identity][mechanism][key…] in,
// [version][request id][status][text][user id][metadata] out. A listed key passes, named.
void ZmqIngest::answer_zap() {
  auto& zap = *static_cast<zmq::socket_t*>(zap_);
  std::vector<zmq::message_t> f;
  zmq::message_t m;
  do {
    if (!zap.recv(m, zmq::recv_flags::dontwait)) break;
    f.push_back(std::move(m));
    m = zmq::message_t();
  } while (f.back().more());
  if (f.size() < 6) return;  // not a ZAP request: nothing sane to answer (REP needs one)
  std::string version = f[0].to_string(), request_id = f[1].to_string();
  std::string address = f[3].to_string(), mechanism = f[5].to_string();
  const auto keys = sensors();
  const SensorKey* sensor = nullptr;
  std::string key;
  if (mechanism == "CURVE" && f.size() == 7 && f[6].size() == 32) {
    char z85[41];
    zmq_z85_encode(z85, static_cast<const std::uint8_t*>(f[6].data()), 32);
    key = z85;
    sensor = keys->by_public_key(key);
  }
  if (!sensor) {
    metrics_.rejected("unknown_sensor");
    spdlog::warn("ingest: refused a ZeroMQ client from {}: {} key {} is not in the sensors file",
                 address, mechanism, key.empty() ? "(none)" : key);
  }
  std::string status = sensor ? "200" : "400";
  std::string text = sensor ? "OK" : "unknown sensor key";
  std::string user = sensor ? sensor->name : "";
  send_frames(zap, {version, request_id, status, text, user, ""});
}

void ZmqIngest::run(std::stop_token stop) {
  std::unique_ptr<zmq::socket_t> socket(static_cast<zmq::socket_t*>(socket_));
  std::unique_ptr<zmq::socket_t> zap(static_cast<zmq::socket_t*>(zap_));
  std::size_t in_flight = 0, in_flight_bytes = 0;  // read, not yet answered
  std::deque<Reply> ready;
  std::vector<zmq::message_t> frames;

  auto refuse = [&](const std::string& identity, std::string_view request_id, const Error& e) {
    metrics_.rejected(e.code);
    send_frames(*socket, {identity, request_id, "error", e.code, e.message});
  };

  while (true) {
    bool reading = !stop.stop_requested() && in_flight < max_in_flight_ &&
                   in_flight_bytes < max_in_flight_bytes_;
    if (stop.stop_requested() && in_flight == 0) break;
    std::array<zmq::pollitem_t, 3> items{
        zmq::pollitem_t{socket->handle(), 0, short(reading ? ZMQ_POLLIN : 0), 0},
        zmq::pollitem_t{nullptr, wake_fd_, ZMQ_POLLIN, 0},
        zmq::pollitem_t{zap ? zap->handle() : nullptr, zap ? 0 : -1, short(zap ? ZMQ_POLLIN : 0),
                        0}};
    zmq::poll(items.data(), zap ? 3 : 2, std::chrono::milliseconds(-1));
    if (zap && (items[2].revents & ZMQ_POLLIN)) answer_zap();

    if (items[1].revents & ZMQ_POLLIN) {
      std::uint64_t n;
      (void)!read(wake_fd_, &n, sizeof n);
      {
        std::lock_guard lock(mutex_);
        ready.swap(replies_);
      }
      auto now = std::chrono::steady_clock::now();
      for (auto& r : ready) {
        --in_flight;
        in_flight_bytes -= r.bytes;
        metrics_.ack_seconds.observe(std::chrono::duration<double>(now - r.received).count());
        if (r.result.ok())
          send_frames(*socket, {r.identity, r.request_id, "ok", r.result->first, r.result->second});
        else
          refuse(r.identity, r.request_id, r.result.error());
      }
      ready.clear();
    }

    if (!(items[0].revents & ZMQ_POLLIN)) continue;
    // Read what is waiting (bounded), so the journal gets many reports per commit.
    for (int burst = 0;
         burst < 1024 && in_flight < max_in_flight_ && in_flight_bytes < max_in_flight_bytes_;
         ++burst) {
      frames.clear();
      bool more = true;
      while (more) {
        zmq::message_t m;
        auto got =
            socket->recv(m, frames.empty() ? zmq::recv_flags::dontwait : zmq::recv_flags::none);
        if (!got) break;
        more = m.more();
        if (frames.size() < kMaxFrames + 1) frames.push_back(std::move(m));
      }
      if (frames.empty()) break;
      metrics_.received_zmq.inc();
      std::string identity = frames[0].to_string();
      std::string request_id = frames.size() > 1 ? frames[1].to_string() : std::string();
      std::string verb = frames.size() == 4 ? frames[2].to_string() : std::string();
      bool is_action = verb == "ack" || verb == "resolve" || verb == "cancel";
      // With CURVE: the sensor the ZAP handler named, and what it may do.
      const SensorKey* sensor = nullptr;
      const auto keys = sensors();
      if (keys) {
        const char* user = frames.back().gets("User-Id");
        sensor = keys->by_name(user ? user : "");
        if (!sensor) {  // its key was taken out by a reload since its handshake
          refuse(identity, request_id,
                 Error{"forbidden", "sensor: its key is no longer listed (the sensors file)",
                       "sensor"});
          continue;
        }
      }
      auto may_report_as = [&](const std::string& source) -> std::optional<Error> {
        if (!sensor) return std::nullopt;
        for (const auto& glob : sensor->sources)
          if (playbooks::glob_match(glob, source)) return std::nullopt;
        return Error{"forbidden",
                     "source: sensor '" + sensor->name + "' may not report as '" + source + "'",
                     "source"};
      };
      if (verb == "heartbeat" && request_id.size() <= kMaxRequestId) {
        // [request-id][heartbeat][{"source": id}]: answered at once, nothing to store.
        boost::system::error_code ec;
        auto v = boost::json::parse(frames[3].to_string_view(), ec);
        const boost::json::value* src =
            !ec && v.is_object() ? v.get_object().if_contains("source") : nullptr;
        if (!src || !src->is_string() || src->get_string().empty() ||
            src->get_string().size() > 128) {
          refuse(identity, request_id,
                 Error{"invalid_value", "source: give the source id, as in its reports", "source"});
          continue;
        }
        std::string source(src->get_string());
        if (auto e = may_report_as(source)) {
          refuse(identity, request_id, *e);
          continue;
        }
        if (on_seen_) on_seen_(source);
        send_frames(*socket, {identity, request_id, "ok", source, "heartbeat"});
        continue;
      }
      if (frames.size() != 3 && !is_action) {
        refuse(identity, request_id,
               Error{"bad_frames",
                     "frames: expected [request-id][json report] or "
                     "[request-id][ack|resolve|cancel|heartbeat][json], got " +
                         std::to_string(frames.size() - 1) + " frames",
                     "frames"});
        continue;
      }
      if (request_id.size() > kMaxRequestId) {
        refuse(identity, request_id.substr(0, kMaxRequestId),
               Error{"too_large",
                     "request-id: longer than " + std::to_string(kMaxRequestId) + " bytes",
                     "request-id"});
        continue;
      }
      // Validated here, answered by the journal once durable.
      std::optional<IncidentAction> action;
      std::optional<Incident> report;
      if (is_action) {
        if (sensor && !sensor->actions) {
          refuse(identity, request_id,
                 Error{"forbidden",
                       "sensor '" + sensor->name + "' may not " + verb +
                           " (actions: true in the sensors file)",
                       "frames"});
          continue;
        }
        auto a = parse_action(verb, frames[3].to_string_view());
        if (!a) {
          refuse(identity, request_id, a.error());
          continue;
        }
        action = std::move(a.value());
        if (sensor) {  // on its own incidents only, and the trail names it
          action->via = "sensor:" + sensor->name;
          action->only_sources = sensor->sources;
        }
      } else {
        auto parsed = parse_incident(frames[2].to_string_view(), limits_);
        if (!parsed) {
          refuse(identity, request_id, parsed.error());
          continue;
        }
        report = std::move(parsed.value());
        if (auto e = may_report_as(report->source)) {
          refuse(identity, request_id, *e);
          continue;
        }
        if (on_seen_) on_seen_(report->source);
      }
      const std::size_t bytes = frames.back().size();
      ++in_flight;
      in_flight_bytes += bytes;
      auto reply = [this, identity = std::move(identity), request_id = std::move(request_id),
                    received = std::chrono::steady_clock::now(),
                    bytes](Result<std::pair<std::string, std::string>> result) mutable {
        post(Reply{std::move(identity), std::move(request_id), std::move(result), received, bytes});
      };
      if (action) {
        journal_.act(std::move(*action), [reply = std::move(reply)](Result<ActionDone> r) mutable {
          if (!r) return reply(r.error());
          reply(std::pair{r->incident_id, r->state});
        });
      } else {
        journal_.submit(std::move(*report), [reply = std::move(reply)](Result<Accepted> r) mutable {
          if (!r) return reply(r.error());
          reply(std::pair{r->incident_id, std::string(r->folded    ? "folded"
                                                      : r->created ? "created"
                                                                   : "updated")});
        });
      }
    }
  }
  socket->close();
  spdlog::info("ingest: ZeroMQ ROUTER closed");
}

}  // namespace tocsin
