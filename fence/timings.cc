// SPDX-License-Identifier: Apache-2.0

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

// The first multiple of `step` at or after `d`, for d >= 0 and step > 0.
Duration RoundUpTo(Duration d, Duration step) { return (d + step - Duration(1)) / step * step; }

}  // namespace

LeaseRule CheckLease(const HeartbeatConfig& hb) {
  constexpr Duration a = kSchedulingAllowance;
  // The tick a write started on time can miss; if it lies before timeout + 2A, a write
  // started up to A late can miss it too, and then waits a whole interval more.
  const Duration on_time = RoundUpTo(hb.timeout + a, hb.interval);
  LeaseRule rule;
  rule.next_write_within = on_time >= hb.timeout + 2 * a ? on_time : hb.interval + hb.timeout + a;
  rule.minimum = rule.next_write_within + hb.timeout + 2 * a;
  rule.satisfied = hb.lease >= rule.minimum;
  return rule;
}

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
  t.stuck_after = hb.timeout + kSchedulingAllowance;
  t.worst_renewal_gap = CheckLease(hb).minimum;
  t.lease_margin = hb.lease - t.worst_renewal_gap;
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
      "scheduling_allowance = " + ExactSeconds(kSchedulingAllowance) + "s",
      "stuck_after (timeout + allowance) = " + ExactSeconds(t.stuck_after) + "s",
      "worst_renewal_gap (the minimum lease) = " + ExactSeconds(t.worst_renewal_gap) + "s",
      "lease_margin (lease - worst_renewal_gap) = " + ExactSeconds(t.lease_margin) + "s",
  };
}

std::string ExactSeconds(Duration d) {
  const bool negative = d < Duration::zero();
  const auto ns = negative ? -d.count() : d.count();
  std::string out = (negative ? "-" : "") + std::to_string(ns / 1'000'000'000);
  if (auto frac = ns % 1'000'000'000) {
    std::string digits = std::to_string(frac);
    digits.insert(0, 9 - digits.size(), '0');
    digits.erase(digits.find_last_not_of('0') + 1);
    out += "." + digits;
  }
  return out;
}

}  // namespace hbfence
