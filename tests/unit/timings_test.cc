// SPDX-License-Identifier: Apache-2.0

// fence/timings.h: every timing derived from interval/timeout/lease/grace.
#include "fence/timings.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fence/decide.h"
#include "storage/heartbeat_state.h"

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
  ASSERT_EQ(lines.size(), 12u);
  EXPECT_EQ(lines[0], "interval = 5s");
  EXPECT_EQ(lines[1], "timeout = 10s");
  EXPECT_EQ(lines[2], "lease = 60s");
  EXPECT_EQ(lines[3], "startup_grace = 90s");
  EXPECT_EQ(lines[4], "earliest_decision_after_start = 90s");
  EXPECT_EQ(lines[5], "attempts_per_lease = 12");
  EXPECT_THAT(lines[6], StartsWith("latency_warning"));
  EXPECT_THAT(lines[6], HasSubstr("= 8s"));
  EXPECT_EQ(lines[7], "histogram_buckets_seconds = 0.001,0.0025,0.005,0.01,0.025,0.05,0.1,0.25,0.5,1,2.5,5,8,10");
  EXPECT_EQ(lines[8], "scheduling_allowance = 0.1s");
  EXPECT_EQ(lines[9], "stuck_after (timeout + allowance) = 10.1s");
  EXPECT_EQ(lines[10], "worst_renewal_gap (the minimum lease) = 25.2s");
  EXPECT_EQ(lines[11], "lease_margin (lease - worst_renewal_gap) = 34.8s");
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

// ---------------------------------------------------------------------------
// The lease rule with numbers (fence/timings.h works these out by hand).

constexpr Duration kA = kSchedulingAllowance;

TEST(LeaseRuleTest, DefaultsNeed25Point2SecondsAndLeave34Point8) {
  const LeaseRule rule = CheckLease(HeartbeatConfig{});
  EXPECT_EQ(rule.next_write_within, 15s);  // ceil(10.1 / 5) × 5
  EXPECT_EQ(rule.minimum, 25200ms);        // 15 + 10 + 2 × 0.1
  EXPECT_TRUE(rule.satisfied);
  const Timings t = Derive(HeartbeatConfig{});
  EXPECT_EQ(t.worst_renewal_gap, 25200ms);
  EXPECT_EQ(t.lease_margin, 34800ms);
  EXPECT_EQ(t.stuck_after, 10100ms);
}

// The two configurations of the report: check-config accepted both, and both fenced
// healthy storage.
TEST(LeaseRuleTest, TheReportedConfigurationsAreBelowTheMinimum) {
  const LeaseRule fast = CheckLease(Hb(1s, 500ms, 1001ms));
  EXPECT_EQ(fast.next_write_within, 1s);
  EXPECT_EQ(fast.minimum, 1700ms);
  EXPECT_FALSE(fast.satisfied);
  const LeaseRule slow = CheckLease(Hb(500ms, 1s, 1200ms));
  EXPECT_EQ(slow.next_write_within, 1500ms);  // a 0.85 s write makes the next one wait for the 1 s tick
  EXPECT_EQ(slow.minimum, 2700ms);
  EXPECT_FALSE(slow.satisfied);
}

TEST(LeaseRuleTest, ALateStartThatPushesTheCompletionPastATickCostsAWholeInterval) {
  // ceil((0.85 + 0.1) / 1) = 1 s lies before 0.85 + 0.2: a write started 0.05+ s late
  // finishes just after the 1 s tick, so W = 1 + 0.85 + 0.1.
  const LeaseRule rule = CheckLease(Hb(1s, 850ms, 3s));
  EXPECT_EQ(rule.next_write_within, 1950ms);
  EXPECT_EQ(rule.minimum, 3s);
  EXPECT_TRUE(rule.satisfied);
  EXPECT_FALSE(CheckLease(Hb(1s, 850ms, 3s - 1ns)).satisfied);
  // The tick at exactly timeout + A is the same edge: a write started any later misses it.
  EXPECT_EQ(CheckLease(Hb(1s, 900ms, 10s)).next_write_within, 2s);
  // Past timeout + 2A, no start within the allowance can miss it.
  EXPECT_EQ(CheckLease(Hb(1s, 800ms, 10s)).next_write_within, 1s);
}

