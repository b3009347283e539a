#pragma once
// Reads a YAML tree against a schema, collecting every error as "file:line:column: message".
// Shared by tocsin.yaml, the playbooks and the people directory.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

namespace tocsin {

class YamlReader {
 public:
  explicit YamlReader(std::string file) : file_(std::move(file)) {}

  void error(const YAML::Mark& mark, const std::string& message);
  void error(const std::string& message);  // about the whole file

  // Checks that node is a mapping whose keys are all in `known`; false if not a mapping.
  bool mapping(const YAML::Node& node, const std::string& path,
               std::initializer_list<const char*> known);
  // Reports every key of the mapping given twice (yaml-cpp would keep the first, silently).
  bool unique_keys(const YAML::Node& node, const std::string& path);
  // "; did you mean 'KNOWN'?" for a misspelt key close to one of `known`, else "".
  static std::string did_you_mean(const std::string& key, const std::vector<std::string>& known);
  // parent[key] if present and not null; reports a missing required key.
  std::optional<YAML::Node> section(const YAML::Node& parent, const std::string& path,
                                    const char* key, bool required);
  bool string(const YAML::Node& parent, const std::string& path, const char* key, bool required,
              std::string& out);
  bool boolean(const YAML::Node& parent, const std::string& path, const char* key, bool& out);
  bool number(const YAML::Node& parent, const std::string& path, const char* key, double& out);
  template <class Int>
  void integer(const YAML::Node& parent, const std::string& path, const char* key, Int& out,
               long long min, long long max) {
    long long v = 0;
    if (integer_value(parent, path, key, v, min, max)) out = static_cast<Int>(v);
  }
  void choice(const YAML::Node& parent, const std::string& path, const char* key, std::string& out,
              std::initializer_list<const char*> allowed);
  // A scalar or a sequence of scalars, as a list.
  bool string_list(const YAML::Node& parent, const std::string& path, const char* key,
                   bool required, std::vector<std::string>& out);
  // "90s", "10m", "1h30m", "2d"; between min and max.
  bool duration(const YAML::Node& parent, const std::string& path, const char* key, bool required,
                std::chrono::seconds& out, std::chrono::seconds min, std::chrono::seconds max);
  // A secret, from one of the three places its `X_env` key's family names: `X_env: VAR` (an
  // environment variable), `X_file: PATH` (a file, relative to base_dir; readable by its owner
  // and group only), `X_credential: NAME` (a systemd credential, LoadCredential=NAME:…, read
  // from $CREDENTIALS_DIRECTORY). One of them at most; the value (a file's without its last
  // newline), never echoed. `key` is the X_env name.
  void secret(const YAML::Node& parent, const std::string& path, const char* key,
              std::optional<std::string>& out);
  // Whether any of `env_key`'s family is given.
  static bool has_secret(const YAML::Node& parent, const std::string& env_key);
  // Whether `key` is allowed among `known`: itself, or X_file/X_credential for a known X_env.
  static bool allowed(const std::string& key, std::initializer_list<const char*> known);
  static bool allowed(const std::string& key, const std::vector<const char*>& known);
  // Secrets' variables and files are then not read (nor required): for tools that need none.
  void skip_secrets(bool skip = true) { skip_secrets_ = skip; }
  // Where a relative X_file is (the configuration file's directory).
  void base_dir(std::filesystem::path dir) { base_dir_ = std::move(dir); }

  static std::string join(const std::string& path, const std::string& key) {
    return path.empty() ? key : path + "." + key;
  }
  const std::string& file() const { return file_; }
  std::vector<std::string> take() { return std::move(errors_); }
  const std::vector<std::string>& errors() const { return errors_; }
  bool failed() const { return !errors_.empty(); }

 private:
  bool integer_value(const YAML::Node& parent, const std::string& path, const char* key,
                     long long& out, long long min, long long max);

  std::string file_;
  std::vector<std::string> errors_;
  bool skip_secrets_ = false;
  std::filesystem::path base_dir_;
};

std::optional<std::chrono::seconds> parse_duration(std::string_view text);
std::string format_duration(std::chrono::seconds d);  // "1h30m", "10m", "45s"

// Loads a YAML file with limits: at most max_bytes, no aliases (a playbook has no need of them,
// and alias bombs are how YAML is abused). On failure, the error goes to `reader`.
std::optional<YAML::Node> load_yaml_file(const std::string& path, std::size_t max_bytes,
                                         YamlReader& reader);
std::optional<YAML::Node> load_yaml_text(const std::string& text, YamlReader& reader);

}  // namespace tocsin
