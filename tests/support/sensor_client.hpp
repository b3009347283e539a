#pragma once
// A sensor as the broker sees one: a real ZeroMQ DEALER socket, pipelining requests.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <zmq.hpp>

namespace tocsin::test {

class SensorClient {
 public:
  explicit SensorClient(const std::string& endpoint) : socket_(context_, zmq::socket_type::dealer) {
    socket_.set(zmq::sockopt::linger, 0);
    socket_.set(zmq::sockopt::sndhwm, 0);
    socket_.set(zmq::sockopt::rcvhwm, 0);
    socket_.connect(endpoint);
  }

  void send(const std::vector<std::string>& frames) {
    for (std::size_t i = 0; i < frames.size(); ++i)
      socket_.send(zmq::buffer(frames[i]),
                   i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
  }
  void send(const std::string& request_id, const std::string& body) { send({request_id, body}); }

  // The next reply's frames, or nullopt if none arrives within the timeout.
  std::optional<std::vector<std::string>> receive(std::chrono::milliseconds timeout) {
    zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, timeout) == 0) return std::nullopt;
    std::vector<std::string> frames;
    zmq::message_t m;
    do {
      if (!socket_.recv(m)) return std::nullopt;
      frames.push_back(m.to_string());
    } while (m.more());
    return frames;
  }

  // Sends one request and waits for its reply.
  std::optional<std::vector<std::string>> request(
      const std::string& request_id, const std::string& body,
      std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    send(request_id, body);
    return receive(timeout);
  }

 private:
  zmq::context_t context_{1};
  zmq::socket_t socket_;
};

// Sends a report that must be accepted; its incident id.
inline std::string accepted_id(SensorClient& client, const std::string& body) {
  auto r = client.request("r", body);
  REQUIRE(r);
  REQUIRE(r->size() == 4);
  REQUIRE((*r)[1] == "ok");
  return (*r)[2];
}

// {"source": source, "type": "test.event", "severity": "minor", …} with a unique dedup key.
inline std::string incident_json(const std::string& source, const std::string& dedup_key,
                                 const std::string& severity = "minor") {
  return R"({"source":")" + source + R"(","type":"test.event","severity":")" + severity +
         R"(","location":{"zone":"riverside"},"attributes":{"n":1},"dedup_key":")" + dedup_key +
         R"("})";
}

}  // namespace tocsin::test