TEST(LeaseRuleTest, ExactToTheNanosecond) {
  // 0.4 s is exactly 4 ticks of 0.1 s (a double division says 4.000000000000001): the tick
  // at timeout + A is the edge, and with an interval within A there is always one.
  const LeaseRule rule = CheckLease(Hb(100ms, 300ms, 1s));
  EXPECT_EQ(rule.next_write_within, 500ms);
  EXPECT_EQ(rule.minimum, 1s);
  EXPECT_TRUE(rule.satisfied);
  EXPECT_FALSE(CheckLease(Hb(100ms, 300ms, 1s - 1ns)).satisfied);
  EXPECT_EQ(CheckLease(Hb(700ms, 2s, 10s)).minimum, 2800ms + 2s + 2 * kA);  // 2.1 = 3 × 0.7, the edge
  EXPECT_EQ(CheckLease(Hb(1100ms, 2s, 10s)).minimum, 2200ms + 2s + 2 * kA);  // 2.2 = timeout + 2A: not the edge
}

TEST(LeaseRuleTest, ItImpliesTimeoutAndIntervalBelowTheLease) {
  std::mt19937_64 rng(12);
  std::uniform_int_distribution<int64_t> us(1'000, 600'000'000);
  for (int i = 0; i < 10000; ++i) {
    const Duration interval = std::chrono::microseconds(us(rng)), timeout = std::chrono::microseconds(us(rng));
    const LeaseRule rule = CheckLease(Hb(interval, timeout, 0s));
    ASSERT_GT(rule.minimum, timeout + 2 * kA);
    ASSERT_GE(rule.next_write_within, interval);
    ASSERT_GT(rule.minimum, interval);
  }
}

TEST(ExactSecondsTest, PrintsEveryNanosecondAndNoTrailingZeros) {
  EXPECT_EQ(ExactSeconds(25200ms), "25.2");
  EXPECT_EQ(ExactSeconds(180s), "180");
  EXPECT_EQ(ExactSeconds(500us), "0.0005");
  EXPECT_EQ(ExactSeconds(1s + 1ns), "1.000000001");
  EXPECT_EQ(ExactSeconds(Duration::zero()), "0");
  EXPECT_EQ(ExactSeconds(-1500ms), "-1.5");
}

// ---------------------------------------------------------------------------
// The rule against a model of the scheduler.
//
// Simulate() is Daemon::Run (src/daemon.cc) for one target, with time as plain
// numbers, driven by the REAL OnTick/OnTimeoutCheck/OnCompletion
// (storage/heartbeat_state.h), the REAL Decide/NextDecisionDeadline (fence/decide.h)
// and Derive()'s stuck_after. One loop iteration at `now`, in the daemon's order:
//   - completions pushed by `now` are handled first (WaitUntil returned them before
//     the loop came round);
//   - the timeout check at stuck_after; the tick if one is due (OnTick; next_tick then
//     steps along the fixed grid past now); Decide;
//   - the loop then waits for NextWakeup (now + interval, the next tick, the
//     outstanding write's deadline, the next lease expiry) or for the completion's
//     push, whichever is first, and runs up to A late (Choices::lateness).
// A write started at `now` (its `started` and, on success, last_success) finishes
// `latency` later, always < timeout, and its completion is pushed up to A after that
// (Choices::write). Neither the write pool nor wall time matter here.

const MonoTime kT0 = MonoTime{} + std::chrono::hours(1);

struct Choices {
  // How late the loop runs after the moment it was due: in [0, A].
  std::function<Duration(MonoTime due)> lateness;
  // For the write-th write, started at `started`, with the next grid tick at `next_tick`:
  // {latency < timeout, push delay in [0, A]}.
  std::function<std::pair<Duration, Duration>(int write, MonoTime started, MonoTime next_tick)> write;
};

struct SimResult {
  int writes = 0;               // completions handled
  int successes = 0;            // of those, lease renewals
  int timeouts = 0;             // from the timeout check or a completion: none on healthy storage
  int decisions = 0;
  int iterations = 0;
  Duration worst_gap{};         // max over renewals of push - the last_success it replaces
  Duration worst_age{};         // max now - last_success that Decide saw
};

SimResult Simulate(const HeartbeatConfig& hb, int writes, const Choices& choose,
                   std::optional<Duration> check_timeouts_after = std::nullopt) {
  const Timings tm = Derive(hb);
  const Duration stuck_after = check_timeouts_after.value_or(tm.stuck_after);
  const DecisionConfig cfg{hb.lease, hb.startup_grace, Policy::kAny};
  HeartbeatState st = HeartbeatState::Start(kT0);
  EngineState engine = EngineState::Start(kT0);
  MonoTime next_tick = kT0;  // Run(): the grid starts at the first iteration's due time
  struct Write {
    MonoTime started, finished, pushed;
  };
  std::optional<Write> flight;
  SimResult r;
  int started = 0;
  for (MonoTime due = kT0; r.writes < writes;) {
    const Duration late = choose.lateness(due);
    EXPECT_TRUE(late >= Duration::zero() && late <= kA);
    const MonoTime now = due + late;
    ++r.iterations;
    if (flight && flight->pushed <= now) {
      r.worst_gap = std::max(r.worst_gap, flight->pushed - st.last_success);
      const CompletionEffect e = OnCompletion(st, WriteResult{}, flight->started, flight->finished,
                                              WallTime{} + (flight->started - kT0), tm.timeout);
      r.successes += e.success;
      r.timeouts += e.newly_timed_out;
      ++r.writes;
      flight.reset();
    }
    r.timeouts += OnTimeoutCheck(st, now, stuck_after);
    if (now >= next_tick) {
      const MonoTime tick = next_tick;
      while (next_tick <= now) next_tick += tm.interval;
      if (OnTick(st, now) == TickAction::kStartWrite) {
        const auto [latency, push] = choose.write(started++, now, next_tick);
        EXPECT_TRUE(latency >= Duration::zero() && latency < hb.timeout);
        EXPECT_TRUE(push >= Duration::zero() && push <= kA);
        EXPECT_LE(now - tick, kA) << "a write started more than A after its tick";
        flight = Write{now, now + latency, now + latency + push};
      }
    }
    const TargetObservation obs[] = {{"sim", st.last_success, st.last_error}};
    r.worst_age = std::max(r.worst_age, now - st.last_success);
    const Step step = Decide(cfg, engine, obs, now);
    engine = step.next;
    r.decisions += step.decision.has_value();
    // NextWakeup(), then WaitUntil(): a push wakes the loop early.
    MonoTime next = std::min(now + tm.interval, next_tick);
    if (auto d = TimeoutDeadline(st, stuck_after)) next = std::min(next, *d);
    if (auto d = NextDecisionDeadline(cfg, engine, obs, now)) next = std::min(next, *d);
    if (flight) next = std::min(next, std::max(flight->pushed, now));
    due = next;
  }
  return r;
}

// Random choices that favour the edges: no delay or the whole allowance, writes a
// hair inside the timeout, and completions pushed exactly at (or 1 ns either side of)
// a grid tick, where a tick meets a completion.
class EdgeSeekingChoices {
 public:
  EdgeSeekingChoices(uint64_t seed, const HeartbeatConfig& hb) : rng_(seed), hb_(hb) {}

  Choices Get() {
    return {[this](MonoTime) { return Delay(); },
            [this](int, MonoTime started, MonoTime next_tick) { return Write(started, next_tick); }};
  }

 private:
  Duration Uniform(Duration lo, Duration hi) {  // inclusive
    return Duration(std::uniform_int_distribution<int64_t>(lo.count(), hi.count())(rng_));
  }
  int Percent() { return static_cast<int>(std::uniform_int_distribution<int>(0, 99)(rng_)); }

  Duration Delay() {
    const int p = Percent();
    return p < 35 ? Duration::zero() : p < 70 ? kA : Uniform(Duration::zero(), kA);
  }

  std::pair<Duration, Duration> Write(MonoTime started, MonoTime next_tick) {
    const Duration push = Delay();
    const Duration t = hb_.timeout;
    const int p = Percent();
    if (p < 25) return {t - 1ns, push};
    if (p < 40) return {t - Uniform(1ns, std::min<Duration>(t, 1ms)), push};
    if (p < 50) return {Uniform(Duration::zero(), std::min<Duration>(t - 1ns, 1ms)), push};
    if (p < 75) {
      // Land the push on one of the ticks this write can reach, or 1 ns either side.
      const auto reachable = (started + t + push - next_tick) / hb_.interval;
      if (reachable >= 0) {
        const MonoTime tick = next_tick + hb_.interval * std::uniform_int_distribution<int64_t>(0, reachable)(rng_);
        const Duration latency = tick - started - push + Uniform(-1ns, 1ns);
        if (latency >= Duration::zero() && latency < t) return {latency, push};
      }
    }
    return {Uniform(Duration::zero(), t - 1ns), push};
  }

  std::mt19937_64 rng_;
  HeartbeatConfig hb_;
};

// Random interval and timeout: half on a 50 ms grid (so ticks meet timeout + A and
// timeout + 2A exactly), half in arbitrary microseconds from 1 ms to 10 s; the timeout
// at most 40 intervals, so that a simulated write is a few dozen loop iterations.
HeartbeatConfig RandomTimings(std::mt19937_64& rng) {
  auto pick = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
  auto any_us = [&] {
    const int64_t decade = std::array<int64_t, 4>{1'000, 10'000, 100'000, 1'000'000}[pick(0, 3)];
    return Duration(std::chrono::microseconds(pick(decade, 10 * decade)));
  };
  const bool round = pick(0, 1) == 0;
  HeartbeatConfig hb;
  hb.interval = round ? Duration(50ms * pick(1, 100)) : any_us();
  do {
    hb.timeout = round ? Duration(50ms * pick(1, 200)) : any_us();
  } while (hb.timeout > 40 * hb.interval);
  return hb;
}

TEST(LeaseSimulationTest, WritesWithinTheTimeoutNeverLeadToADecision) {
  constexpr int kConfigs = 400, kWritesPerRun = 1500;
  std::mt19937_64 rng(20240612);
  int64_t writes = 0, iterations = 0;
  int near_the_bound = 0;  // runs whose worst gap came within 1 µs of the minimum lease
  for (int i = 0; i < kConfigs; ++i) {
    HeartbeatConfig hb = RandomTimings(rng);
    const Duration minimum = CheckLease(hb).minimum;
    // The minimum itself, and a random lease above it.
    for (Duration lease : {minimum, minimum + Duration(std::uniform_int_distribution<int64_t>(1, minimum.count())(rng))}) {
      hb.lease = lease;
      SCOPED_TRACE("interval " + ExactSeconds(hb.interval) + " timeout " + ExactSeconds(hb.timeout) + " lease " +
                   ExactSeconds(hb.lease) + " run " + std::to_string(i));
      EdgeSeekingChoices choices(rng(), hb);
      const SimResult r = Simulate(hb, kWritesPerRun, choices.Get());
      ASSERT_EQ(r.decisions, 0) << "worst age " << ExactSeconds(r.worst_age);
      ASSERT_EQ(r.timeouts, 0);
      ASSERT_EQ(r.successes, r.writes);
      ASSERT_LT(r.worst_gap, minimum) << "the derivation's bound";
      ASSERT_LT(r.worst_age, hb.lease);
      writes += r.writes;
      iterations += r.iterations;
      near_the_bound += r.worst_gap > minimum - 1us;
    }
  }
  RecordProperty("simulated_writes", std::to_string(writes));
  RecordProperty("loop_iterations", std::to_string(iterations));
  EXPECT_EQ(writes, int64_t{2} * kConfigs * kWritesPerRun);
  // The search reaches the edges, not just the easy middle: a weaker rule fails here.
  EXPECT_GE(near_the_bound, kConfigs) << "of " << 2 * kConfigs << " runs";
}

// The worst case, played on purpose: write #1 starts `s` late (0, or just late enough to
// finish past a tick: the edge), takes timeout - 1 ns, and reaches the scheduler A
// later; every tick it can miss is handled on time, so it coalesces; write #2's tick is
// handled A late, and write #2 is as slow as #1.
Choices Adversary(const HeartbeatConfig& hb) {
  const Duration i = hb.interval, t = hb.timeout;
  const Duration on_time = (t + kA + i - 1ns) / i * i;  // first tick at or after timeout + A
  const bool edge = on_time < t + 2 * kA;
  const Duration s = edge ? on_time - t - kA + 1us : Duration::zero();
  const MonoTime second_tick = kT0 + on_time + (edge ? i : Duration::zero());
  return {[=](MonoTime due) { return due == kT0 ? s : due == second_tick ? kA : Duration::zero(); },
          [=](int write, MonoTime, MonoTime) {
            return write < 2 ? std::pair{t - 1ns, kA} : std::pair{Duration(1ms) < t ? Duration(1ms) : t - 1ns, Duration::zero()};
          }};
}

TEST(LeaseSimulationTest, TheRuleIsTightALeaseJustBelowTheMinimumFailsHealthyStorage) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 2000; ++i) {
    HeartbeatConfig hb = RandomTimings(rng);
    const Duration minimum = CheckLease(hb).minimum;
    SCOPED_TRACE("interval " + ExactSeconds(hb.interval) + " timeout " + ExactSeconds(hb.timeout) + " minimum " +
                 ExactSeconds(minimum));
    hb.lease = minimum;
    const SimResult at = Simulate(hb, 4, Adversary(hb));
    ASSERT_EQ(at.decisions, 0);
    ASSERT_EQ(at.timeouts, 0);
    ASSERT_GE(at.worst_gap, minimum - 2us) << "the adversary reaches the bound";
    hb.lease = minimum - 2us;
    const SimResult below = Simulate(hb, 4, Adversary(hb));
    ASSERT_EQ(below.timeouts, 0) << "every write completed within the timeout";
    ASSERT_EQ(below.successes, below.writes);
    ASSERT_GE(below.decisions, 1);
  }
}

