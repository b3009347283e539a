#pragma once
// A server with residents: a key made by `tocsin resident new-key` (readable by its owner only),
// the fake SMS provider as its sms channel, one staff playbook, and the shipped civic addresses.

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include "tests/support/fake_provider.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/tocsin_server.hpp"

namespace tocsin::test {

// A key for residents.key_file in `dir`; its path.
inline std::string residents_key(const TempDir& dir) {
  auto key = run_command({TOCSIN_BINARY, "resident", "new-key"}, std::chrono::seconds(10));
  REQUIRE(key.exit_code == 0);
  const auto path = dir.path() / "residents.key";
  std::ofstream(path) << key.output;
  std::filesystem::permissions(
      path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  return path.string();
}

// Options for a server whose residents sign up on its pages (files in `dir`).
inline ServerOptions residents_server(const FakeProvider& provider, const TempDir& dir) {
  std::ofstream(dir.path() / "page.yaml") << R"(id: page
match: { type: test.* }
steps:
  - notify: { audience: { roles: [duty-officer] }, channels: [sms], template: flood-staff }
)";
  ServerOptions options;
  options.playbooks_dir = dir.path().string();
  options.env = {{"TEST_SMS_TOKEN", provider.token()}};
  options.channels_yaml = provider.sms_yaml();
  options.extra_yaml = "residents:\n  key_file: " + residents_key(dir) + "\n";
  return options;
}

// config/addresses.csv imported with `tocsin address import`; the command's output.
inline std::string import_shipped_addresses(const TocsinServer& server) {
  auto r = run_command({TOCSIN_BINARY, "address", "import", "--config", server.config_file(),
                        std::string(TOCSIN_SOURCE_DIR) + "/config/addresses.csv"},
                       std::chrono::seconds(30));
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  return r.output;
}

}  // namespace tocsin::test
