// SPDX-License-Identifier: Apache-2.0

#include "metrics/process_collector.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <fstream>
#include <span>
#include <string>
#include <string_view>

#include <prometheus/metric_family.h>

namespace hbfence {
namespace {

// Reads a small /proc file with one read(2): no streams, no heap. Proc files are
// generated on read, so a short read is the whole file.
std::optional<std::string_view> ReadSmall(const std::filesystem::path& p, std::span<char> buf) {
  const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  const ssize_t n = ::read(fd, buf.data(), buf.size());
  ::close(fd);
  if (n < 0) return std::nullopt;
  return std::string_view(buf.data(), static_cast<size_t>(n));
}

std::optional<double> ParseNumber(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  double v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end == text.data()) return std::nullopt;
  return v;
}

// The space-separated fields of /proc/PID/stat after the command name, which may
// itself hold spaces and parentheses: fields resume after the last ')'.
// fields[0] is field 3 (state).
bool SplitStatFields(std::string_view stat, std::span<std::string_view> fields) {
  const auto close = stat.rfind(')');
  if (close == std::string_view::npos) return false;
  stat.remove_prefix(close + 1);
  for (auto& field : fields) {
    while (!stat.empty() && (stat.front() == ' ' || stat.front() == '\n')) stat.remove_prefix(1);
    if (stat.empty()) return false;
    const auto end = std::min(stat.find_first_of(" \n"), stat.size());
    field = stat.substr(0, end);
    stat.remove_prefix(end);
  }
  return true;
}

double CountDirectoryEntries(const std::filesystem::path& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return 0;
  double n = 0;
  while (const dirent* e = ::readdir(d)) {
    if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) ++n;
  }
  ::closedir(d);
  return n;
}

prometheus::MetricFamily Family(const std::string& name, const std::string& help, prometheus::MetricType type,
                                double value) {
  prometheus::MetricFamily f{name, help, type, {}};
  prometheus::ClientMetric m;
  if (type == prometheus::MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  f.metric.push_back(m);
  return f;
}

}  // namespace

std::optional<double> ReadBootTime(const std::filesystem::path& root) {
  // /proc/stat grows with the CPU count; btime follows the per-CPU lines.
  std::ifstream in(root / "stat");
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("btime ")) return ParseNumber(std::string_view(line).substr(6));
  }
  return std::nullopt;
}

std::optional<ProcessStats> ReadProcessStats(const std::filesystem::path& root, long ticks, long page_size,
                                             double boot_time) {
  std::array<char, 4096> buf;
  const auto stat = ReadSmall(root / "self" / "stat", buf);
  std::array<std::string_view, 22> f;
  if (!stat || !SplitStatFields(*stat, f)) return std::nullopt;
  const auto utime = ParseNumber(f[11]), stime = ParseNumber(f[12]), start = ParseNumber(f[19]),
             vsize = ParseNumber(f[20]), rss = ParseNumber(f[21]);
  if (!utime || !stime || !start || !vsize || !rss) return std::nullopt;

  ProcessStats s;
  s.cpu_seconds = (*utime + *stime) / static_cast<double>(ticks);
  s.start_time_seconds = boot_time + *start / static_cast<double>(ticks);
  s.virtual_bytes = *vsize;
  s.resident_bytes = *rss * static_cast<double>(page_size);
  s.open_fds = CountDirectoryEntries(root / "self" / "fd");
  return s;
}

double SoftFdLimit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return 0;  // unknown
  return static_cast<double>(limit.rlim_cur);
}

ProcessCollector::ProcessCollector(std::filesystem::path proc_root, std::chrono::steady_clock::duration reuse_for)
    : reuse_for_(reuse_for),
      proc_root_(std::move(proc_root)),
      boot_time_(ReadBootTime(proc_root_)),
      ticks_per_second_(::sysconf(_SC_CLK_TCK)),
      page_size_(::sysconf(_SC_PAGESIZE)) {}

std::vector<prometheus::MetricFamily> ProcessCollector::Collect() const {
  std::lock_guard lock(mu_);
  const auto now = std::chrono::steady_clock::now();
  if (last_.empty() || now - read_at_ >= reuse_for_) {
    last_ = Read();
    read_at_ = now;
  }
  return last_;
}

std::vector<prometheus::MetricFamily> ProcessCollector::Read() const {
  if (!boot_time_) return {};
  auto s = ReadProcessStats(proc_root_, ticks_per_second_, page_size_, *boot_time_);
  if (!s) return {};
  s->max_fds = SoftFdLimit();
  using prometheus::MetricType;
  return {
      Family("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", MetricType::Counter,
             s->cpu_seconds),
      Family("process_resident_memory_bytes", "Resident memory size in bytes.", MetricType::Gauge, s->resident_bytes),
      Family("process_virtual_memory_bytes", "Virtual memory size in bytes.", MetricType::Gauge, s->virtual_bytes),
      Family("process_open_fds", "Number of open file descriptors.", MetricType::Gauge, s->open_fds),
      Family("process_max_fds", "Maximum number of open file descriptors.", MetricType::Gauge, s->max_fds),
      Family("process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
             MetricType::Gauge, s->start_time_seconds),
  };
}

}  // namespace hbfence