TEST(LeaseSimulationTest, TheReportedConfigurationsFenceHealthyStorage) {
  // interval 1 / timeout 0.5 / lease 1.001 with 1 ms writes: 3-4 decisions in 20 s.
  HeartbeatConfig fast = Hb(1s, 500ms, 1001ms);
  std::mt19937_64 rng(1);
  auto jitter = [&](MonoTime) { return Duration(std::uniform_int_distribution<int64_t>(0, 5'000'000)(rng)); };
  const SimResult r1 = Simulate(fast, 200, {jitter, [](int, MonoTime, MonoTime) { return std::pair{Duration(1ms), Duration::zero()}; }});
  EXPECT_EQ(r1.timeouts, 0);
  EXPECT_GT(r1.decisions, 10);
  // interval 0.5 / timeout 1 / lease 1.2 with 0.85 s writes, on time: a decision per write.
  HeartbeatConfig slow = Hb(500ms, 1s, 1200ms);
  const SimResult r2 = Simulate(slow, 20, {[](MonoTime) { return Duration::zero(); },
                                           [](int, MonoTime, MonoTime) { return std::pair{Duration(850ms), Duration::zero()}; }});
  EXPECT_EQ(r2.timeouts, 0);
  EXPECT_EQ(r2.successes, 20);
  EXPECT_GE(r2.decisions, 19);
  EXPECT_EQ(r2.worst_gap, 1850ms);  // the 0.5 s tick coalesced: the next write starts at 1 s
}

// Why outstanding writes are judged at timeout + A (Timings::stuck_after), not at the
// timeout: a write that finished within the timeout may still be on its way from its
// pool thread when the scheduler wakes for the deadline, and would become a timeout.
TEST(LeaseSimulationTest, CheckingOutstandingWritesAtTheTimeoutItselfTurnsOnTimeWritesIntoTimeouts) {
  std::mt19937_64 rng(3);
  int timeouts = 0, decisions = 0;
  for (int i = 0; i < 50; ++i) {
    HeartbeatConfig hb = RandomTimings(rng);
    hb.lease = CheckLease(hb).minimum;
    EdgeSeekingChoices choices(rng(), hb);
    const SimResult r = Simulate(hb, 300, choices.Get(), hb.timeout);
    timeouts += r.timeouts;
    decisions += r.decisions;
  }
  EXPECT_GT(timeouts, 0);
  EXPECT_GT(decisions, 0);
}

}  // namespace
}  // namespace hbfence
