// The SMS segment counter on any bytes: GSM-7 or UCS-2, never fewer segments than the text needs.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "channels/sms/segments.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto s = tocsin::channels::sms::count_segments(
      std::string_view(reinterpret_cast<const char*>(data), size));
  if ((size == 0) != (s.segments == 0)) std::abort();
  return 0;
}
