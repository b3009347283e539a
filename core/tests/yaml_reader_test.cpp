#include <catch2/catch.hpp>

#include "core/yaml_reader.hpp"

using namespace tocsin;

namespace {

std::vector<std::string> errors_of(const std::string& text) {
  YamlReader reader("f.yaml");
  auto root = load_yaml_text(text, reader);
  if (root) CHECK(reader.errors().empty());
  return reader.take();
}

}  // namespace

// Inputs found by tests/fuzz/playbook on which yaml-cpp 0.7 never returned (its memory growing):
// documents whose root is not a block mapping (an anchor, a tag, a flow entry, a quoted scalar
// and a comma). Every document not starting with a key is refused before yaml-cpp reads it.
TEST_CASE("a document that does not start with a key is refused at once") {
  for (const char* text :
       {"&a\n ,", "&a: [b]\n,", "!t\n ,", "!!str\n ,", "&a [x] ,", "--- &a ,",
        "# note\n\n&hannels: [sms, email]\n   ,,,,\n", ",d: x", ",", "\"+\"\"\",\"&\"hh o",
        "- a\n- b", "just words", "id: x\n---\n  &a ,", "id: x\n...\n!t ,"}) {
    INFO(text);
    auto e = errors_of(text);
    REQUIRE(e.size() == 1);
    CHECK(e[0].find("the document: must be a mapping") != std::string::npos);
  }
  auto at = errors_of("%YAML 1.2\n---\n\n   &a ,");
  REQUIRE(at.size() == 1);
  CHECK(at[0].rfind("f.yaml:4:4: ", 0) == 0);
  auto bytes = errors_of("id: x\nsteps: \xff\xff\n");  // not UTF-8
  REQUIRE(bytes.size() == 1);
  CHECK(bytes[0] == "f.yaml: is not UTF-8 text (save it as UTF-8)");
}

TEST_CASE("keys of every kind start a file, anchors and tags below are yaml-cpp's to read") {
  CHECK(errors_of("id: x\nsteps: !!seq [a]\n").empty());
  CHECK(errors_of("key: &a value\n").empty());
  CHECK(errors_of("# comment\n\"quoted key\": 1\n'single ''q''': 2\nurl: http://x # c\n").empty());
  CHECK(errors_of("---\nid: x\n").empty());
  CHECK(errors_of("a:b: c\n").empty());
  auto alias = errors_of("a: &x 1\nb: *x\n");
  REQUIRE(alias.size() == 1);
  CHECK(alias[0].find("aliases (*name) are not allowed") != std::string::npos);
}

TEST_CASE("text libyaml does not parse never reaches yaml-cpp (which looped on it)") {
  // Minimised by tests/fuzz/schedules: yaml-cpp 0.7 looped forever on it, its memory growing.
  auto loop = errors_of("# On-y]\n  rJ : weeken}\n, d\n");
  REQUIRE(loop.size() == 1);
  CHECK(loop[0].rfind("f.yaml:3:1: ", 0) == 0);
  // Nesting past 64 is refused before yaml-cpp's recursion builds it.
  auto deep = errors_of("a: " + std::string(100, '[') + std::string(100, ']') + "\n");
  REQUIRE(deep.size() == 1);
  CHECK(deep[0].find("nested more than 64 deep") != std::string::npos);
  CHECK(errors_of("a: " + std::string(60, '[') + std::string(60, ']') + "\n").empty());
}
