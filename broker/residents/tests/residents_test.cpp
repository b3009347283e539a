// The resident registry's parts: the seal and the blind index, numbers and addresses checked, the
// CSV reader, and the registry's tables (a resident stored sealed, found by zone and category,
// stopped and started by number).

#include <catch2/catch.hpp>

#include <fstream>
#include <iterator>

#include "broker/residents/contact_checks.hpp"
#include "broker/residents/csv.hpp"
#include "broker/residents/registry.hpp"
#include "broker/residents/sealed_box.hpp"
#include "broker/residents/zone_picture.hpp"
#include "broker/storage/audit.hpp"
#include "broker/storage/sqlite.hpp"
#include "tests/support/temp_dir.hpp"

using namespace tocsin;

namespace {

SealedBox box_of(char fill) {
  return SealedBox::from_key_text(std::string(64, fill) + "\n").value();
}

}  // namespace

TEST_CASE("a sealed contact opens only with its key and for its purpose") {
  auto box = box_of('a');
  auto sealed = box.seal("+15145550101", "phone");
  CHECK(sealed.find("5145550101") == std::string::npos);
  CHECK(box.open(sealed, "phone") == "+15145550101");
  CHECK_FALSE(box.open(sealed, "email"));              // sealed for another purpose
  CHECK_FALSE(box_of('b').open(sealed, "phone"));      // another key
  CHECK(box.seal("+15145550101", "phone") != sealed);  // a fresh nonce each time
  auto tampered = sealed;
  tampered[10] = tampered[10] == 'A' ? 'B' : 'A';
  CHECK_FALSE(box.open(tampered, "phone"));
  // The blind index: the same for the same number and key, another for another key or purpose.
  CHECK(box.blind("phone", "+15145550101") == box.blind("phone", "+15145550101"));
  CHECK(box.blind("phone", "+15145550101") != box_of('b').blind("phone", "+15145550101"));
  CHECK(box.blind("phone", "+15145550101") != box.blind("email", "+15145550101"));
  CHECK_FALSE(SealedBox::from_key_text("abc"));
  CHECK_FALSE(SealedBox::from_key_text(std::string(64, 'g')));
  CHECK(SealedBox::from_key_text(SealedBox::new_key_text()));
  CHECK(SealedBox::new_key_text() != SealedBox::new_key_text());
}

TEST_CASE("numbers are read in national formats, from the allowed countries, mobile only") {
  const std::vector<std::string> ca{"CA"};
  CHECK(mobile_number("514 555-0101", ca, "phone").value() == "+15145550101");
  CHECK(mobile_number("(514) 555-0101", ca, "phone").value() == "+15145550101");
  CHECK(mobile_number("+1 514 555 0101", ca, "phone").value() == "+15145550101");
  CHECK(mobile_number("1-514-555-0101", ca, "phone").value() == "+15145550101");
  auto foreign = mobile_number("+33 6 12 34 56 78", ca, "phone");
  REQUIRE_FALSE(foreign);
  CHECK(foreign.error().field == "phone");
  CHECK(foreign.error().message ==
        "a number of FR; this city sends text messages to numbers of CA only");
  auto us = mobile_number("+1 212 555 1234", ca, "phone");
  REQUIRE_FALSE(us);
  CHECK(us.error().message.find("a number of US") == 0);
  CHECK(mobile_number("+1 212 555 1234", {"CA", "US"}, "phone").value() == "+12125551234");
  CHECK_FALSE(mobile_number("514-555-010", ca, "phone"));
  CHECK_FALSE(mobile_number("hello", ca, "phone"));
  CHECK_FALSE(mobile_number("", ca, "phone"));
  CHECK_FALSE(mobile_number(std::string(40, '5'), ca, "phone"));
  auto toll_free = mobile_number("1-800-555-1212", {"CA", "US"}, "phone");
  REQUIRE_FALSE(toll_free);
  CHECK(toll_free.error().message.find("not a mobile number") == 0);
  CHECK(known_country("CA"));
  CHECK_FALSE(known_country("XX"));

  CHECK(email_address("Marie.Tremblay@Exemple.CA", "email").value() == "marie.tremblay@exemple.ca");
  for (const char* bad :
       {"", "marie", "@exemple.ca", "a@b", "a@@b.ca", "a b@c.ca", "a@c.ca.", "<a@c.ca>", "a@.ca"}) {
    INFO(bad);
    CHECK_FALSE(email_address(bad, "email"));
  }
}

