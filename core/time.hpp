#pragma once
// Wall-clock instants at millisecond precision and their RFC 3339 text form.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tocsin {

using Timestamp = std::chrono::sys_time<std::chrono::milliseconds>;

Timestamp now();
std::int64_t to_unix_ms(Timestamp t);
Timestamp from_unix_ms(std::int64_t ms);

// "2026-11-22T18:47:55.123Z" (always UTC, always milliseconds).
std::string format_rfc3339(Timestamp t);

// Accepts RFC 3339 date-times: "Z" or a numeric offset, optional fractional seconds.
std::optional<Timestamp> parse_rfc3339(std::string_view text);

}  // namespace tocsin
