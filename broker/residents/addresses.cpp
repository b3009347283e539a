#include "broker/residents/addresses.hpp"

#include <charconv>
#include <cmath>
#include <map>

#include "broker/residents/csv.hpp"

namespace tocsin {

std::string CivicAddress::text() const {
  std::string out = number.empty() ? street : number + " " + street;
  if (!municipality.empty()) out += ", " + municipality;
  if (!postal_code.empty()) out += " " + postal_code;
  return out;
}

namespace {

// The Latin letters with accents French and English addresses use, without them.
const std::map<std::string_view, char> kAccents = {
    {"à", 'a'}, {"â", 'a'}, {"ä", 'a'}, {"á", 'a'}, {"ç", 'c'}, {"é", 'e'}, {"è", 'e'},
    {"ê", 'e'}, {"ë", 'e'}, {"î", 'i'}, {"ï", 'i'}, {"í", 'i'}, {"ô", 'o'}, {"ö", 'o'},
    {"ó", 'o'}, {"ù", 'u'}, {"û", 'u'}, {"ü", 'u'}, {"ú", 'u'}, {"ÿ", 'y'}, {"ñ", 'n'},
    {"À", 'a'}, {"Â", 'a'}, {"Ä", 'a'}, {"Á", 'a'}, {"Ç", 'c'}, {"É", 'e'}, {"È", 'e'},
    {"Ê", 'e'}, {"Ë", 'e'}, {"Î", 'i'}, {"Ï", 'i'}, {"Í", 'i'}, {"Ô", 'o'}, {"Ö", 'o'},
    {"Ó", 'o'}, {"Ù", 'u'}, {"Û", 'u'}, {"Ü", 'u'}, {"Ú", 'u'}, {"Ÿ", 'y'}, {"Ñ", 'n'}};

std::vector<std::string> words_of(std::string_view text) {
  std::string plain;
  for (std::size_t i = 0; i < text.size();) {
    unsigned char c = text[i];
    if (c >= 0x80 && i + 1 < text.size()) {
      auto it = kAccents.find(text.substr(i, 2));
      plain += it != kAccents.end() ? it->second : ' ';
      i += (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
      continue;
    }
    plain += std::isalnum(c) ? char(std::tolower(c)) : ' ';
    ++i;
  }
  std::vector<std::string> words;
  std::size_t at = 0;
  while ((at = plain.find_first_not_of(' ', at)) != std::string::npos) {
    auto end = plain.find(' ', at);
    std::string w = plain.substr(at, end == std::string::npos ? end : end - at);
    if (w == "st") w = "saint";
    if (w == "ste") w = "sainte";
    words.push_back(std::move(w));
    at = end;
  }
  return words;
}

std::optional<double> degrees(const std::string& text, double limit) {
  double v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(v) ||
      std::abs(v) > limit)
    return std::nullopt;
  return v;
}

CivicAddress row_of(const db::Statement& st) {
  CivicAddress a{st.text(0), st.text(1), st.text(2), st.text(3), st.text(4), {}};
  a.point = {degrees(st.text(5), 90).value_or(0), degrees(st.text(6), 180).value_or(0)};
  return a;
}

constexpr const char* kSelect =
    "SELECT id, number, street, municipality, postal_code, lat, lon FROM civic_addresses ";

}  // namespace

std::string address_search_key(std::string_view text) {
  std::string key;
  for (const auto& w : words_of(text)) key += " " + w;
  return key + " ";
}

namespace addresses {

Result<std::size_t> import(db::Connection& db, std::string_view csv, const std::string& file) {
  auto records = read_csv(csv, 256, 5'000'000);
  if (!records) return Error{"invalid", file + ": " + records.error().message, "csv"};
  if (records->empty()) return Error{"invalid", file + ": empty", "csv"};
  const std::vector<std::string> columns{"id",          "number", "street", "municipality",
                                         "postal_code", "lat",    "lon"};
  std::map<std::string, std::size_t> at;
  for (std::size_t i = 0; i < records->front().fields.size(); ++i)
    at[records->front().fields[i]] = i;
  for (const auto& c : columns)
    if (!at.count(c))
      return Error{"invalid", file + ":1: the header has no column '" + c + "'", "csv"};
  db.exec("DELETE FROM civic_addresses");
  auto insert = db.prepare(
      "INSERT INTO civic_addresses (id, number, street, municipality, postal_code, lat, lon, "
      "search) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT DO NOTHING");
  std::size_t count = 0;
  for (std::size_t k = 1; k < records->size(); ++k) {
    const auto& r = (*records)[k];
    auto cell = [&](const std::string& c) {
      return at[c] < r.fields.size() ? r.fields[at[c]] : std::string();
    };
    const std::string where = file + ":" + std::to_string(r.line) + ": ";
    auto lat = degrees(cell("lat"), 90), lon = degrees(cell("lon"), 180);
    if (cell("id").empty() || cell("street").empty())
      return Error{"invalid", where + (cell("id").empty() ? "id" : "street") + ": empty", "csv"};
    if (!lat || !lon)
      return Error{"invalid", where + (lat ? "lon" : "lat") + ": not degrees", "csv"};
    insert.bind(1, cell("id")).bind(2, cell("number")).bind(3, cell("street"));
    insert.bind(4, cell("municipality")).bind(5, cell("postal_code"));
    insert.bind(6, *lat).bind(7, *lon);
    insert.bind(8, address_search_key(cell("number") + " " + cell("street") + " " +
                                      cell("municipality") + " " + cell("postal_code")));
    insert.run();
    count += std::size_t(db.changes());
  }
  return count;
}

std::vector<CivicAddress> search(db::Connection& db, std::string_view query, std::size_t limit) {
  auto words = words_of(query.substr(0, 200));
  if (words.empty()) return {};
  if (words.size() > 8) words.resize(8);
  std::string sql = std::string(kSelect) + "WHERE 1";
  for (std::size_t i = 0; i < words.size(); ++i)
    sql += " AND instr(search, ?" + std::to_string(i + 1) + ") > 0";
  sql += " ORDER BY street, length(number), number LIMIT " + std::to_string(limit);
  auto st = db.prepare(sql);
  for (std::size_t i = 0; i < words.size(); ++i) st.bind(int(i + 1), " " + words[i]);
  std::vector<CivicAddress> out;
  while (st.step()) out.push_back(row_of(st));
  return out;
}

std::optional<CivicAddress> find(db::Connection& db, const std::string& id) {
  auto st = db.prepare(std::string(kSelect) + "WHERE id = ?1");
  st.bind(1, id);
  if (!st.step()) return std::nullopt;
  return row_of(st);
}

}  // namespace addresses

}  // namespace tocsin
