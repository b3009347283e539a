#pragma once
// How often an SMS sender who is not understood gets a help reply (broker/api/inbound_sms.cpp).

#include <map>
#include <mutex>
#include <string>

#include "broker/api/api.hpp"
#include "core/time.hpp"

namespace tocsin {

// Help replies per sender: one every 5 minutes, none after 5 errors within an hour.
struct Api::ReplyLimits {
  struct Sender {
    Timestamp last_help{};
    Timestamp window{};
    int errors = 0;
  };
  std::mutex mutex;
  std::map<std::string, Sender> senders;

  bool may_help(const std::string& from, Timestamp t) {
    std::lock_guard lock(mutex);
    if (senders.size() > 10000) senders.clear();  // a flood of numbers: start over, silently
    Sender& s = senders[from];
    if (t - s.window > std::chrono::hours(1)) s = Sender{{}, t, 0};
    if (++s.errors > 5) return false;
    if (s.last_help != Timestamp{} && t - s.last_help < std::chrono::minutes(5)) return false;
    s.last_help = t;
    return true;
  }
};

}  // namespace tocsin
