#include "broker/cli/resident_cli.hpp"

#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>

#include <boost/json.hpp>

#include "broker/cli/admin_cli.hpp"
#include "broker/residents/addresses.hpp"
#include "broker/residents/contact_checks.hpp"
#include "broker/residents/csv.hpp"
#include "broker/residents/registry.hpp"
#include "broker/storage/audit.hpp"
#include "core/json_text.hpp"
#include "core/ulid.hpp"
#include "core/zones.hpp"

namespace tocsin {

namespace json = boost::json;

int resident_new_key(std::ostream& out) {
  out << SealedBox::new_key_text() << "\n";
  return 0;
}

namespace {

constexpr std::uintmax_t kMaxFile = 256u << 20;

std::optional<SealedBox> box_of(const Config& config, std::ostream& err) {
  if (!config.residents.enabled || !config.residents.key) {
    err << "refused: residents are not configured (residents: with key_file in "
        << config.source_file << ")\n";
    return std::nullopt;
  }
  return SealedBox::from_key_text(*config.residents.key).value();  // checked with the config
}

std::optional<double> number(const std::string& text) {
  double v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(v))
    return std::nullopt;
  return v;
}

}  // namespace

int resident_import(const Config& config, const std::string& file, const std::string& reason,
                    std::ostream& out, std::ostream& err) {
  auto box = box_of(config, err);
  if (!box) return 1;
  if (reason.empty() || reason.size() > 500) {
    err << "refused: --reason: say why (where the list comes from), in at most 500 characters\n";
    return 64;
  }
  std::error_code ec;
  auto size = std::filesystem::file_size(file, ec);
  if (ec) {
    err << file << ": " << ec.message() << "\n";
    return 1;
  }
  if (size > kMaxFile) {
    err << file << ": larger than " << kMaxFile << " bytes\n";
    return 1;
  }
  std::ifstream in(file, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto records = read_csv(text);
  if (!records) {
    err << file << ": " << records.error().message << "\n";
    return 1;
  }
  if (records->empty()) {
    err << file << ": empty (a header and one row a resident)\n";
    return 1;
  }
  // The header names the columns, in any order.
  std::map<std::string, std::size_t> column;
  const auto& header = records->front();
  for (std::size_t i = 0; i < header.fields.size(); ++i) {
    const std::string& name = header.fields[i];
    static const std::set<std::string> known{"phone", "email",   "language",   "lat",
                                             "lon",   "address", "categories", "label"};
    if (!known.count(name)) {
      err << file << ":1: column '" << name
          << "' is not one of phone, email, language, lat, lon, address, categories, label\n";
      return 1;
    }
    column[name] = i;
  }
  if (!column.count("language")) {
    err << file << ":1: the header has no column 'language'\n";
    return 1;
  }
  // A place is a point (lat, lon) or a civic address's id (tocsin address import).
  if (!column.count("address") && !(column.count("lat") && column.count("lon"))) {
    err << file << ":1: the header has neither 'address' nor 'lat' and 'lon'\n";
    return 1;
  }
  if (!column.count("phone") && !column.count("email")) {
    err << file << ":1: the header has neither 'phone' nor 'email'\n";
    return 1;
  }

  if (!config.playbooks.enabled) {
    err << "refused: a resident's places are found in the city's zones, and " << config.source_file
        << " names none (playbooks.zones)\n";
    return 1;
  }
  auto zones = load_zones(config.playbooks.zones.string());
  if (!zones) {
    err << "refused: the zones do not load: " << zones.error().message << "\n";
    return 1;
  }
  auto db = open_database(config);
  std::vector<std::pair<std::size_t, NewResident>> rows;
  std::vector<std::string> problems;
  for (std::size_t k = 1; k < records->size() && problems.size() < 20; ++k) {
    const auto& rec = (*records)[k];
    auto cell = [&](const char* name) -> std::string {
      auto it = column.find(name);
      return it != column.end() && it->second < rec.fields.size() ? rec.fields[it->second] : "";
    };
    auto problem = [&](const std::string& field, const std::string& message) {
      problems.push_back(file + ":" + std::to_string(rec.line) + ": " + field + ": " + message);
    };
    if (rec.fields.size() != header.fields.size()) {
      problem("row", std::to_string(rec.fields.size()) + " fields, the header has " +
                         std::to_string(header.fields.size()));
      continue;
    }
    NewResident r;
    if (auto phone = cell("phone"); !phone.empty()) {
      auto e164 = mobile_number(phone, config.residents.allowed_countries, "phone");
      if (!e164) {
        problem("phone", e164.error().message);
        continue;
      }
      r.phone = *e164;
    }
    if (auto email = cell("email"); !email.empty()) {
      auto address = email_address(email, "email");
      if (!address) {
        problem("email", address.error().message);
        continue;
      }
      r.email = *address;
    }
    r.language = cell("language");
    r.categories = residents::category_list(cell("categories"));
    const std::string label = cell("label").empty() ? "home" : cell("label");
    if (auto id = cell("address"); !id.empty()) {
      auto civic = addresses::find(*db, id);
      if (!civic) {
        problem("address", "no civic address has this id (tocsin address import)");
        continue;
      }
      r.places.push_back({label, civic->point, civic->text()});
    } else {
      auto lat = number(cell("lat")), lon = number(cell("lon"));
      if (!lat || !lon || std::abs(*lat) > 90 || std::abs(*lon) > 180) {
        problem(!lat || std::abs(*lat) > 90 ? "lat" : "lon",
                "not a latitude and longitude in degrees (or give an address id)");
        continue;
      }
      r.places.push_back({label, {*lat, *lon}, ""});
    }
    rows.emplace_back(rec.line, std::move(r));
  }

  UlidGenerator ids;
  const Timestamp at = now();
  std::size_t added = 0;
  struct Refused {};
  if (problems.empty()) try {
      in_transaction(*db, [&] {
        for (const auto& [line, r] : rows) {
          auto stored = residents::add(*db, *box, zones.value(), r, true,
                                       config.residents.max_places, ids.next(), at);
          if (!stored) {
            problems.push_back(file + ":" + std::to_string(line) + ": " + stored.error().field +
                               ": " + stored.error().message);
            if (problems.size() >= 20) break;
          } else {
            ++added;
          }
        }
        if (!problems.empty()) throw Refused{};
        audit::Appender(*db).append(
            {at, "cli", "resident.import", std::filesystem::path(file).filename().string(),
             json_text(json::object{{"count", added}, {"reason", reason}})});
        return 0;
      });
    } catch (const Refused&) {
      // rolled back: all or nothing
    }
  if (!problems.empty()) {
    for (const auto& p : problems) err << p << "\n";
    err << "refused: nothing imported (fix the rows above and import the file again)\n";
    return 1;
  }
  out << added << " residents imported from " << file << "\n";
  return 0;
}

int address_import(const Config& config, const std::string& file, std::ostream& out,
                   std::ostream& err) {
  std::error_code ec;
  auto size = std::filesystem::file_size(file, ec);
  if (ec || size > kMaxFile) {
    err << file << ": " << (ec ? ec.message() : "larger than 256 MiB") << "\n";
    return 1;
  }
  std::ifstream in(file, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto db = open_database(config);
  auto count = in_transaction(*db, [&]() -> Result<std::size_t> {
    auto n = addresses::import(*db, text, file);
    if (!n) return n;
    audit::Appender(*db).append({now(), "cli", "address.import",
                                 std::filesystem::path(file).filename().string(),
                                 json_text(json::object{{"count", *n}})});
    return n;
  });
  if (!count) {
    err << count.error().message << "\n";
    return 1;
  }
  out << *count << " civic addresses imported from " << file << "\n";
  return 0;
}

int resident_count(const Config& config, const std::string& zone, std::ostream& out,
                   std::ostream& err) {
  if (!config.residents.enabled) {
    err << "refused: residents are not configured (residents: in " << config.source_file << ")\n";
    return 1;
  }
  auto db = open_database(config);
  out << residents::count(*db, zone) << "\n";
  return 0;
}

}  // namespace tocsin
