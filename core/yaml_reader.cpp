#include "core/yaml_reader.hpp"

#include "core/json_body.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include <yaml.h>

namespace tocsin {

namespace {
std::string list_of(std::initializer_list<const char*> items) {
  std::string out;
  for (const char* i : items) out += std::string(out.empty() ? "" : ", ") + i;
  return out;
}

// Levenshtein distance, for "did you mean".
std::size_t distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1] ? 1 : 0)});
      diagonal = up;
    }
  }
  return row[b.size()];
}
}  // namespace

std::string YamlReader::did_you_mean(const std::string& key,
                                     const std::vector<std::string>& known) {
  std::string best;
  std::size_t best_distance = std::max<std::size_t>(2, key.size() / 3) + 1;
  for (const auto& k : known)
    if (auto d = distance(key, k); d < best_distance) {
      best = k;
      best_distance = d;
    }
  return best.empty() ? "" : "; did you mean '" + best + "'?";
}

bool YamlReader::unique_keys(const YAML::Node& node, const std::string& path) {
  std::map<std::string, YAML::Mark> seen;
  bool unique = true;
  for (const auto& kv : node) {
    const std::string key = kv.first.Scalar();
    auto [it, first] = seen.emplace(key, kv.first.Mark());
    if (first) continue;
    unique = false;
    error(kv.first.Mark(), join(path, key) + ": given twice (first at line " +
                               std::to_string(it->second.line + 1) +
                               "); only one may be, or the second would be ignored");
  }
  return unique;
}

void YamlReader::error(const YAML::Mark& mark, const std::string& message) {
  errors_.push_back(file_ + ":" + std::to_string(mark.line + 1) + ":" +
                    std::to_string(mark.column + 1) + ": " + message);
}

void YamlReader::error(const std::string& message) {
  errors_.push_back(file_ + ": " + message);
}

bool YamlReader::mapping(const YAML::Node& node, const std::string& path,
                         std::initializer_list<const char*> known) {
  if (!node.IsMap()) {
    error(node.Mark(), (path.empty() ? "the document" : path) + ": must be a mapping");
    return false;
  }
  unique_keys(node, path);
  for (const auto& kv : node) {
    std::string key = kv.first.Scalar();
    if (!allowed(key, known))
      error(kv.first.Mark(),
            "unknown key '" + join(path, key) + "' (known here: " + list_of(known) + ")" +
                did_you_mean(key, std::vector<std::string>(known.begin(), known.end())));
  }
  return true;
}

std::optional<YAML::Node> YamlReader::section(const YAML::Node& parent, const std::string& path,
                                              const char* key, bool required) {
  YAML::Node n = parent[key];
  if (!n || n.IsNull()) {
    if (required) error(parent.Mark(), "missing required key '" + join(path, key) + "'");
    return std::nullopt;
  }
  return n;
}

bool YamlReader::string(const YAML::Node& parent, const std::string& path, const char* key,
                        bool required, std::string& out) {
  auto n = section(parent, path, key, required);
  if (!n) return false;
  if (!n->IsScalar()) {
    error(n->Mark(), join(path, key) + ": must be a string");
    return false;
  }
  out = n->Scalar();
  if (required && out.empty()) {
    error(n->Mark(), join(path, key) + ": must not be empty");
    return false;
  }
  return true;
}

bool YamlReader::boolean(const YAML::Node& parent, const std::string& path, const char* key,
                         bool& out) {
  auto n = section(parent, path, key, false);
  if (!n) return false;
  bool v;
  if (!n->IsScalar() || !YAML::convert<bool>::decode(*n, v)) {
    error(n->Mark(), join(path, key) + ": must be true or false");
    return false;
  }
  out = v;
  return true;
}

bool YamlReader::number(const YAML::Node& parent, const std::string& path, const char* key,
                        double& out) {
  auto n = section(parent, path, key, true);
  if (!n) return false;
  double v;
  if (!n->IsScalar() || !YAML::convert<double>::decode(*n, v)) {
    error(n->Mark(), join(path, key) + ": must be a number");
    return false;
  }
  out = v;
  return true;
}

bool YamlReader::integer_value(const YAML::Node& parent, const std::string& path, const char* key,
                               long long& out, long long min, long long max) {
  auto n = section(parent, path, key, false);
  if (!n) return false;
  long long v = 0;
  if (!n->IsScalar() || !YAML::convert<long long>::decode(*n, v)) {
    error(n->Mark(), join(path, key) + ": must be an integer");
    return false;
  }
  if (v < min || v > max) {
    error(n->Mark(), join(path, key) + ": must be between " + std::to_string(min) + " and " +
                         std::to_string(max));
    return false;
  }
  out = v;
  return true;
}

