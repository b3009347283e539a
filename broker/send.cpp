#include "broker/send.hpp"

#include <vector>

#include <zmq.hpp>

#include "core/ulid.hpp"

namespace tocsin {

SendOutcome send_incident(const std::string& endpoint, const std::string& json_body,
                          std::chrono::milliseconds timeout) {
  zmq::context_t context(1);
  zmq::socket_t socket(context, zmq::socket_type::dealer);
  socket.set(zmq::sockopt::linger, 0);
  socket.set(zmq::sockopt::rcvtimeo, int(timeout.count()));
  socket.connect(endpoint);
  UlidGenerator ids;
  std::string request_id = ids.next();
  socket.send(zmq::buffer(request_id), zmq::send_flags::sndmore);
  socket.send(zmq::buffer(json_body), zmq::send_flags::none);

  std::vector<std::string> frames;
  for (;;) {
    frames.clear();
    zmq::message_t m;
    if (!socket.recv(m))
      return {2,
              "no reply from " + endpoint + " within " + std::to_string(timeout.count()) + " ms"};
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
