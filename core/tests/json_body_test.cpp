#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include "core/json_body.hpp"

using namespace tocsin;
namespace json = boost::json;

TEST_CASE("a JSON body is checked the same way wherever it arrives (each error names its field)") {
  struct Case {
    std::string body;
    const char* code;
  };
  std::string deep(40, '[');
  for (const auto& [body, code] : std::vector<Case>{{std::string(100, ' '), "too_large"},
                                                    {"{\"a\":\"caf\xC3\x28\"}", "not_utf8"},
                                                    {"{\"a\":", "not_json"},
                                                    {"{\"a\":" + deep, "too_deep"},
                                                    {"[1, 2]", "wrong_type"}}) {
    INFO(code);
    auto v = json_object_body(body, 64, 32);
    REQUIRE_FALSE(v);
    CHECK(v.error().code == code);
    CHECK(v.error().field == "body");
  }
  CHECK(json_object_body(R"({"a": 1})", 64));
  CHECK_FALSE(require_json("application/json; charset=utf-8"));
  auto wrong = require_json("text/plain");
  REQUIRE(wrong);
  CHECK(wrong->code == "unsupported_media_type");
  CHECK(wrong->field == "Content-Type");
}

TEST_CASE("a field reader names the field and its path") {
  auto v = json::parse(R"({"by": "mgagnon", "note": "a\nb", "notes": {"fr": "Évacuez", "en": ""},
                          "ok": true, "zone": {"id": 3}})");
  FieldReader f(v.as_object());
  std::string by, note;
  CHECK_FALSE(f.text("by", true, 128, by));
  CHECK(by == "mgagnon");
  CHECK_FALSE(f.text("note", false, 2048, note, true));
  auto newline = f.text("note", false, 2048, note);
  REQUIRE(newline);
  CHECK(newline->message == "note: contains control characters");
  auto unknown = f.only({"by", "note"});
  REQUIRE(unknown);
  CHECK(unknown->code == "unknown_field");
  CHECK(unknown->field == "notes");
  std::map<std::string, std::string> notes;
  auto empty_en = f.by_language("notes", {"fr", "en"}, 2048, notes);
  REQUIRE(empty_en);
  CHECK(empty_en->field == "notes.en");
  auto nested = FieldReader(v.at("zone").as_object(), "zone").text("id", true, 8, by);
  REQUIRE(nested);
  CHECK(nested->message == "zone.id: must be a string");
  bool ok = false;
  CHECK_FALSE(f.boolean("ok", ok));
  CHECK(ok);
  auto not_bool = f.boolean("by", ok);
  REQUIRE(not_bool);
  CHECK(not_bool->code == "wrong_type");
}
