// fence/timings.h: every timing derived from interval/timeout/lease/grace.
#include "fence/timings.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace hbfence {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::StartsWith;

HeartbeatConfig Hb(Duration interval, Duration timeout, Duration lease, Duration grace = Duration::zero()) {
  HeartbeatConfig hb;
  hb.interval = interval;
  hb.timeout = timeout;
  hb.lease = lease;
  hb.startup_grace = grace;
  return hb;
}

bool ContainsApprox(const std::vector<double>& v, double x) {
  return std::any_of(v.begin(), v.end(), [&](double b) { return std::fabs(b - x) < 1e-9; });
}

// The invariants every bucket layout must satisfy, for any timeout.
void ExpectValidBuckets(const std::vector<double>& b, double timeout_s) {
  ASSERT_FALSE(b.empty());
  EXPECT_DOUBLE_EQ(b.front(), 0.001);
  for (size_t i = 1; i < b.size(); ++i) EXPECT_LT(b[i - 1], b[i]) << "at " << i;
  EXPECT_TRUE(ContainsApprox(b, timeout_s)) << "timeout " << timeout_s;
  EXPECT_TRUE(ContainsApprox(b, 0.8 * timeout_s)) << "80% of timeout " << timeout_s;
  EXPECT_GE(b.back(), timeout_s);
  // No float noise in the `le` labels: every bound is a whole number of microseconds.
  for (double x : b) EXPECT_DOUBLE_EQ(x, std::round(x * 1e6) / 1e6) << x;
}

TEST(TimingsTest, DefaultsDerive) {
  const Timings t = Derive(HeartbeatConfig{});
  EXPECT_EQ(t.interval, 5s);
  EXPECT_EQ(t.timeout, 10s);
  EXPECT_EQ(t.lease, 60s);
  EXPECT_EQ(t.startup_grace, Duration::zero());
  EXPECT_EQ(t.earliest_decision, 60s);
  EXPECT_EQ(t.attempts_per_lease, 12);
  EXPECT_EQ(t.latency_warning, 8s);
}

TEST(TimingsTest, DefaultBuckets) {
  const Timings t = Derive(HeartbeatConfig{});
  ExpectValidBuckets(t.histogram_buckets_seconds, 10.0);
  EXPECT_THAT(t.histogram_buckets_seconds,
              ::testing::ElementsAre(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 8, 10));
}

TEST(TimingsTest, EarliestDecisionIsTheLaterOfLeaseAndGrace) {
  EXPECT_EQ(Derive(Hb(5s, 10s, 60s, 120s)).earliest_decision, 120s);
  EXPECT_EQ(Derive(Hb(5s, 10s, 60s, 30s)).earliest_decision, 60s);
  EXPECT_EQ(Derive(Hb(5s, 10s, 60s, 60s)).earliest_decision, 60s);
}

TEST(TimingsTest, AttemptsPerLeaseAndLatencyWarning) {
  EXPECT_EQ(Derive(Hb(1s, 3s, 20s)).attempts_per_lease, 20);
  EXPECT_EQ(Derive(Hb(7s, 10s, 60s)).attempts_per_lease, 8);  // whole attempts only
  EXPECT_EQ(Derive(Hb(500ms, 1s, 10s)).attempts_per_lease, 20);
  EXPECT_EQ(Derive(Hb(1s, 2500ms, 20s)).latency_warning, 2s);
  EXPECT_EQ(Derive(Hb(1s, 500ms, 20s)).latency_warning, 400ms);
}

TEST(TimingsTest, SmallTimeoutBuckets) {
  const Timings t = Derive(Hb(100ms, 500ms, 5s));
  EXPECT_EQ(t.latency_warning, 400ms);
  ExpectValidBuckets(t.histogram_buckets_seconds, 0.5);
  EXPECT_THAT(t.histogram_buckets_seconds,
              ::testing::ElementsAre(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.4, 0.5));
}

TEST(TimingsTest, LargeTimeoutBuckets) {
  const Timings t = Derive(Hb(10s, 120s, 600s));
  EXPECT_EQ(t.latency_warning, 96s);
  ExpectValidBuckets(t.histogram_buckets_seconds, 120.0);
  EXPECT_DOUBLE_EQ(t.histogram_buckets_seconds.back(), 250.0);
  EXPECT_TRUE(ContainsApprox(t.histogram_buckets_seconds, 96.0));
  EXPECT_TRUE(ContainsApprox(t.histogram_buckets_seconds, 100.0));
}

TEST(TimingsTest, OddTimeoutsKeepTheInvariants) {
  for (Duration timeout : {Duration(1s), Duration(2s), Duration(3s), Duration(7s), Duration(15s), Duration(30s),
                           Duration(1500ms), Duration(250ms), Duration(333ms), Duration(100ms), Duration(10ms)}) {
    SCOPED_TRACE(ToSeconds(timeout));
    const Timings t = Derive(Hb(timeout / 2, timeout, timeout * 10));
    ExpectValidBuckets(t.histogram_buckets_seconds, ToSeconds(timeout));
  }
}

TEST(TimingsTest, DescribeHasOneLinePerValue) {
  const Timings t = Derive(Hb(5s, 10s, 60s, 90s));
  const auto lines = Describe(t);
  ASSERT_EQ(lines.size(), 8u);
  EXPECT_EQ(lines[0], "interval = 5s");
  EXPECT_EQ(lines[1], "timeout = 10s");
  EXPECT_EQ(lines[2], "lease = 60s");
  EXPECT_EQ(lines[3], "startup_grace = 90s");
  EXPECT_EQ(lines[4], "earliest_decision_after_start = 90s");
  EXPECT_EQ(lines[5], "attempts_per_lease = 12");
  EXPECT_THAT(lines[6], StartsWith("latency_warning"));
  EXPECT_THAT(lines[6], HasSubstr("= 8s"));
  EXPECT_EQ(lines[7], "histogram_buckets_seconds = 0.001,0.0025,0.005,0.01,0.025,0.05,0.1,0.25,0.5,1,2.5,5,8,10");
  for (const auto& l : lines) {
    EXPECT_EQ(l.find('\n'), std::string::npos) << l;
    EXPECT_NE(l.find(" = "), std::string::npos) << l;
  }
}

TEST(TimingsTest, DescribeFractionalSeconds) {
  const auto lines = Describe(Derive(Hb(250ms, 1500ms, 10s)));
  EXPECT_EQ(lines[0], "interval = 0.25s");
  EXPECT_EQ(lines[1], "timeout = 1.5s");
  EXPECT_THAT(lines[6], HasSubstr("= 1.2s"));
}

}  // namespace
}  // namespace hbfence
