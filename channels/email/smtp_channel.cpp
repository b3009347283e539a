#include "channels/email/smtp_channel.hpp"

#include <algorithm>
#include <cstring>
#include <ctime>
#include <mutex>

#include <curl/curl.h>

#include "channels/http/http_client.hpp"
#include "core/yaml_reader.hpp"

namespace tocsin::channels {

namespace {

// RFC 2047 encoded-word for a header holding anything but printable ASCII: a line break from a
// sensor's headline can never start a header of its own.
std::string header_text(const std::string& text) {
  bool plain = std::all_of(text.begin(), text.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u < 0x7f;
  });
  if (plain) return text;
  return "=?UTF-8?B?" + base64(text) + "?=";
}

// Base64 body lines of at most 76 characters (RFC 2045).
std::string base64_lines(const std::string& data) {
  std::string b = base64(data), out;
  for (std::size_t i = 0; i < b.size(); i += 76) out += b.substr(i, 76) + "\r\n";
  return out;
}

std::string rfc5322_date(Timestamp t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return buf;
}

// Addresses come from people.yaml; still, no header may be split by a line break.
bool safe_header_value(const std::string& s) {
  return s.find_first_of("\r\n") == std::string::npos;
}

struct Upload {
  const std::string& data;
  std::size_t offset = 0;
};

std::size_t read_upload(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto* u = static_cast<Upload*>(user);
  std::size_t n = std::min(size * count, u->data.size() - u->offset);
  std::memcpy(buffer, u->data.data() + u->offset, n);
  u->offset += n;
  return n;
}

}  // namespace

std::string compose_email(const SmtpOptions& o, const SendRequest& r) {
  const Message& m = r.message;
  std::string boundary = "tocsin-" + r.delivery.id;
  std::string domain = o.from.substr(o.from.find('@') + 1);
  std::string out;
  out += "Date: " + rfc5322_date(now()) + "\r\n";
  out += "From: " + o.from + "\r\n";
  out += "To: " + r.delivery.recipient.address + "\r\n";
  out += "Subject: " + header_text(m.subject) + "\r\n";
  out += "Message-ID: <" + r.delivery.id + "@" + domain + ">\r\n";
  out += "Content-Language: " + m.language + "\r\n";
  out += "Auto-Submitted: auto-generated\r\n";
  // The recipient's own one-click link (a resident's), else the city's page for public alerts.
  const std::string& unsubscribe = !m.unsubscribe.empty() ? m.unsubscribe
                                   : r.alert.is_public    ? o.unsubscribe_url
                                                          : m.unsubscribe;
  if (!unsubscribe.empty() && safe_header_value(unsubscribe)) {
    out += "List-Unsubscribe: <" + unsubscribe + ">\r\n";
    out += "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n";
  }
  out += "MIME-Version: 1.0\r\n";
  auto part = [&](const char* type, const std::string& body) {
    return std::string("Content-Type: ") + type + "; charset=UTF-8\r\n" +
           "Content-Transfer-Encoding: base64\r\n\r\n" + base64_lines(body);
  };
  if (m.html.empty()) {
    out += part("text/plain", m.text);
    return out;
  }
  out += "Content-Type: multipart/alternative; boundary=\"" + boundary + "\"\r\n\r\n";
  out += "--" + boundary + "\r\n" + part("text/plain", m.text);
  out += "--" + boundary + "\r\n" + part("text/html", m.html);
  out += "--" + boundary + "--\r\n";
  return out;
}

SmtpChannel::SmtpChannel(SmtpOptions options) : options_(std::move(options)) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

SendResult SmtpChannel::send(const SendRequest& r) {
  const std::string& to = r.delivery.recipient.address;
  if (!safe_header_value(to) || to.find('@') == std::string::npos)
    return SendResult::permanent("bad_address",
                                 "to: the recipient's address is not an e-mail "
                                 "address");
  std::string message = compose_email(options_, r);
  CURL* curl = curl_easy_init();
  if (!curl) return SendResult::retryable("io", "libcurl could not start");
  Upload upload{message};
  curl_slist* rcpt = curl_slist_append(nullptr, ("<" + to + ">").c_str());
  std::string from = "<" + options_.from + ">";
  char error[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(curl, CURLOPT_URL, options_.url.c_str());
  curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
  curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_upload);
  curl_easy_setopt(curl, CURLOPT_READDATA, &upload);
  curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, long(options_.timeout.count()));
  curl_easy_setopt(curl, CURLOPT_USE_SSL,
                   options_.starttls == "required"   ? CURLUSESSL_ALL
                   : options_.starttls == "optional" ? CURLUSESSL_TRY
                                                     : CURLUSESSL_NONE);
  if (!options_.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, options_.ca_file.c_str());
  if (!options_.username.empty()) {
    curl_easy_setopt(curl, CURLOPT_USERNAME, options_.username.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, options_.password.value_or("").c_str());
  }
  CURLcode rc = curl_easy_perform(curl);
  long smtp_code = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &smtp_code);
  curl_slist_free_all(rcpt);
  curl_easy_cleanup(curl);
  if (rc == CURLE_OK) return SendResult::ok("<" + r.delivery.id + ">");
  std::string detail =
      std::string(curl_easy_strerror(rc)) + (error[0] ? std::string(": ") + error : "");
  if (smtp_code >= 500 && smtp_code < 600)
    return SendResult::permanent("smtp_5xx", "SMTP " + std::to_string(smtp_code) + ": " + detail);
  if (rc == CURLE_OPERATION_TIMEDOUT) return SendResult::retryable("timeout", detail);
  if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CONNECT_ERROR ||
      rc == CURLE_USE_SSL_FAILED)
    return SendResult::retryable("tls", detail);
  if (rc == CURLE_LOGIN_DENIED) return SendResult::retryable("auth", detail);
  if (smtp_code >= 400)
    return SendResult::retryable("smtp_4xx", "SMTP " + std::to_string(smtp_code) + ": " + detail);
  return SendResult::retryable("connect", detail);
}

namespace {

struct SmtpSettings : ProviderSettings {
  SmtpOptions options;
  std::shared_ptr<Channel> build(const Services&) const override {
    return std::make_shared<SmtpChannel>(options);
  }
};

}  // namespace

std::unique_ptr<ProviderSettings> read_smtp_settings(YamlReader& r, const YAML::Node& n,
                                                     const SettingsScope& scope) {
  const std::string& path = scope.path;
  auto out = std::make_unique<SmtpSettings>();
  SmtpOptions& m = out->options;
  if (r.string(n, path, "url", true, m.url) && m.url.rfind("smtp://", 0) != 0 &&
      m.url.rfind("smtps://", 0) != 0)
    r.error(n["url"].Mark(), path + ".url: must start with smtp:// or smtps://");
  r.string(n, path, "from", true, m.from);
  r.choice(n, path, "starttls", m.starttls, {"required", "optional", "off"});
  r.string(n, path, "username", false, m.username);
  r.secret(n, path, "password_env", m.password);
  r.string(n, path, "ca_file", false, m.ca_file);
  r.string(n, path, "unsubscribe_url", false, m.unsubscribe_url);
  r.duration(n, path, "timeout", false, m.timeout, std::chrono::seconds(1),
             std::chrono::seconds(300));
  return out;
}

}  // namespace tocsin::channels
