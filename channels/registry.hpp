#pragma once
// Every channel Tocsin carries, with what it can do and the providers that carry it. A provider
// reads its own settings from tocsin.yaml (`channels.NAME`, beside the dispatcher's policy keys)
// and builds its channel. The settings loader, the dispatcher, the lint and the CLI ask this
// registry what a channel can do; none of them decides by a channel's name.

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "channels/channel.hpp"

namespace YAML {
class Node;
}

namespace tocsin {
class YamlReader;
}

namespace tocsin::channels {

class Feed;
struct SirenStatus;

// What a channel can do.
struct Capabilities {
  Addressing addressing = Addressing::broadcast;
  bool rendered = true;  // a delivery carries a message rendered from the alert's templates
  bool subject = false;  // the message has a subject line (the template's first line)
  // Its texts are counted in SMS segments (GSM-7 or UCS-2); this is the default `max_segments`
  // (a longer text fails, never cut). 0: not counted.
  int segments = 0;
  bool sounds = false;  // outdoor sirens: asked for with an alert's `siren`, not in `channels`
};

// Siren controllers as built (the zones each covers, once), then every poll of each of them.
class SirenObserver {
 public:
  virtual ~SirenObserver() = default;
  virtual void controllers(std::map<std::string, std::vector<std::string>> zones_by_controller) = 0;
  virtual void on_status(const SirenStatus& status) = 0;
};

// What the server lends a provider when it builds its channel.
struct Services {
  Feed* feed = nullptr;             // the live feed (consoles, the public page)
  SirenObserver* sirens = nullptr;  // may be null (a tool that builds no siren)
};

// A provider's settings, read and checked; builds its channel.
class ProviderSettings {
 public:
  virtual ~ProviderSettings() = default;
  virtual std::shared_ptr<Channel> build(const Services& services) const = 0;
};

// Where a provider's settings are read from.
struct SettingsScope {
  std::string channel;  // sms, email…
  std::string path;     // channels.sms, for errors
  const Capabilities& can;
  std::filesystem::path data_dir;    // default files go under it
  std::filesystem::path config_dir;  // a relative path given resolves against it
};

struct Provider {
  const char* name;
  std::vector<const char*> keys;  // its own keys in `channels.NAME`
  // Reads them from the channel's mapping (which may be null: no settings); every error goes to
  // the reader as file:line:column. Null when there was one.
  std::unique_ptr<ProviderSettings> (*read)(YamlReader& reader, const YAML::Node& node,
                                            const SettingsScope& scope);
};

struct ChannelKind {
  const char* name;
  Capabilities can;
  std::vector<Provider> providers;  // the first is the default
};

const std::vector<ChannelKind>& channel_kinds();
const ChannelKind* channel_kind(std::string_view name);  // null: no such channel
// A known channel's capabilities; an unknown name can do nothing (broadcast, no text).
const Capabilities& capabilities(std::string_view name);

}  // namespace tocsin::channels