void YamlReader::choice(const YAML::Node& parent, const std::string& path, const char* key,
                        std::string& out, std::initializer_list<const char*> allowed) {
  std::string v;
  if (!string(parent, path, key, false, v)) return;
  for (const char* a : allowed)
    if (v == a) {
      out = v;
      return;
    }
  error(parent[key].Mark(), join(path, key) + ": '" + v + "' is not one of " + list_of(allowed));
}

bool YamlReader::string_list(const YAML::Node& parent, const std::string& path, const char* key,
                             bool required, std::vector<std::string>& out) {
  auto n = section(parent, path, key, required);
  if (!n) return false;
  if (n->IsScalar()) {
    out = {n->Scalar()};
    return true;
  }
  if (!n->IsSequence()) {
    error(n->Mark(), join(path, key) + ": must be a string or a list of strings");
    return false;
  }
  out.clear();
  for (const auto& item : *n) {
    if (!item.IsScalar()) {
      error(item.Mark(), join(path, key) + ": must be a list of strings");
      return false;
    }
    out.push_back(item.Scalar());
  }
  if (required && out.empty()) {
    error(n->Mark(), join(path, key) + ": must not be empty");
    return false;
  }
  return true;
}

bool YamlReader::duration(const YAML::Node& parent, const std::string& path, const char* key,
                          bool required, std::chrono::seconds& out, std::chrono::seconds min,
                          std::chrono::seconds max) {
  std::string text;
  if (!string(parent, path, key, required, text)) return false;
  auto d = parse_duration(text);
  const YAML::Mark mark = parent[key].Mark();
  if (!d) {
    error(mark, join(path, key) + ": '" + text + "' is not a duration (e.g. 90s, 10m, 1h30m)");
    return false;
  }
  if (*d < min || *d > max) {
    error(mark, join(path, key) + ": " + text + " is outside " + format_duration(min) + " to " +
                    format_duration(max));
    return false;
  }
  out = *d;
  return true;
}

namespace {

// X_env's family: X_file, X_credential.
std::string family(std::string_view env_key, const char* suffix) {
  std::string base(env_key.substr(0, env_key.size() - 4));  // without "_env"
  return base + suffix;
}

bool allowed_in(const std::string& key, const char* const* begin, const char* const* end) {
  for (auto k = begin; k != end; ++k) {
    std::string_view known = *k;
    if (key == known) return true;
    if (known.size() > 4 && known.substr(known.size() - 4) == "_env" &&
        (key == family(known, "_file") || key == family(known, "_credential")))
      return true;
  }
  return false;
}

}  // namespace

bool YamlReader::allowed(const std::string& key, std::initializer_list<const char*> known) {
  return allowed_in(key, known.begin(), known.end());
}

bool YamlReader::allowed(const std::string& key, const std::vector<const char*>& known) {
  return allowed_in(key, known.data(), known.data() + known.size());
}

bool YamlReader::has_secret(const YAML::Node& parent, const std::string& env_key) {
  return parent[env_key] || parent[family(env_key, "_file")] ||
         parent[family(env_key, "_credential")];
}

void YamlReader::secret(const YAML::Node& parent, const std::string& path, const char* key,
                        std::optional<std::string>& out) {
  const std::string file_key = family(key, "_file"), credential_key = family(key, "_credential");
  const int given =
      (parent[key] ? 1 : 0) + (parent[file_key] ? 1 : 0) + (parent[credential_key] ? 1 : 0);
  if (given > 1) {
    error(parent.Mark(), join(path, key) + ", " + file_key + ", " + credential_key +
                             ": give one of them, not several");
    return;
  }
  if (parent[key]) {
    std::string var;
    if (!string(parent, path, key, false, var) || skip_secrets_) return;
    const char* value = std::getenv(var.c_str());
    if (!value) {
      error(parent[key].Mark(), join(path, key) + ": environment variable " + var + " is not set");
      return;
    }
    out = value;
    return;
  }
  const bool credential = parent[credential_key].IsDefined();
  const std::string& which = credential ? credential_key : file_key;
  std::string name;
  if (!string(parent, path, which.c_str(), false, name) || skip_secrets_) return;
  const YAML::Mark mark = parent[which].Mark();
  std::filesystem::path file;
  if (credential) {
    const char* dir = std::getenv("CREDENTIALS_DIRECTORY");
    if (name.empty() || name.find('/') != std::string::npos) {
      error(mark, join(path, which) + ": a credential's name, as in LoadCredential=NAME:PATH");
      return;
    }
    if (!dir) {
      error(mark, join(path, which) +
                      ": CREDENTIALS_DIRECTORY is not set (the unit's "
                      "LoadCredential=" +
                      name + ":PATH gives it)");
      return;
    }
    file = std::filesystem::path(dir) / name;
  } else {
    file = (base_dir_ / name).lexically_normal();
  }
  std::error_code ec;
  auto status = std::filesystem::status(file, ec);
  if (ec || !std::filesystem::is_regular_file(status)) {
    error(mark, join(path, which) + ": no file at " + file.string());
    return;
  }
  using std::filesystem::perms;
  if (!credential &&
      (status.permissions() & (perms::others_read | perms::others_write)) != perms::none) {
    error(mark, join(path, which) + ": " + file.string() +
                    " is readable by everyone; a secret's file is its owner's and group's only "
                    "(chmod 600 or 640)");
    return;
  }
  std::ifstream in(file, std::ios::binary);
  std::string value(64 * 1024 + 1, '\0');
  in.read(value.data(), std::streamsize(value.size()));
  value.resize(std::size_t(in.gcount()));
  if (!in.eof() && value.size() > 64 * 1024) {
    error(mark, join(path, which) + ": " + file.string() + " is over 64 KiB");
    return;
  }
  if (value.ends_with("\n")) value.pop_back();
  if (value.ends_with("\r")) value.pop_back();
  if (value.empty()) {
    error(mark, join(path, which) + ": " + file.string() + " is empty");
    return;
  }
  out = std::move(value);
}