TEST_CASE("the CSV reader takes quoted fields and names the line of a problem") {
  auto r = read_csv(
      "\xEF\xBB\xBFphone,label\r\n\"514 555-0101\",\"chez \"\"maman\"\", 2e\"\n\n"
      "514 555-0102,\"deux\nlignes\"\n438 555-0103,");
  REQUIRE(r);
  REQUIRE(r->size() == 4);
  CHECK((*r)[0].fields == std::vector<std::string>{"phone", "label"});
  CHECK((*r)[1].fields == std::vector<std::string>{"514 555-0101", "chez \"maman\", 2e"});
  CHECK((*r)[2].line == 4);
  CHECK((*r)[2].fields[1] == "deux\nlignes");
  CHECK((*r)[3].line == 6);
  CHECK((*r)[3].fields == std::vector<std::string>{"438 555-0103", ""});
  auto open = read_csv("a,b\n1,\"never closed\n");
  REQUIRE_FALSE(open);
  CHECK(open.error().message == "line 2: a quote is not closed");
  auto large = read_csv("a\n" + std::string(2000, 'x'), 1024);
  REQUIRE_FALSE(large);
  CHECK(large.error().message == "line 2: a field is longer than 1024 bytes");
}

namespace {

// A city (a square degree) with a riverside zone in it.
ZoneMap city_and_riverside() {
  return parse_zones(R"({"type":"FeatureCollection","features":[
    {"type":"Feature","properties":{"id":"city"},"geometry":{"type":"Polygon",
     "coordinates":[[[-74,45],[-73,45],[-73,46],[-74,46],[-74,45]]]}},
    {"type":"Feature","properties":{"id":"riverside"},"geometry":{"type":"Polygon",
     "coordinates":[[[-73.7,45.57],[-73.6,45.57],[-73.6,45.6],[-73.7,45.6],[-73.7,45.57]]]}}]})",
                     "zones")
      .value();
}

}  // namespace

