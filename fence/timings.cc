#include "fence/timings.h"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace hbfence {
namespace {

// 1-2.5-5 per decade from 1 ms, like Prometheus' default buckets but finer at the
// low end where healthy local and NFS writes land.
std::vector<double> Buckets(Duration timeout) {
  const double timeout_s = ToSeconds(timeout);
  const double warning_s = timeout_s * 0.8;
  std::vector<double> b;
  for (double decade = 0.001;; decade *= 10) {
    for (double m : {1.0, 2.5, 5.0}) {
      const double v = decade * m;
      b.push_back(v);
      if (v >= timeout_s) {
        b.push_back(warning_s);
        b.push_back(timeout_s);
        std::sort(b.begin(), b.end());
        // Round away float noise so `le` labels read 0.0025, not 0.0025000000000000001.
        for (double& x : b) x = std::round(x * 1e6) / 1e6;
        b.erase(std::unique(b.begin(), b.end()), b.end());
        return b;
      }
    }
  }
}

std::string Seconds(Duration d) {
  std::ostringstream out;
  out << ToSeconds(d) << "s";
  return out.str();
}

}  // namespace

Timings Derive(const HeartbeatConfig& hb) {
  Timings t{};
  t.interval = hb.interval;
  t.timeout = hb.timeout;
  t.lease = hb.lease;
  t.startup_grace = hb.startup_grace;
  t.earliest_decision = std::max(hb.lease, hb.startup_grace);
  t.attempts_per_lease = static_cast<int>(hb.lease / hb.interval);
  t.latency_warning = hb.timeout * 8 / 10;
  t.histogram_buckets_seconds = Buckets(hb.timeout);
  return t;
}

std::vector<std::string> Describe(const Timings& t) {
  std::ostringstream buckets;
  for (size_t i = 0; i < t.histogram_buckets_seconds.size(); ++i) {
    buckets << (i ? "," : "") << t.histogram_buckets_seconds[i];
  }
  return {
      "interval = " + Seconds(t.interval),
      "timeout = " + Seconds(t.timeout),
      "lease = " + Seconds(t.lease),
      "startup_grace = " + Seconds(t.startup_grace),
      "earliest_decision_after_start = " + Seconds(t.earliest_decision),
      "attempts_per_lease = " + std::to_string(t.attempts_per_lease),
      "latency_warning (80% of timeout) = " + Seconds(t.latency_warning),
      "histogram_buckets_seconds = " + buckets.str(),
  };
}

}  // namespace hbfence
