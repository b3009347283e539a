#pragma once
// The resident registry from the command line, on the server's database beside it: the key
// that seals residents' contacts, an existing opt-in list migrated (audited as one row with its
// count and reason, never a contact), and counts (never lists: no command prints a contact).

#include <iosfwd>
#include <string>

#include "broker/settings/config.hpp"

namespace tocsin {

// A new key for residents.key_file, printed.
int resident_new_key(std::ostream& out);
// CSV with a header naming its columns: phone, email, language, lat, lon, categories (separated
// by spaces or ';'), label. Every row is checked first: one bad row (named by its line and
// column) and nothing is stored.
int resident_import(const Config& config, const std::string& file, const std::string& reason,
                    std::ostream& out, std::ostream& err);
// The city's civic address file (CSV: id, number, street, municipality, postal_code, lat, lon),
// replacing the one before, in one transaction; audited with its count.
int address_import(const Config& config, const std::string& file, std::ostream& out,
                   std::ostream& err);
// Residents who can be reached, in all or in one zone.
int resident_count(const Config& config, const std::string& zone, std::ostream& out,
                   std::ostream& err);

}  // namespace tocsin
