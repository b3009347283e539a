// One-tap links: a staff page by SMS or e-mail carries a signed, expiring link; opening it (GET)
// acknowledges nothing, the tap (POST) acknowledges as the person it was sent to, once; an altered
// or expired link is refused.

#include <catch2/catch.hpp>

#include <ctime>
#include <fstream>

#include <boost/json.hpp>

#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/tocsin_server.hpp"
#include "tests/support/wait.hpp"

using namespace tocsin::test;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

const std::string kOrigin = "https://alertes.ville.example";

// The text of the first outbox line of `channel` sent to `to` for incident `id`.
std::string text_to(const TocsinServer& server, const std::string& channel, const std::string& to,
                    const std::string& id) {
  for (const auto& line : server.outbox(channel)) {
    auto v = json::parse(line);
    const auto& o = v.as_object();
    if (o.at("incident").as_string() == id && o.at("to").as_string() == to)
      return std::string(o.at("text").as_string());
  }
  return "";
}

// The link's path (/a/TOKEN) in a text, or "".
std::string link_in(const std::string& text) {
  auto at = text.find(kOrigin + "/a/");
  if (at == std::string::npos) return "";
  auto end = text.find_first_of(" \n", at);
  return text.substr(at + kOrigin.size(),
                     end == std::string::npos ? end : end - at - kOrigin.size());
}

std::optional<HttpResponse> tap(const TocsinServer& server, const std::string& method,
                                const std::string& path) {
  return http_request(server.http_port(), method, path, "", "application/x-www-form-urlencoded");
}

}  // namespace

