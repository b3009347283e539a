#include "broker/cli/send.hpp"

#include <array>
#include <cstring>
#include <vector>

#include <zmq.hpp>

#include "broker/ingest/sensor_keys.hpp"
#include "core/ulid.hpp"

namespace tocsin {

namespace {
// A failed handshake, as the socket's monitor reports it, in words; empty: none yet.
std::string handshake_failure(zmq::socket_t& monitor) {
  zmq::message_t event, address;
  if (!monitor.recv(event, zmq::recv_flags::dontwait)) return "";
  if (event.more()) (void)monitor.recv(address);
  if (event.size() < 6) return "";
  std::uint16_t id;
  std::memcpy(&id, event.data(), sizeof id);
  switch (id) {
    case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
      return "refused: the broker does not know this sensor's key";
    case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
    case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
      return "the handshake with the broker failed: check --server-key (and whether its bus is "
             "authenticated: ingest.zmq.curve)";
    default:
      return "";
  }
}
}  // namespace

SendOutcome send_incident(const std::string& endpoint, const std::string& json_body,
                          std::chrono::milliseconds timeout, const SensorCredentials* credentials) {
  zmq::context_t context(1);
  zmq::socket_t socket(context, zmq::socket_type::dealer);
  socket.set(zmq::sockopt::linger, 0);
  if (credentials) {
    auto public_key = curve_public_key(credentials->secret_key);
    if (!public_key || !is_curve_key(credentials->server_key))
      return {64, "the secret key and the server key must be CURVE keys (40 Z85 characters)"};
    socket.set(zmq::sockopt::curve_serverkey, credentials->server_key);
    socket.set(zmq::sockopt::curve_publickey, *public_key);
    socket.set(zmq::sockopt::curve_secretkey, credentials->secret_key);
  }
  // The handshake's failures, so a refused key says so instead of timing out in silence.
  const std::string monitor_endpoint = "inproc://send-monitor";
  if (zmq_socket_monitor(socket.handle(), monitor_endpoint.c_str(),
                         ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                             ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) != 0)
    return {2, "cannot monitor the socket: " + std::string(zmq_strerror(zmq_errno()))};
  zmq::socket_t monitor(context, zmq::socket_type::pair);
  monitor.set(zmq::sockopt::linger, 0);
  monitor.connect(monitor_endpoint);
  socket.connect(endpoint);
  UlidGenerator ids;
  std::string request_id = ids.next();
  socket.send(zmq::buffer(request_id), zmq::send_flags::sndmore);
  socket.send(zmq::buffer(json_body), zmq::send_flags::none);

  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::vector<std::string> frames;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      return {2,
              "no reply from " + endpoint + " within " + std::to_string(timeout.count()) + " ms"};
    std::array<zmq::pollitem_t, 2> items{zmq::pollitem_t{socket.handle(), 0, ZMQ_POLLIN, 0},
                                         zmq::pollitem_t{monitor.handle(), 0, ZMQ_POLLIN, 0}};
    zmq::poll(items.data(), items.size(), left);
    if (items[1].revents & ZMQ_POLLIN) {
      if (auto why = handshake_failure(monitor); !why.empty()) return {1, why};
    }
    if (!(items[0].revents & ZMQ_POLLIN)) continue;
    frames.clear();
    zmq::message_t m;
    if (!socket.recv(m, zmq::recv_flags::dontwait)) continue;
    frames.push_back(m.to_string());
    while (m.more()) {
      if (!socket.recv(m)) break;
      frames.push_back(m.to_string());
    }
    if (!frames.empty() && frames[0] == request_id) break;  // ignore stray replies
  }
  std::string line;
  for (std::size_t i = 1; i < frames.size(); ++i) line += (i > 1 ? " " : "") + frames[i];
  bool ok = frames.size() >= 2 && frames[1] == "ok";
  return {ok ? 0 : 1, line};
}

}  // namespace tocsin