std::optional<std::chrono::seconds> parse_duration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  long long total = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    long long n = 0;
    std::size_t start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      n = n * 10 + (text[i] - '0');
      if (n > 1'000'000'000) return std::nullopt;
      ++i;
    }
    if (i == start || i == text.size()) return std::nullopt;
    switch (text[i++]) {
      case 's':
        total += n;
        break;
      case 'm':
        total += n * 60;
        break;
      case 'h':
        total += n * 3600;
        break;
      case 'd':
        total += n * 86400;
        break;
      default:
        return std::nullopt;
    }
  }
  return std::chrono::seconds(total);
}

std::string format_duration(std::chrono::seconds d) {
  long long s = d.count();
  if (s == 0) return "0s";
  std::string out;
  if (s >= 86400) out += std::to_string(s / 86400) + "d", s %= 86400;
  if (s >= 3600) out += std::to_string(s / 3600) + "h", s %= 3600;
  if (s >= 60) out += std::to_string(s / 60) + "m", s %= 60;
  if (s > 0) out += std::to_string(s) + "s";
  return out;
}

namespace {

// libyaml (the reference C parser, fuzzed continuously by OSS-Fuzz) reads every document before
// yaml-cpp does: yaml-cpp 0.7 loops forever, its memory growing, on some malformed documents
// ("# x\n  a : b}\n, d" and others; found by tests/fuzz), so it is only given text that libyaml
// parsed. The same pass refuses aliases and nesting deeper than yaml-cpp's recursion should go,
// each with its position.
struct SyntaxProblem {
  YAML::Mark mark;
  std::string message;
};

std::optional<SyntaxProblem> syntax_problem(const std::string& text) {
  constexpr int kMaxDepth = 64;
  yaml_parser_t parser;
  if (!yaml_parser_initialize(&parser)) return SyntaxProblem{{}, "cannot be parsed (no memory)"};
  yaml_parser_set_input_string(&parser, reinterpret_cast<const unsigned char*>(text.data()),
                               text.size());
  auto mark_of = [](const yaml_mark_t& m) {
    YAML::Mark mark;
    mark.line = int(m.line);
    mark.column = int(m.column);
    return mark;
  };
  std::optional<SyntaxProblem> problem;
  int depth = 0;
  for (bool done = false; !done && !problem;) {
    yaml_event_t event;
    if (!yaml_parser_parse(&parser, &event)) {
      std::string message = parser.problem ? parser.problem : "is not YAML";
      if (parser.context) message += std::string(" (") + parser.context + ")";
      problem = SyntaxProblem{mark_of(parser.problem_mark), message};
      break;
    }
    switch (event.type) {
      case YAML_ALIAS_EVENT:
        problem = SyntaxProblem{mark_of(event.start_mark),
                                "aliases (*name) are not allowed here; write the value out"};
        break;
      case YAML_MAPPING_START_EVENT:
      case YAML_SEQUENCE_START_EVENT:
        if (++depth > kMaxDepth)
          problem = SyntaxProblem{mark_of(event.start_mark),
                                  "nested more than " + std::to_string(kMaxDepth) + " deep"};
        break;
      case YAML_MAPPING_END_EVENT:
      case YAML_SEQUENCE_END_EVENT:
        --depth;
        break;
      case YAML_STREAM_END_EVENT:
        done = true;
        break;
      default:
        break;
    }
    yaml_event_delete(&event);
  }
  yaml_parser_delete(&parser);
  return problem;
}

}  // namespace

