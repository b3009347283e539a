#pragma once
// Prometheus primitives: lock-free counters and fixed-bucket histograms, rendered as text
// exposition format (version 0.0.4).

#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace tocsin {

class Counter {
 public:
  void inc(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

class Histogram {
 public:
  explicit Histogram(std::initializer_list<double> upper_bounds);
  void observe(double v);
  std::uint64_t count() const { return count_.load(std::memory_order_relaxed); }

  // Appends "# HELP", "# TYPE" and the series of this histogram to out.
  void render(std::string& out, std::string_view name, std::string_view help) const;
  // Only the series (no header), each sample carrying `labels` (k="v",…) too.
  void render_series(std::string& out, std::string_view name, std::string_view labels) const;

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;  // one per bound, plus +Inf
  std::atomic<std::uint64_t> count_{0};
  std::atomic<double> sum_{0};
};

void render_header(std::string& out, std::string_view name, std::string_view type,
                   std::string_view help);
// One sample line: name{labels} value. labels is already formatted (k="v",…) or empty.
void render_sample(std::string& out, std::string_view name, std::string_view labels, double value);
// The process's own, as Prometheus' client libraries name them (from /proc/self): CPU seconds,
// resident memory, open file descriptors and their limit, start time.
void render_process_metrics(std::string& out);

}  // namespace tocsin
