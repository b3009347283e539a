#include "broker/residents/csv.hpp"

namespace tocsin {

Result<std::vector<CsvRecord>> read_csv(std::string_view text, std::size_t max_field,
                                        std::size_t max_records) {
  std::vector<CsvRecord> out;
  std::size_t line = 1, i = 0;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") i = 3;  // a spreadsheet's byte order mark
  while (i < text.size()) {
    CsvRecord record;
    record.line = line;
    std::string field;
    bool quoted = false, was_quoted = false, end = false;
    while (!end) {
      if (i >= text.size()) {
        if (quoted)
          return Error{"invalid", "line " + std::to_string(record.line) + ": a quote is not closed",
                       "csv"};
        end = true;
        break;
      }
      const char c = text[i++];
      if (quoted) {
        if (c == '"') {
          if (i < text.size() && text[i] == '"') {
            field += '"';
            ++i;
          } else {
            quoted = false;
          }
        } else {
          if (c == '\n') ++line;
          field += c;
        }
      } else if (c == '"' && field.empty() && !was_quoted) {
        quoted = was_quoted = true;
      } else if (c == ',') {
        record.fields.push_back(std::move(field));
        field.clear();
        was_quoted = false;
      } else if (c == '\n' || c == '\r') {
        if (c == '\r' && i < text.size() && text[i] == '\n') ++i;
        ++line;
        end = true;
      } else {
        field += c;
      }
      if (field.size() > max_field)
        return Error{"too_large",
                     "line " + std::to_string(record.line) + ": a field is longer than " +
                         std::to_string(max_field) + " bytes",
                     "csv"};
    }
    record.fields.push_back(std::move(field));
    if (record.fields.size() == 1 && record.fields[0].empty()) continue;  // a blank line
    if (out.size() == max_records)
      return Error{"too_large", "more than " + std::to_string(max_records) + " records", "csv"};
    out.push_back(std::move(record));
  }
  return out;
}

}  // namespace tocsin
