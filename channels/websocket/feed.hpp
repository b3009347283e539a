#pragma once
// The live feed the WebSocket channels publish to: the residents' public page (/ws/public) and
// the coordinators' consoles (/ws/console). The broker's WebSocket server implements it; a
// channel knows only this.

#include <cstddef>
#include <memory>
#include <string>

namespace tocsin::channels {

class Feed {
 public:
  virtual ~Feed() = default;
  // To every public-page session reading `language`, and to every console; never blocks (a slow
  // session is dropped, not waited for). Returns how many sessions it was queued for.
  virtual std::size_t publish(const std::string& language,
                              std::shared_ptr<const std::string> message) = 0;
  // To every console session of one person. Returns how many.
  virtual std::size_t to_person(const std::string& person,
                                std::shared_ptr<const std::string> message) = 0;
};

}  // namespace tocsin::channels
