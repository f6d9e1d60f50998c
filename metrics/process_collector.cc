#include "metrics/process_collector.h"

#include <unistd.h>

#include <charconv>
#include <fstream>
#include <sstream>
#include <string>

#include <prometheus/metric_family.h>

namespace hbfence {
namespace {

std::optional<std::string> ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::optional<double> ParseNumber(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  double v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end == text.data()) return std::nullopt;
  return v;
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

std::optional<ProcessStats> ReadProcessStats(const std::filesystem::path& root, long ticks, long page_size) {
  auto stat = ReadFile(root / "self" / "stat");
  auto sys = ReadFile(root / "stat");
  if (!stat || !sys) return std::nullopt;
  // The command name (field 2) may hold spaces and parentheses: fields resume
  // after the last ')'.
  const auto close = stat->rfind(')');
  if (close == std::string::npos || close + 2 > stat->size()) return std::nullopt;
  std::istringstream fields(stat->substr(close + 2));
  std::vector<std::string> f;  // f[0] is field 3 (state)
  for (std::string x; fields >> x;) f.push_back(x);
  if (f.size() < 22) return std::nullopt;

  std::optional<double> btime;
  std::istringstream lines(*sys);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("btime ", 0) == 0) btime = ParseNumber(line.substr(6));
  }
  if (!btime) return std::nullopt;

  ProcessStats s;
  try {
    s.cpu_seconds = (std::stod(f[11]) + std::stod(f[12])) / static_cast<double>(ticks);  // utime, stime
    s.start_time_seconds = *btime + std::stod(f[19]) / static_cast<double>(ticks);        // starttime
    s.virtual_bytes = std::stod(f[20]);                                                  // vsize
    s.resident_bytes = std::stod(f[21]) * static_cast<double>(page_size);                // rss pages
  } catch (const std::exception&) {
    return std::nullopt;
  }
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(root / "self" / "fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++s.open_fds;
  }
  if (auto limits = ReadFile(root / "self" / "limits")) {
    std::istringstream ls(*limits);
    for (std::string line; std::getline(ls, line);) {
      if (line.rfind("Max open files", 0) == 0) {
        std::istringstream v(line.substr(14));
        std::string soft;
        v >> soft;
        s.max_fds = ParseNumber(soft).value_or(0);  // "unlimited" or garbage: unknown
      }
    }
  }
  return s;
}

std::vector<prometheus::MetricFamily> ProcessCollector::Collect() const {
  const auto s = ReadProcessStats(proc_root_, ::sysconf(_SC_CLK_TCK), ::sysconf(_SC_PAGESIZE));
  if (!s) return {};
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