TEST_CASE("the registry keeps residents sealed and finds them by zone, category and STOP") {
  test::TempDir dir;
  const auto path = (dir.path() / "tocsin.db").string();
  sqlite::Connection db(path, sqlite::Connection::Mode::read_write);
  sqlite::migrate(db);
  auto key = audit::load_key(dir.path() / "audit.key", true);
  audit::use_key(key.value());
  auto box = std::make_shared<SealedBox>(box_of('c'));
  ZoneMap zones = city_and_riverside();
  auto add = [&](NewResident r, const std::string& id, bool confirmed = true) {
    return residents::add(db, *box, zones, r, confirmed, 5, id, now());
  };
  NewResident riverside{"+15145550101", "", "fr", {"water"}, {{"home", {45.585, -73.65}, ""}}};
  REQUIRE(add(riverside, "R1"));
  NewResident downtown{"+15145550102",
                       "b@exemple.ca",
                       "en",
                       {"weather"},
                       {{"work", {45.505, -73.57}, ""}, {"home", {45.51, -73.571}, ""}}};
  REQUIRE(add(downtown, "R2"));
  NewResident pending{"+15145550103", "", "fr", {}, {{"home", {45.586, -73.651}, ""}}};
  REQUIRE(add(pending, "R3", false));

  // Refusals name the field; nothing of them is stored.
  auto same = add({"+15145550101", "", "fr", {}, {{"home", {45.5, -73.5}, ""}}}, "R4");
  REQUIRE_FALSE(same);
  CHECK(same.error().field == "phone");
  CHECK(same.error().code == "duplicate");
  auto outside = add({"+15145550104", "", "fr", {}, {{"home", {48.0, -70.0}, ""}}}, "R5");
  REQUIRE_FALSE(outside);
  CHECK(outside.error().field == "places[0]");
  CHECK(outside.error().message.find("outside the city") != std::string::npos);
  auto category = add({"+15145550105", "", "fr", {"gossip"}, {{"home", {45.5, -73.5}, ""}}}, "R6");
  REQUIRE_FALSE(category);
  CHECK(category.error().field == "categories");
  std::vector<ResidentPlace> many(6, {"home", {45.5, -73.5}, ""});
  auto too_many = add({"+15145550106", "", "fr", {}, many}, "R7");
  REQUIRE_FALSE(too_many);
  CHECK(too_many.error().field == "places");
  CHECK(residents::count(db) == 2);
  CHECK(residents::count(db, "riverside") == 1);
  CHECK(residents::count(db, "city") == 2);

  // Nothing in the tables is a contact in clear.
  auto dump = db.prepare(
      "SELECT group_concat(sealed || blind, ' ') FROM resident_contacts UNION ALL SELECT "
      "group_concat(sealed, ' ') FROM resident_places");
  while (dump.step()) {
    CHECK(dump.text(0).find("5145550101") == std::string::npos);
    CHECK(dump.text(0).find("exemple.ca") == std::string::npos);
    CHECK(dump.text(0).find("45.585") == std::string::npos);
  }

  ResidentDirectory directory(path, box);
  auto river = directory.in_zones({"riverside"}, "", false);
  REQUIRE(river.size() == 1);  // the unconfirmed one is not reached
  CHECK(river[0].id == "resident:R1");
  CHECK(river[0].phone == "+15145550101");
  CHECK(river[0].language == "fr");
  CHECK(directory.in_zones({"riverside"}, "weather", false).empty());     // chose water only
  CHECK(directory.in_zones({"riverside"}, "weather", true).size() == 1);  // a threat to life
  auto city = directory.in_zones({"city", "riverside"}, "", false);
  REQUIRE(city.size() == 2);  // each once, whatever the zones
  CHECK(city[1].email == "b@exemple.ca");
  CHECK(directory.find("resident:R2")->phone == "+15145550102");
  CHECK_FALSE(directory.find("resident:R3"));
  CHECK_FALSE(directory.find("mgagnon"));

  // STOP from the number: nothing more by SMS, audited as the resident's, without the number.
  CHECK(residents::set_stopped(db, *box, "+15145550101", true, now()) ==
        std::vector<std::string>{"R1"});
  CHECK(residents::set_stopped(db, *box, "+15145550101", true, now()).empty());  // already
  CHECK(residents::set_stopped(db, *box, "+15145559999", true, now()).empty());  // nobody's
  CHECK(directory.in_zones({"riverside"}, "", false).empty());
  CHECK_FALSE(directory.find("resident:R1"));
  auto trail = db.prepare("SELECT actor, action, subject, detail FROM audit");
  REQUIRE(trail.step());
  CHECK(trail.text(0) == "resident");
  CHECK(trail.text(1) == "resident.stop");
  CHECK(trail.text(2) == "R1");
  CHECK(trail.text(3).find("514") == std::string::npos);
  trail.reset();
  CHECK(residents::set_stopped(db, *box, "+15145550101", false, now()) ==
        std::vector<std::string>{"R1"});
  CHECK(directory.in_zones({"riverside"}, "", false).size() == 1);
}

