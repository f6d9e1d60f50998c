// SPDX-License-Identifier: Apache-2.0

// The standard process_* metrics from /proc (prometheus-cpp has no process
// collector). Takes the proc root as a parameter so tests read a fixture tree, the
// way node_exporter does. Collect() may run on any HTTP thread; it holds no state.
#pragma once

#include <chrono>
#include <filesystem>
#include <mutex>
#include <optional>
#include <vector>

#include <prometheus/collectable.h>

namespace hbfence {

struct ProcessStats {
  double cpu_seconds = 0;
  double resident_bytes = 0;
  double virtual_bytes = 0;
  double start_time_seconds = 0;
  double open_fds = 0;
  double max_fds = 0;  // 0: unknown or unlimited
};

// btime from <proc_root>/stat: when the machine booted, in Unix seconds. It never
// changes, so the collector reads it once.
std::optional<double> ReadBootTime(const std::filesystem::path& proc_root);

// Reads <proc_root>/self/{stat,fd}; max_fds is left 0. Nullopt when stat is
// unreadable or malformed. Runs on every scrape, so it reads with one read(2).
std::optional<ProcessStats> ReadProcessStats(const std::filesystem::path& proc_root, long ticks_per_second,
                                             long page_size, double boot_time);

// This process's RLIMIT_NOFILE soft limit; 0 when unlimited. getrlimit(2) rather
// than /proc/self/limits, whose text the kernel formats line by line on each read
// (it was most of a scrape's /proc cost).
double SoftFdLimit();

// Scrapes within `reuse_for` of each other share one reading: Prometheus scrapes
// every few seconds, and a burst (several servers, a load test) then costs one read
// of /proc instead of one per request.
class ProcessCollector final : public prometheus::Collectable {
 public:
  explicit ProcessCollector(std::filesystem::path proc_root,
                            std::chrono::steady_clock::duration reuse_for = std::chrono::seconds(1));
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  std::vector<prometheus::MetricFamily> Read() const;

  const std::chrono::steady_clock::duration reuse_for_;
  mutable std::mutex mu_;  // Collect() runs on any HTTP thread
  mutable std::chrono::steady_clock::time_point read_at_;
  mutable std::vector<prometheus::MetricFamily> last_;

  std::filesystem::path proc_root_;
  std::optional<double> boot_time_;  // nullopt: unreadable proc tree, no process_* metrics
  long ticks_per_second_;
  long page_size_;
};

}  // namespace hbfence
