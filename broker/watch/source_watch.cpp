#include "broker/watch/source_watch.hpp"

#include <algorithm>

#include <pthread.h>

#include <spdlog/spdlog.h>
#include <boost/json.hpp>

#include "core/yaml_reader.hpp"

namespace tocsin {

namespace json = boost::json;

std::variant<std::vector<ExpectedSource>, std::vector<std::string>> load_sources(
    const std::filesystem::path& file) {
  YamlReader r(file.string());
  auto root = load_yaml_file(file.string(), 1 << 20, r);
  if (!root) return r.take();
  std::vector<ExpectedSource> out;
  if (r.mapping(*root, "", {"sources"})) {
    if (auto list = r.section(*root, "", "sources", true)) {
      if (!list->IsSequence()) r.error(list->Mark(), "sources: must be a list");
      std::size_t i = 0;
      for (const auto& item : *list) {
        std::string path = "sources[" + std::to_string(i++) + "]";
        if (!r.mapping(item, path, {"id", "expect_every", "grace"})) continue;
        ExpectedSource s;
        r.string(item, path, "id", true, s.id);
        r.duration(item, path, "expect_every", true, s.expect_every, std::chrono::seconds(1),
                   std::chrono::seconds(7 * 86400));
        r.integer(item, path, "grace", s.grace, 1, 100);
        for (const auto& o : out)
          if (o.id == s.id)
            r.error(item["id"].Mark(), path + ".id: '" + s.id + "' is listed twice");
        out.push_back(std::move(s));
      }
    }
  }
  if (r.failed()) return r.take();
  return out;
}

SourceWatch::SourceWatch(Intake& journal, std::vector<ExpectedSource> sources) : journal_(journal) {
  auto start = now();
  for (auto& s : sources) {
    std::string id = s.id;  // read before the move below
    sources_[id] = State{std::move(s), start, false, false, ""};
  }
}

SourceWatch::~SourceWatch() {
  stop();
}

void SourceWatch::start() {
  if (sources_.empty()) return;
  thread_ = std::jthread([this](std::stop_token stop) {
    pthread_setname_np(pthread_self(), "source-watch");
    for (;;) {
      check();
      std::unique_lock lock(mutex_);
      if (wake_.wait_for(lock, stop, std::chrono::milliseconds(250),
                         [&] { return stop.stop_requested(); }))
        return;
    }
  });
}

void SourceWatch::stop() {
  thread_.request_stop();
  if (thread_.joinable()) thread_.join();
}

bool SourceWatch::expects(const std::string& source) const {
  return sources_.count(source) > 0;  // the set never changes after construction
}

void SourceWatch::seen(const std::string& source) {
  auto it = sources_.find(source);
  if (it == sources_.end()) return;
  std::string resolve;
  {
    std::lock_guard lock(mutex_);
    it->second.last_seen = now();
    it->second.ever_seen = true;
    if (it->second.silent) {
      it->second.silent = false;
      resolve = std::exchange(it->second.incident_id, "");
    }
  }
  if (!resolve.empty()) {
    spdlog::info("source {}: speaking again; resolving {}", source, resolve);
    journal_.act(IncidentAction{resolve, "resolve", "tocsin/source-watch", source + " spoke again"},
                 [](Result<ActionDone>) {});
  }
}

void SourceWatch::check() {
  auto at = now();
  std::vector<std::string> silent;
  {
    std::lock_guard lock(mutex_);
    for (auto& [id, s] : sources_)
      if (!s.silent && at - s.last_seen > s.expected.grace * s.expected.expect_every) {
        s.silent = true;
        silent.push_back(id);
      }
  }
  for (const auto& id : silent) {
    Incident i =
        raised_by_tocsin("tocsin/source-watch", "source.silent", id, "Source " + id + " is silent",
                         id + " has not reported or sent a heartbeat within its expected interval",
                         {{"source", id}});
    spdlog::warn("source {}: silent; raising a source.silent incident", id);
    journal_.submit(std::move(i), [this, id](Result<Accepted> r) {
      if (!r) {
        spdlog::error("source {}: the silence was not stored: {}", id, r.error().message);
        return;
      }
      bool spoke_meanwhile;
      {
        std::lock_guard lock(mutex_);
        auto& s = sources_.at(id);
        spoke_meanwhile = !s.silent;
        if (!spoke_meanwhile) s.incident_id = r->incident_id;
      }
      if (spoke_meanwhile)
        journal_.act(
            IncidentAction{r->incident_id, "resolve", "tocsin/source-watch", id + " spoke again"},
            [](Result<ActionDone>) {});
    });
  }
}

json::array SourceWatch::list() const {
  std::lock_guard lock(mutex_);
  json::array out;
  for (const auto& [id, s] : sources_) {
    json::object o{{"id", id},
                   {"expect_every_s", s.expected.expect_every.count()},
                   {"grace", s.expected.grace},
                   {"silent", s.silent}};
    o["last_seen"] = s.ever_seen ? json::value(format_rfc3339(s.last_seen)) : json::value(nullptr);
    out.push_back(std::move(o));
  }
  return out;
}

std::size_t SourceWatch::silent() const {
  std::lock_guard lock(mutex_);
  return std::size_t(std::count_if(sources_.begin(), sources_.end(),
                                   [](const auto& s) { return s.second.silent; }));
}

}  // namespace tocsin
