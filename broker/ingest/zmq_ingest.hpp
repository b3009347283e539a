#pragma once
// ZeroMQ ingest: a ROUTER socket that takes [request-id][json] from sensors (DEALER clients may
// pipeline many requests) and answers each only once the journal says it is durable.
// The socket lives in one thread; the journal's answers come back through an eventfd.

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "broker/ingest/sensor_keys.hpp"
#include "broker/journal/intake.hpp"
#include "broker/metrics/broker_metrics.hpp"
#include "core/incident.hpp"

namespace zmq {
class context_t;
}

namespace tocsin {

class ZmqIngest {
 public:
  ZmqIngest(zmq::context_t& context, std::string bind, Intake& journal,
            const IncidentLimits& limits, std::size_t max_in_flight, BrokerMetrics& metrics);
  ~ZmqIngest();

  // CurveZMQ: only the sensors listed connect (their keys checked by this class's ZAP handler),
  // encrypted, and each may report only as its own sources. Before start().
  void authenticate(std::string secret_key, SensorKeys sensors);
  // Another set of sensors' keys (the file reloaded on SIGHUP), for every handshake and message
  // from now on: a key taken out can connect no more, and what its open connection sends is
  // refused. After authenticate().
  void reload_sensors(SensorKeys sensors);
  // Binds (throws zmq::error_t on failure), then serves on its own thread.
  void start();
  // Past this many bytes of requests read and not yet answered, it stops reading (as past
  // max_in_flight requests). Before start().
  void max_in_flight_bytes(std::size_t bytes) { max_in_flight_bytes_ = bytes; }
  // Told of each source that speaks (a valid report or a heartbeat). Before start().
  void on_seen(std::function<void(const std::string&)> f) { on_seen_ = std::move(f); }
  // Stops reading new requests, waits until every request read so far is answered, closes.
  void stop();

 private:
  struct Reply {
    std::string identity;
    std::string request_id;
    Result<std::pair<std::string, std::string>> result;  // incident id, what happened
    std::chrono::steady_clock::time_point received;
    std::size_t bytes;  // the request's body, counted in flight
  };
  void run(std::stop_token stop);
  void post(Reply reply);
  void answer_zap();

  zmq::context_t& context_;
  std::string bind_;
  Intake& journal_;
  std::function<void(const std::string&)> on_seen_;
  IncidentLimits limits_;
  std::size_t max_in_flight_;
  std::size_t max_in_flight_bytes_ = 64 << 20;
  BrokerMetrics& metrics_;

  int wake_fd_ = -1;  // eventfd: replies are waiting, or stop was asked
  std::mutex mutex_;
  std::deque<Reply> replies_;
  std::jthread thread_;
  void* socket_ = nullptr;  // zmq::socket_t*, created in start() and used only by thread_
  std::string secret_key_;  // empty: no CURVE
  // The sensors' keys: replaced whole by reload_sensors (SIGHUP) from another thread, read by
  // the socket's thread, each message with the set it started with.
  std::shared_ptr<const SensorKeys> sensors() const {
    std::lock_guard lock(sensors_mutex_);
    return sensors_;
  }
  mutable std::mutex sensors_mutex_;
  std::shared_ptr<const SensorKeys> sensors_;
  void* zap_ = nullptr;  // zmq::socket_t* (REP on inproc://zeromq.zap.01), with CURVE
};

}  // namespace tocsin