TEST_CASE("a one-tap link shows on GET and acknowledges on POST, as its person, once",
          "[oncall][links]") {
  TempDir dir;
  std::filesystem::create_directories(dir.path() / "playbooks");
  std::ofstream(dir.path() / "playbooks" / "page.yaml") << R"(id: page
match:
  type: test.*
steps:
  - notify: { audience: { people: [mgagnon, swilliams] }, channels: [sms, email], template: flood-staff }
  - wait: { for: 1h, until: acknowledged }
  - when: not_acknowledged
    notify: { audience: { groups: [eoc-managers] }, channels: [sms], template: flood-staff-escalation }
)";
  ServerOptions options;
  options.playbooks_dir = (dir.path() / "playbooks").string();
  options.http_yaml = "  public_origin: " + kOrigin + "\n";
  TocsinServer server(options);
  server.start();
  auto made =
      server.post("/api/v1/incidents",
                  R"({"source":"tests","type":"test.page","severity":"severe",)"
                  R"("headline":"Water main <b>break</b>","location":{"zone":"riverside"}})");
  REQUIRE(made);
  REQUIRE(made->status == 201);
  auto created = json::parse(made->body);
  const std::string id(created.at("id").as_string());

  // Marie (fr) by SMS and e-mail, Sarah (en) by SMS: each page with its own link.
  REQUIRE(wait_until([&] { return !text_to(server, "sms", "+15145550103", id).empty(); }, 15s));
  REQUIRE(wait_until(
      [&] { return !text_to(server, "email", "marie.gagnon@ville.example", id).empty(); }, 15s));
  const std::string marie_sms = text_to(server, "sms", "+15145550101", id);
  INFO(marie_sms);
  CHECK(marie_sms.find("\nConfirmer : " + kOrigin + "/a/") != std::string::npos);
  const std::string marie = link_in(marie_sms);
  REQUIRE(!marie.empty());
  const std::string mail = text_to(server, "email", "marie.gagnon@ville.example", id);
  CHECK(mail.find("Accuser réception en un geste : " + kOrigin + "/a/") != std::string::npos);
  CHECK(link_in(mail) != marie);  // another delivery, another link
  const std::string sarah = link_in(text_to(server, "sms", "+15145550103", id));
  REQUIRE(!sarah.empty());
  CHECK(text_to(server, "sms", "+15145550103", id).find("\nAcknowledge: ") != std::string::npos);

  // Opening it (twice, as a link scanner and then the person) shows and changes nothing.
  for (int i = 0; i < 2; ++i) {
    auto shown = tap(server, "GET", marie);
    REQUIRE(shown);
    CHECK(shown->status == 200);
    CHECK(shown->headers["content-type"] == "text/html; charset=utf-8");
    CHECK(shown->headers["cache-control"] == "no-store");
    CHECK(shown->headers["x-frame-options"] == "DENY");
    CHECK(shown->body.find("Marie Gagnon") != std::string::npos);
    CHECK(shown->body.find("<form method=\"post\">") != std::string::npos);
    CHECK(shown->body.find("Water main &lt;b&gt;break&lt;/b&gt;") != std::string::npos);
    CHECK(shown->body.find("<b>break</b>") == std::string::npos);
  }
  auto incident = server.get("/api/v1/incidents/" + id);
  REQUIRE(incident);
  auto before = json::parse(incident->body);
  CHECK_FALSE(before.as_object().contains("acknowledged_at"));

  // Altered: refused, and nothing happens.
  std::string altered = marie;
  altered.back() = altered.back() == 'A' ? 'B' : 'A';
  auto refused = tap(server, "POST", altered);
  REQUIRE(refused);
  CHECK(refused->status == 404);
  auto other =
      tap(server, "POST", marie.substr(0, marie.find('.')) + sarah.substr(sarah.find('.')));
  REQUIRE(other);
  CHECK(other->status == 404);

  // The tap: acknowledged as Marie, the escalation stopped, audited as her.
  auto done = tap(server, "POST", marie);
  REQUIRE(done);
  CHECK(done->status == 200);
  CHECK(done->body.find("Réception accusée") != std::string::npos);
  auto after_r = server.get("/api/v1/incidents/" + id);
  REQUIRE(after_r);
  auto after = json::parse(after_r->body);
  CHECK(after.at("acknowledged_by") == "mgagnon");
  REQUIRE(wait_until(
      [&] {
        return query_integer(server.database(),
                             "SELECT count(*) FROM playbook_runs WHERE incident_id = '" + id +
                                 "' AND status = 'completed'") == 1;
      },
      15s));
  CHECK(query_integer(server.database(),
                      "SELECT count(*) FROM audit WHERE action = 'incident.ack' AND actor = "
                      "'mgagnon' AND detail LIKE '%one-tap link (sms)%'") == 1);
  CHECK(query_integer(server.database(),
                      "SELECT count(*) FROM alerts WHERE incident_id = '" + id + "'") == 1);

  // Once: Marie's again, and Sarah's (in English), say it is done.
  auto again = tap(server, "POST", marie);
  REQUIRE(again);
  CHECK(again->body.find("Réception déjà accusée") != std::string::npos);
  auto sarahs = tap(server, "GET", sarah);
  REQUIRE(sarahs);
  CHECK(sarahs->body.find("Already acknowledged") != std::string::npos);
  CHECK(query_integer(server.database(),
                      "SELECT count(*) FROM audit WHERE action = 'incident.ack'") == 1);

  // Expired: a link signed with the server's own key (data_dir/links.key, here by Python's
  // hmac) whose time has passed is refused with 410; the same, in date, is accepted.
  std::ifstream key_file(std::filesystem::path(server.data_dir()) / "links.key");
  std::string key;
  std::getline(key_file, key);
  REQUIRE(key.size() == 64);
  const std::string delivery = marie.substr(3, marie.find('.') - 3);
  auto sign = [&](long long minutes) {
    auto r = run_command(
        {"/usr/bin/python3", "-c",
         "import hmac,hashlib,base64,sys;k,s=sys.argv[1],sys.argv[2];"
         "m=hmac.new(k.encode(),b'tocsin one-tap ack\\n'+s.encode(),hashlib.sha256).digest()[:12];"
         "print('/a/'+s+'.'+base64.urlsafe_b64encode(m).decode().rstrip('='))",
         key, delivery + "." + std::to_string(minutes)},
        10s);
    REQUIRE(r.exit_code == 0);
    return r.output.substr(0, r.output.find('\n'));
  };
  const long long now_minutes = std::time(nullptr) / 60;
  auto expired = tap(server, "GET", sign(now_minutes - 1));
  REQUIRE(expired);
  CHECK(expired->status == 410);
  auto fresh = tap(server, "GET", sign(now_minutes + 60));
  REQUIRE(fresh);
  CHECK(fresh->status == 200);
}

TEST_CASE("without http.public_origin no page carries a link, and /a/ knows none",
          "[oncall][links]") {
  ServerOptions options;
  options.playbooks_dir = TOCSIN_SOURCE_DIR "/config/playbooks";
  TocsinServer server(options);
  server.start();
  auto r = http_request(server.http_port(), "GET", "/a/01ARZ3NDEKTSV4RRFFQ69G5FAV.1.AAAA");
  REQUIRE(r);
  CHECK(r->status == 404);
  CHECK(!std::filesystem::exists(std::filesystem::path(server.data_dir()) / "links.key"));
}