namespace {

// Whether a line's content starts with a mapping key: KEY: (plain, "quoted" or 'quoted').
bool starts_with_key(std::string_view s) {
  auto ends_key = [&](std::size_t colon) {
    return colon < s.size() && s[colon] == ':' &&
           (colon + 1 == s.size() || s[colon + 1] == ' ' || s[colon + 1] == '\t' ||
            s[colon + 1] == '\r');
  };
  if (s[0] == '"' || s[0] == '\'') {
    const char quote = s[0];
    std::size_t end = 1;
    for (; end < s.size(); ++end) {
      if (quote == '"' && s[end] == '\\') {
        ++end;
      } else if (s[end] == quote) {
        if (quote == '\'' && end + 1 < s.size() && s[end + 1] == '\'') {
          ++end;
          continue;
        }
        break;
      }
    }
    if (end >= s.size()) return false;
    return ends_key(s.find_first_not_of(" \t", end + 1));
  }
  if (std::string_view("&!,[]{}*|>%@`#?").find(s[0]) != std::string_view::npos) return false;
  if (s[0] == '-' && (s.size() == 1 || s[1] == ' ' || s[1] == '\t')) return false;
  for (std::size_t end = 0; end < s.size(); ++end) {
    if (s[end] == '#' && (s[end - 1] == ' ' || s[end - 1] == '\t')) return false;
    if (ends_key(end)) return true;
  }
  return false;
}

// Where a document does not start with a mapping key, if one does not. yaml-cpp 0.7 never
// returns from some documents whose root is not a block mapping ("&a\n ,", ",a: b" and
// "\"x\",\"y\"" loop, its memory growing; found by tests/fuzz/playbook). Tocsin's YAML files are
// mappings that start with a key, so any other document is refused before yaml-cpp reads it.
std::optional<YAML::Mark> root_not_a_mapping(const std::string& text) {
  bool document_start = true;
  int line = 0;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l); ++line) {
    std::string_view rest = l;
    std::size_t column = rest.find_first_not_of(" \t\r");
    if (column == std::string_view::npos) continue;
    rest.remove_prefix(column);
    if (column == 0 && rest[0] == '%') continue;  // a directive
    if (column == 0 && (rest.rfind("---", 0) == 0 || rest.rfind("...", 0) == 0) &&
        (rest.size() == 3 || rest[3] == ' ' || rest[3] == '\t' || rest[3] == '\r')) {
      document_start = true;
      std::size_t more = rest.find_first_not_of(" \t\r", 3);
      if (more == std::string_view::npos) continue;
      column += more;
      rest.remove_prefix(more);
    }
    if (rest[0] == '#') continue;
    if (document_start && !starts_with_key(rest)) {
      YAML::Mark mark;
      mark.line = line;
      mark.column = int(column);
      return mark;
    }
    document_start = false;
  }
  return std::nullopt;
}

}  // namespace

std::optional<YAML::Node> load_yaml_text(const std::string& text, YamlReader& reader) {
  if (!is_valid_utf8(text)) {  // YAML is Unicode; yaml-cpp is not to guess at other bytes
    reader.error("is not UTF-8 text (save it as UTF-8)");
    return std::nullopt;
  }
  if (auto at = root_not_a_mapping(text)) {
    reader.error(*at, "the document: must be a mapping");
    return std::nullopt;
  }
  try {
    if (auto problem = syntax_problem(text)) {
      reader.error(problem->mark, problem->message);
      return std::nullopt;
    }
    YAML::Node root = YAML::Load(text);
    if (!root || root.IsNull()) {
      reader.error("is empty");
      return std::nullopt;
    }
    return root;
  } catch (const YAML::Exception& e) {
    reader.error(e.mark, e.msg);
    return std::nullopt;
  }
}

std::optional<YAML::Node> load_yaml_file(const std::string& path, std::size_t max_bytes,
                                         YamlReader& reader) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    reader.error("cannot be read");
    return std::nullopt;
  }
  std::string text;
  text.resize(max_bytes + 1);
  in.read(text.data(), std::streamsize(text.size()));
  text.resize(std::size_t(in.gcount()));
  if (text.size() > max_bytes) {
    reader.error("is larger than " + std::to_string(max_bytes) + " bytes");
    return std::nullopt;
  }
  return load_yaml_text(text, reader);
}

}  // namespace tocsin
