#include "channels/outbox/outbox_channel.hpp"

#include <cerrno>
#include <cstring>

#include <unistd.h>
#include <boost/json.hpp>

#include "core/json_text.hpp"
#include "core/yaml_reader.hpp"

namespace tocsin::channels {

namespace json = boost::json;

OutboxChannel::OutboxChannel(std::string channel, std::filesystem::path file)
    : channel_(std::move(channel)), file_(std::move(file)) {}

OutboxChannel::~OutboxChannel() {
  if (out_) std::fclose(out_);
}

std::vector<Recipient> OutboxChannel::broadcast_recipients(const Alert&) const {
  return {Recipient{"outbox", file_.string(), "fr"}, Recipient{"outbox", file_.string(), "en"}};
}

SendResult OutboxChannel::send(const SendRequest& r) {
  json::object line{{"delivery", r.delivery.id},
                    {"idempotency_key", r.delivery.id},
                    {"alert", r.alert.id},
                    {"incident", r.alert.incident_id},
                    {"channel", channel_},
                    {"to", r.delivery.recipient.address},
                    {"recipient", r.delivery.recipient.id},
                    {"language", r.message.language},
                    {"public", r.alert.is_public},
                    {"at", format_rfc3339(now())}};
  if (!r.message.subject.empty()) line["subject"] = r.message.subject;
  line["text"] = r.message.text;
  if (!r.message.html.empty()) line["html"] = r.message.html;
  std::string text = json_text(line) + "\n";

  std::lock_guard lock(mutex_);
  if (!out_) {
    std::error_code ec;
    std::filesystem::create_directories(file_.parent_path(), ec);
    out_ = std::fopen(file_.c_str(), "a");
    if (!out_) return SendResult::retryable("io", file_.string() + ": " + std::strerror(errno));
  }
  // One write and a flush per line: a reader (tail -f, a test) sees whole lines only.
  if (std::fwrite(text.data(), 1, text.size(), out_) != text.size() || std::fflush(out_) != 0) {
    std::string why = std::strerror(errno);
    std::fclose(out_);
    out_ = nullptr;
    return SendResult::retryable("io", file_.string() + ": " + why);
  }
  return SendResult::ok();
}

namespace {

struct OutboxSettings : ProviderSettings {
  std::string channel;
  std::filesystem::path file;
  std::shared_ptr<Channel> build(const Services&) const override {
    return std::make_shared<OutboxChannel>(channel, file);
  }
};

}  // namespace

std::unique_ptr<ProviderSettings> read_outbox_settings(YamlReader& r, const YAML::Node& n,
                                                       const SettingsScope& scope) {
  auto out = std::make_unique<OutboxSettings>();
  out->channel = scope.channel;
  std::string file;
  if (n.IsMap() && r.string(n, scope.path, "file", false, file))
    out->file = (scope.config_dir / file).lexically_normal();
  else
    out->file = scope.data_dir / "outbox" / (scope.channel + ".jsonl");
  return out;
}

}  // namespace tocsin::channels
