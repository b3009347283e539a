// The CSV reader of `tocsin resident import` on any bytes: it never fails but with an error that
// names a line, and whatever it reads, written back with every field quoted, reads the same.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "broker/residents/csv.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto records = tocsin::read_csv(text, 256, 1000);
  if (!records) {
    if (records.error().field != "csv") std::abort();
    return 0;
  }
  std::string again;
  for (const auto& r : *records) {
    for (std::size_t i = 0; i < r.fields.size(); ++i) {
      again += i ? ",\"" : "\"";
      for (char c : r.fields[i]) again += c == '"' ? std::string("\"\"") : std::string(1, c);
      again += '"';
    }
    again += "\n";
  }
  auto reread = tocsin::read_csv(again, 256 * 2 + 2, 1000);
  if (!reread || reread->size() != records->size()) std::abort();
  for (std::size_t k = 0; k < records->size(); ++k)
    if ((*reread)[k].fields != (*records)[k].fields) std::abort();
  return 0;
}
