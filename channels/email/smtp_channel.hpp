#pragma once
// Email over SMTP with libcurl (STARTTLS, authentication): a multipart/alternative message with
// the text and, when the template has one, the HTML part; Content-Language; a Message-ID made
// from the delivery id (a repeat of a delivery is the same message); List-Unsubscribe on public
// alerts. SMTP 4xx and connection failures are retried; 5xx (no such mailbox…) are not.

#include <chrono>
#include <optional>
#include <string>

#include "channels/channel.hpp"
#include "channels/registry.hpp"

namespace tocsin::channels {

struct SmtpOptions {
  std::string url;  // smtp://host:port (STARTTLS per `starttls`) or smtps://host:port
  std::string from;
  std::string starttls = "required";  // required | optional | off
  std::string username;
  std::optional<std::string> password;
  std::string ca_file;
  std::string unsubscribe_url;
  std::chrono::seconds timeout{20};
};

class SmtpChannel : public Channel {
 public:
  explicit SmtpChannel(SmtpOptions options);

  // Channel
  SendResult send(const SendRequest& request) override;

 private:
  SmtpOptions options_;
};

// tocsin.yaml `channels.email` with `provider: smtp`: url, from, starttls, username,
// password_env, ca_file, unsubscribe_url, timeout.
std::unique_ptr<ProviderSettings> read_smtp_settings(YamlReader& reader, const YAML::Node& node,
                                                     const SettingsScope& scope);

// The whole message (RFC 5322 headers and MIME body) as it goes on the wire.
std::string compose_email(const SmtpOptions& options, const SendRequest& request);

}  // namespace tocsin::channels
