#include "dispatchers/public_lint.hpp"

#include <boost/json.hpp>

#include "channels/registry.hpp"
#include "channels/sms/segments.hpp"
#include "core/json_body.hpp"

namespace tocsin::dispatchers {

namespace json = boost::json;

namespace {

using channels::sms::next_code_point;

std::string code_point_name(char32_t cp) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "U+%04X", unsigned(cp));
  return buf;
}

// The first control or invisible character (a line feed is allowed), or nullopt.
std::optional<char32_t> control_character(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    char32_t cp = next_code_point(s, i);
    if ((cp < 0x20 && cp != '\n') || (cp >= 0x7F && cp <= 0x9F) || cp == 0x200B || cp == 0x200C ||
        cp == 0x200D || cp == 0x2060 || cp == 0xFEFF)
      return cp;
  }
  return std::nullopt;
}

std::optional<std::string> typographic_quote(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    std::size_t start = i;
    char32_t cp = next_code_point(s, i);
    if (cp == 0x2018 || cp == 0x2019 || cp == 0x201A || cp == 0x201B || cp == 0x201C ||
        cp == 0x201D || cp == 0x201E || cp == 0x201F || cp == 0x2032 || cp == 0x2033)
      return std::string(s.substr(start, i - start));
  }
  return std::nullopt;
}

std::size_t characters(std::string_view s) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < s.size(); ++n) next_code_point(s, i);
  return n;
}

bool blank(const std::string& s) {
  return s.find_first_not_of(" \t\r\n") == std::string::npos;
}

}  // namespace

std::vector<std::string> lint_public_alert(const PublicDraft& d) {
  std::vector<std::string> out;
  // Times.
  if (!d.expires)
    out.push_back("expires: required for a public alert");
  else if (*d.expires <= d.sent)
    out.push_back("expires: " + format_rfc3339(*d.expires) + " is not after the send time " +
                  format_rfc3339(d.sent));
  if (d.effective && *d.effective < d.sent)
    out.push_back("effective: " + format_rfc3339(*d.effective) + " is before the send time " +
                  format_rfc3339(d.sent));
  if (d.onset && *d.onset < d.sent)
    out.push_back("onset: " + format_rfc3339(*d.onset) + " is before the send time " +
                  format_rfc3339(d.sent));
  // Headline and area.
  if (characters(d.headline) > kMaxHeadline)
    out.push_back("headline: " + std::to_string(characters(d.headline)) +
                  " characters, over the limit of " + std::to_string(kMaxHeadline));
  if (auto c = control_character(d.headline))
    out.push_back("headline: control character " + code_point_name(*c));
  if (d.area.empty())
    out.push_back("area: required for a public alert (a zone, a point or a polygon)");

  for (const auto& e : d.render_errors) out.push_back(e);
  // Bilingual parity and each message's characters.
  for (const auto& [channel, by_language] : d.messages) {
    for (const char* lang : {"fr", "en"})
      if (!by_language.count(lang))
        out.push_back("messages." + channel + "." + lang + ": missing: a public alert goes out " +
                      "in French and English or not at all");
    for (const auto& [lang, m] : by_language) {
      std::string field = "messages." + channel + "." + lang;
      if (blank(m.text)) out.push_back(field + ": empty text");
      const channels::Capabilities& can = channels::capabilities(channel);
      if (can.subject && blank(m.subject)) out.push_back(field + ": empty subject");
      for (const auto* part : {&m.subject, &m.text})
        if (auto c = control_character(*part))
          out.push_back(field + ": control character " + code_point_name(*c));
      if (can.segments == 0) continue;
      if (auto q = typographic_quote(m.text))
        out.push_back(field + ": typographic quote '" + *q +
                      "' (phones without UCS-2 show it as a box; use ' or \")");
      auto s = channels::sms::count_segments(m.text);
      std::string alphabet = !m.alphabet.empty()         ? m.alphabet
                             : d.alphabet.count(channel) ? d.alphabet.at(channel)
                                                         : std::string("gsm");
      if (alphabet == "gsm" && s.encoding == channels::sms::Encoding::ucs2)
        out.push_back(field + ": '" + s.first_non_gsm +
                      "' is outside the GSM alphabet the template declared");
      if (d.max_segments > 0 && s.segments > std::size_t(d.max_segments))
        out.push_back(field + ": " + std::to_string(s.segments) + " SMS segments, over " +
                      "max_segments " + std::to_string(d.max_segments));
    }
    auto fr = by_language.find("fr"), en = by_language.find("en");
    if (fr != by_language.end() && en != by_language.end() && !blank(fr->second.text) &&
        fr->second.text == en->second.text && fr->second.subject == en->second.subject)
      out.push_back("messages." + channel +
                    ": French and English render to the same text (one language is missing)");
  }
  return out;
}