TEST_CASE(
    "a resident's places are added and removed, the zones follow, and unconfirmed sign-ups go") {
  test::TempDir dir;
  const auto path = (dir.path() / "tocsin.db").string();
  sqlite::Connection db(path, sqlite::Connection::Mode::read_write);
  sqlite::migrate(db);
  audit::use_key(audit::load_key(dir.path() / "audit.key", true).value());
  SealedBox box = box_of('d');
  ZoneMap zones = city_and_riverside();
  const Timestamp t0 = now();
  REQUIRE(residents::add(db, box, zones,
                         {"+15145550101", "", "fr", {}, {{"home", {45.2, -73.9}, "1 rue A"}}}, true,
                         2, "R1", t0));
  CHECK(residents::count(db, "riverside") == 0);
  // A second place, in riverside: the resident is in it now; a third is past the limit (2).
  REQUIRE(residents::add_place(db, box, zones, "R1", {"work", {45.585, -73.65}, ""}, 2, t0));
  CHECK(residents::count(db, "riverside") == 1);
  auto third = residents::add_place(db, box, zones, "R1", {"mom", {45.3, -73.8}, ""}, 2, t0);
  REQUIRE_FALSE(third);
  CHECK(third.error().code == "too_large");
  auto outside = residents::add_place(db, box, zones, "R1", {"x", {48.0, -70.0}, ""}, 5, t0);
  REQUIRE_FALSE(outside);
  CHECK(outside.error().code == "outside");
  CHECK_FALSE(residents::add_place(db, box, zones, "nobody", {"x", {45.5, -73.5}, ""}, 5, t0));
  auto held = residents::export_data(db, box, "R1").value();
  REQUIRE(held.at("places").as_array().size() == 2);
  CHECK(held.at("places").at(0).at("address") == "1 rue A");
  // The home removed: only riverside's place is left, and the last one stays.
  REQUIRE(residents::remove_place(db, box, zones, "R1", 0, t0));
  CHECK(residents::count(db, "riverside") == 1);
  CHECK(residents::export_data(db, box, "R1")->at("places").at(0).at("label") == "work");
  auto last = residents::remove_place(db, box, zones, "R1", 0, t0);
  REQUIRE_FALSE(last);
  CHECK(last.error().field == "place");
  REQUIRE(residents::remove_place(db, box, zones, "R1", 5, t0).error().code == "not_found");

  // Retention: a sign-up left unconfirmed for a day is erased, not before; a confirmed one stays.
  REQUIRE(residents::add(db, box, zones,
                         {"+15145550102", "", "fr", {}, {{"home", {45.2, -73.9}, ""}}}, false, 2,
                         "R2", t0));
  CHECK(residents::purge_unconfirmed(db, t0 + std::chrono::hours(23), std::chrono::hours(24)) == 0);
  CHECK(residents::purge_unconfirmed(db, t0 + std::chrono::hours(25), std::chrono::hours(24)) == 1);
  CHECK_FALSE(residents::export_data(db, box, "R2"));
  CHECK(residents::export_data(db, box, "R1"));
  auto trail = db.prepare("SELECT actor, subject FROM audit WHERE action = 'resident.purge'");
  REQUIRE(trail.step());
  CHECK(trail.text(0) == "retention");
  CHECK(trail.text(1) == "R2");
}

TEST_CASE("the zone map's pixels turn into the points they show, and back") {
  ZoneMap zones = parse_zones(R"({"type":"FeatureCollection","features":[
    {"type":"Feature","properties":{"id":"city","name_fr":"Ville","name_en":"City"},
     "geometry":{"type":"Polygon",
     "coordinates":[[[-73.75,45.4],[-73.45,45.4],[-73.45,45.7],[-73.75,45.7],[-73.75,45.4]]]}},
    {"type":"Feature","properties":{"id":"riverside","name_fr":"Berges"},"geometry":{"type":"Polygon",
     "coordinates":[[[-73.7,45.57],[-73.6,45.57],[-73.6,45.6],[-73.7,45.6],[-73.7,45.57]]]}}]})",
                              "zones")
                      .value();
  auto frame = zone_frame(zones, 320).value();
  CHECK(frame.width == 320);
  // 0.3° of longitude at 45.55° N is 0.21° of latitude on the ground: taller than wide.
  CHECK(frame.height > 440);
  CHECK(frame.height < 470);
  GeoPoint river{45.585, -73.65};
  auto back = frame.point_at(frame.x_of(river), frame.y_of(river));
  CHECK(back.lat == Approx(river.lat));
  CHECK(back.lon == Approx(river.lon));
  CHECK(zones.zones_of(Location{std::nullopt, frame.point_at(1, 1), {}}).empty());  // the margin
  auto svg = zone_picture_svg(zones, frame, "fr");
  CHECK(svg.find("<g id=\"zone-riverside\">") > svg.find("<g id=\"zone-city\">"));
  CHECK(svg.find(">Berges</text>") != std::string::npos);
  CHECK(zone_picture_svg(zones, frame, "en").find(">City</text>") != std::string::npos);
  CHECK_FALSE(zone_frame(ZoneMap{}));
}
