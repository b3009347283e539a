#pragma once
// `tocsin send`: one incident over ZeroMQ, the reply printed (what a sensor integrator tries
// first).

#include <chrono>
#include <string>

namespace tocsin {

struct SendOutcome {
  int exit_code;       // 0 ok, 1 error reply, 2 no reply in time
  std::string output;  // the reply, one line
};

SendOutcome send_incident(const std::string& endpoint, const std::string& json_body,
                          std::chrono::milliseconds timeout);

}  // namespace tocsin
