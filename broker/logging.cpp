#include "broker/logging.hpp"

#include <pthread.h>
#include <systemd/sd-journal.h>

#include <ctime>
#include <mutex>
#include <regex>
#include <stdexcept>
#include <utility>
#include <vector>

#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <boost/json.hpp>

#include "core/json_text.hpp"

namespace tocsin {

namespace {

// The ids a message names: "incident 01J…", "alert 01J…", as the code's log lines say them.
std::vector<std::pair<std::string, std::string>> ids_in(std::string_view message) {
  static const std::regex id(
      R"(\b(incident|alert|delivery|run|approval) ([0-9A-HJKMNP-TV-Z]{26})\b)");
  std::vector<std::pair<std::string, std::string>> found;
  for (std::cregex_iterator it(message.data(), message.data() + message.size(), id), end; it != end;
       ++it) {
    std::string key = (*it)[1].str() + "_id";
    bool seen = false;
    for (const auto& f : found) seen |= f.first == key;
    if (!seen) found.emplace_back(std::move(key), (*it)[2].str());
  }
  return found;
}

std::string thread_name() {
  char name[16] = "";
  pthread_getname_np(pthread_self(), name, sizeof name);
  return name;
}

class JsonFormatter : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const std::string_view text(msg.payload.data(), msg.payload.size());
    const auto since = msg.time.time_since_epoch();
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(since).count();
    std::time_t seconds = std::time_t(ms / 1000);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char stamp[40];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);
    char millis[8];
    std::snprintf(millis, sizeof millis, ".%03dZ", int(ms % 1000));
    boost::json::object o{{"time", std::string(stamp) + millis},
                          {"level", std::string(spdlog::level::to_string_view(msg.level).data(),
                                                spdlog::level::to_string_view(msg.level).size())},
                          {"thread", thread_name()},
                          {"message", std::string(text)}};
    for (auto& [key, value] : ids_in(text)) o[key] = value;
    std::string line = json_text(o);
    line += '\n';
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

// spdlog's own systemd_sink sends the message and its priority only; this one adds the ids.
class JournalSink : public spdlog::sinks::base_sink<std::mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    const std::string text(msg.payload.data(), msg.payload.size());
    std::vector<std::string> fields{"MESSAGE=" + text,
                                    "PRIORITY=" + std::to_string(priority(msg.level)),
                                    "SYSLOG_IDENTIFIER=tocsin", "TOCSIN_THREAD=" + thread_name()};
    for (auto& [key, value] : ids_in(text)) {
      std::string name;
      for (char c : key) name += char(std::toupper(static_cast<unsigned char>(c)));
      fields.push_back(name + "=" + value);
    }
    std::vector<iovec> iov;
    for (auto& f : fields) iov.push_back({f.data(), f.size()});
    sd_journal_sendv(iov.data(), int(iov.size()));
  }
  void flush_() override {}

 private:
  static int priority(spdlog::level::level_enum level) {
    switch (level) {
      case spdlog::level::critical:
        return LOG_CRIT;
      case spdlog::level::err:
        return LOG_ERR;
      case spdlog::level::warn:
        return LOG_WARNING;
      case spdlog::level::info:
        return LOG_INFO;
      default:
        return LOG_DEBUG;
    }
  }
};

}  // namespace

void configure_logging(const std::string& format, const std::string& level) {
  std::shared_ptr<spdlog::logger> logger;
  if (format == "json") {
    logger = std::make_shared<spdlog::logger>("tocsin",
                                              std::make_shared<spdlog::sinks::stderr_sink_mt>());
    logger->set_formatter(std::make_unique<JsonFormatter>());
  } else if (format == "journal") {
    logger = std::make_shared<spdlog::logger>("tocsin", std::make_shared<JournalSink>());
  } else if (format != "text") {
    throw std::invalid_argument("log.format: text, json or journal");
  }
  if (logger) spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(level));
}

}  // namespace tocsin
