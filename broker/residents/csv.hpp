#pragma once
// Comma-separated values as municipal open data and mailing-list exports write them (RFC 4180:
// quoted fields, "" inside quotes, CRLF or LF), with the line each record starts on for errors.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace tocsin {

struct CsvRecord {
  std::size_t line = 0;  // 1-based, where it starts
  std::vector<std::string> fields;
};

// Every record, or an error naming the line: a quote left open, a field longer than
// `max_field`, more than `max_records`.
Result<std::vector<CsvRecord>> read_csv(std::string_view text, std::size_t max_field = 1024,
                                        std::size_t max_records = 2'000'000);

}  // namespace tocsin
