#include "core/metrics.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <vector>

namespace tocsin {

Histogram::Histogram(std::initializer_list<double> upper_bounds)
    : bounds_(upper_bounds),
      buckets_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1)) {}

void Histogram::observe(double v) {
  std::size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  double s = sum_.load(std::memory_order_relaxed);
  while (!sum_.compare_exchange_weak(s, s + v, std::memory_order_relaxed)) {
  }
}

namespace {
// The shortest text that reads back as the same double: 0.005, not 0.0050000000000000001.
std::string format_number(double v) {
  if (v == double(std::int64_t(v)) && v < 9e15 && v > -9e15) return std::to_string(std::int64_t(v));
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}
}  // namespace

void render_header(std::string& out, std::string_view name, std::string_view type,
                   std::string_view help) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

void render_sample(std::string& out, std::string_view name, std::string_view labels, double value) {
  out.append(name);
  if (!labels.empty()) out.append("{").append(labels).append("}");
  out.append(" ").append(format_number(value)).append("\n");
}

void Histogram::render(std::string& out, std::string_view name, std::string_view help) const {
  render_header(out, name, "histogram", help);
  render_series(out, name, "");
}

void Histogram::render_series(std::string& out, std::string_view name,
                              std::string_view labels) const {
  std::string bucket = std::string(name) + "_bucket";
  std::string prefix = labels.empty() ? "" : std::string(labels) + ",";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    std::string le = i < bounds_.size() ? format_number(bounds_[i]) : "+Inf";
    render_sample(out, bucket, prefix + "le=\"" + le + "\"", double(cumulative));
  }
  render_sample(out, std::string(name) + "_sum", labels, sum_.load(std::memory_order_relaxed));
  render_sample(out, std::string(name) + "_count", labels, double(cumulative));
}

void render_process_metrics(std::string& out) {
  // /proc/self/stat: the fields after the command's closing bracket; utime is the 14th of the
  // line, stime the 15th, starttime the 22nd, rss the 24th (proc(5)).
  std::ifstream stat("/proc/self/stat");
  std::string line;
  std::getline(stat, line);
  auto close = line.rfind(')');
  std::istringstream fields(close == std::string::npos ? "" : line.substr(close + 2));
  std::vector<std::string> f{std::istream_iterator<std::string>(fields), {}};
  const double ticks = double(sysconf(_SC_CLK_TCK)), page = double(sysconf(_SC_PAGESIZE));
  auto field = [&](std::size_t n) { return f.size() > n - 3 ? std::stod(f[n - 3]) : 0.0; };
  double boot = 0;
  std::ifstream proc_stat("/proc/stat");
  for (std::string l; std::getline(proc_stat, l);)
    if (l.rfind("btime ", 0) == 0) boot = std::stod(l.substr(6));
  std::size_t fds = 0;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
    ++fds;
  rlimit files{};
  getrlimit(RLIMIT_NOFILE, &files);
  render_header(out, "process_cpu_seconds_total", "counter", "User and system CPU time spent.");
  render_sample(out, "process_cpu_seconds_total", "", (field(14) + field(15)) / ticks);
  render_header(out, "process_resident_memory_bytes", "gauge", "Resident memory size.");
  render_sample(out, "process_resident_memory_bytes", "", field(24) * page);
  render_header(out, "process_open_fds", "gauge", "Open file descriptors.");
  render_sample(out, "process_open_fds", "", double(fds));
  render_header(out, "process_max_fds", "gauge", "The open file descriptors' limit.");
  render_sample(out, "process_max_fds", "", double(files.rlim_cur));
  render_header(out, "process_start_time_seconds", "gauge",
                "Start time of the process since the Unix epoch.");
  render_sample(out, "process_start_time_seconds", "", boot + field(22) / ticks);
}

}  // namespace tocsin
