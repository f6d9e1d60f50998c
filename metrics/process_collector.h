// The standard process_* metrics from /proc (prometheus-cpp has no process
// collector). Takes the proc root as a parameter so tests read a fixture tree, the
// way node_exporter does. Collect() may run on any HTTP thread; it holds no state.
#pragma once

#include <filesystem>
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
  double max_fds = 0;
};

// Reads <proc_root>/self/{stat,fd,limits} and <proc_root>/stat. Nullopt when the
// stat files are unreadable or malformed.
std::optional<ProcessStats> ReadProcessStats(const std::filesystem::path& proc_root, long ticks_per_second,
                                             long page_size);

class ProcessCollector final : public prometheus::Collectable {
 public:
  explicit ProcessCollector(std::filesystem::path proc_root) : proc_root_(std::move(proc_root)) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  std::filesystem::path proc_root_;
};

}  // namespace hbfence
