// A playbook file: YAML → a validated playbook, or every error with its line and column.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "playbooks/parser.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tocsin::playbooks;
  if (size > kMaxPlaybookBytes) return 0;
  static const Catalog catalog = [] {
    Catalog c;
    c.channels = {"sms", "email", "console", "websocket", "cap", "siren", "webhook"};
    c.templates = {"flood-staff", "flood-public", "public-cancel"};
    c.roles = {"duty-officer", "approver"};
    c.groups = {"eoc-managers"};
    c.people = {"mgagnon", "swilliams"};
    return c;
  }();
  auto set =
      parse_playbook(std::string(reinterpret_cast<const char*>(data), size), "fuzz.yaml", catalog);
  if (set.ok() && set.playbooks.size() != 1) std::abort();  // ok: the one playbook of the text
  for (const auto& e : set.errors)
    if (e.rfind("fuzz.yaml", 0) != 0) std::abort();  // every error names its file
  return 0;
}
