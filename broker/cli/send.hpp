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

// CurveZMQ, when the broker's bus is authenticated: its public key, and this sensor's secret key
// (its public key is derived from it). Both Z85.
struct SensorCredentials {
  std::string server_key, secret_key;
};

SendOutcome send_incident(const std::string& endpoint, const std::string& json_body,
                          std::chrono::milliseconds timeout,
                          const SensorCredentials* credentials = nullptr);

}  // namespace tocsin