Result<PublicDraft> public_draft_from_json(const json::value& v) {
  const auto* o = v.if_object();
  if (!o) return Error{"invalid", "the alert must be a JSON object", ""};
  PublicDraft d;
  auto text = [&](const char* key, std::string& out) -> std::optional<Error> {
    if (auto* x = o->if_contains(key)) {
      if (!x->is_string()) return Error{"invalid", std::string(key) + ": must be a string", key};
      out = std::string(x->as_string());
    }
    return std::nullopt;
  };
  auto time = [&](const char* key, std::optional<Timestamp>& out) -> std::optional<Error> {
    std::string s;
    if (auto e = text(key, s)) return e;
    if (s.empty()) return std::nullopt;
    out = parse_rfc3339(s);
    if (!out) return Error{"invalid", std::string(key) + ": not an RFC 3339 time", key};
    return std::nullopt;
  };
  std::string status = "actual";
  if (auto e = text("status", status)) return *e;
  auto st = parse_status(status);
  if (!st)
    return Error{"invalid", "status: one of actual, exercise, test, system, draft", "status"};
  d.status = *st;
  std::optional<Timestamp> sent;
  for (auto [key, slot] : {std::pair{"sent", &sent}, std::pair{"effective", &d.effective},
                           std::pair{"onset", &d.onset}, std::pair{"expires", &d.expires}})
    if (auto e = time(key, *slot)) return *e;
  d.sent = sent.value_or(now());
  if (auto e = text("headline", d.headline)) return *e;
  if (auto* a = o->if_contains("area")) {
    if (!a->is_array()) return Error{"invalid", "area: a list of zone ids", "area"};
    for (const auto& z : a->as_array()) {
      if (!z.is_string()) return Error{"invalid", "area: a list of zone ids", "area"};
      d.area.emplace_back(z.as_string());
    }
  }
  if (auto* m = o->if_contains("max_segments")) {
    if (!m->is_int64()) return Error{"invalid", "max_segments: an integer", "max_segments"};
    d.max_segments = int(m->as_int64());
  }
  if (auto* a = o->if_contains("alphabet")) {
    if (!a->is_object())
      return Error{"invalid", "alphabet: {\"sms\": \"gsm\"|\"ucs2\"}", "alphabet"};
    for (const auto& [k, x] : a->as_object()) {
      if (!x.is_string() || (x.as_string() != "gsm" && x.as_string() != "ucs2"))
        return Error{"invalid", "alphabet." + std::string(k) + ": gsm or ucs2", "alphabet"};
      d.alphabet[std::string(k)] = std::string(x.as_string());
    }
  }
  const auto* messages = o->if_contains("messages");
  if (!messages || !messages->is_object() || messages->as_object().empty())
    return Error{"invalid", "messages: required: {channel: {fr: …, en: …}}", "messages"};
  for (const auto& [channel, langs] : messages->as_object()) {
    std::string field = "messages." + std::string(channel);
    if (!langs.is_object()) return Error{"invalid", field + ": {fr: …, en: …}", field};
    auto& slot = d.messages[std::string(channel)];
    for (const auto& [lang, body] : langs.as_object()) {
      Message msg;
      msg.language = std::string(lang);
      if (body.is_string()) {
        msg.text = std::string(body.as_string());
      } else if (body.is_object() && body.as_object().if_contains("text") &&
                 body.as_object().at("text").is_string()) {
        msg.text = std::string(body.as_object().at("text").as_string());
        if (auto* s = body.as_object().if_contains("subject"); s && s->is_string())
          msg.subject = std::string(s->as_string());
      } else {
        return Error{"invalid", field + "." + std::string(lang) + ": a text or {subject, text}",
                     field};
      }
      if (!is_valid_utf8(msg.text) || !is_valid_utf8(msg.subject))
        return Error{"invalid", field + "." + std::string(lang) + ": not valid UTF-8", field};
      slot[std::string(lang)] = std::move(msg);
    }
  }
  return d;
}

}  // namespace tocsin::dispatchers
