#pragma once
// How many connections the HTTP server holds: at most `total`, and at most `per_address` from one
// address (an HTTP keep-alive connection and a WebSocket alike, for as long as it is open). One
// client cannot take every connection, and the server cannot be made to hold more sockets than
// its file descriptors allow. Thread-safe: the listener takes slots, sessions on any thread give
// them back.

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace tocsin {

class ConnectionBudget {
 public:
  struct Limits {
    std::size_t total = 8192;
    std::size_t per_address = 1024;
  };
  enum class Over { none, total, address };

  // A connection's place; given back when the last copy goes (a session that became a
  // WebSocket passes it on).
  using Slot = std::shared_ptr<void>;

  ConnectionBudget() = default;
  explicit ConnectionBudget(Limits limits) : limits_(limits) {}
  void limits(Limits l) {
    std::lock_guard lock(mutex_);
    limits_ = l;
  }
  Limits limits() const {
    std::lock_guard lock(mutex_);
    return limits_;
  }

  // A slot for a connection from `address`, or null and why not.
  Slot take(const std::string& address, Over& over) {
    std::lock_guard lock(mutex_);
    over = total_ >= limits_.total                       ? Over::total
           : by_address_[address] >= limits_.per_address ? Over::address
                                                         : Over::none;
    if (over != Over::none) {
      if (by_address_[address] == 0) by_address_.erase(address);
      return nullptr;
    }
    ++total_;
    ++by_address_[address];
    return Slot(this, [address](ConnectionBudget* b) { b->give_back(address); });
  }

  std::size_t open() const {
    std::lock_guard lock(mutex_);
    return total_;
  }
  std::size_t open_from(const std::string& address) const {
    std::lock_guard lock(mutex_);
    auto it = by_address_.find(address);
    return it == by_address_.end() ? 0 : it->second;
  }

 private:
  void give_back(const std::string& address) {
    std::lock_guard lock(mutex_);
    --total_;
    if (auto it = by_address_.find(address); it != by_address_.end() && --it->second == 0)
      by_address_.erase(it);
  }

  mutable std::mutex mutex_;
  Limits limits_;
  std::size_t total_ = 0;
  std::unordered_map<std::string, std::size_t> by_address_;  // addresses with a connection only
};

}  // namespace tocsin
