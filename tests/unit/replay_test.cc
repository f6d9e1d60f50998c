// SPDX-License-Identifier: Apache-2.0

// Replay on histories written by hand: a healthy second of writes, a stuck write, an
// error, daemon runs that crashed or stopped. Times are whole seconds from the run's
// anchor, so each expectation can be checked against fence/timings.h by hand.
#include "src/replay.h"

#include <gtest/gtest.h>

namespace hbfence {
namespace {

using namespace std::chrono_literals;

const WallTime kWall0 = WallTime(std::chrono::seconds(1'800'000'000));
const MonoTime kMono0 = MonoTime(std::chrono::seconds(1000));

class HistoryBuilder {
 public:
  explicit HistoryBuilder(Duration run_at = 0s, Duration interval = 1s, uint16_t boot = 0) { Run(run_at, interval, boot); }
  HistoryBuilder& Run(Duration at, Duration interval = 1s, uint16_t boot = 0) {
    records_.push_back({HistoryKind::kRun, kWall0 + at, kMono0 + at, interval, WriteError::kNone, boot});
    return *this;
  }
  // A run whose wall clock is `wall_at` and CLOCK_MONOTONIC `mono_at` from the first run's anchor.
  HistoryBuilder& RunAt(Duration wall_at, Duration mono_at, uint16_t boot) {
    records_.push_back({HistoryKind::kRun, kWall0 + wall_at, kMono0 + mono_at, 1s, WriteError::kNone, boot});
    return *this;
  }
  // Healthy writes every second for `n` seconds from wall `wall_at`, mono `mono_at`.
  HistoryBuilder& HealthyAt(Duration wall_at, Duration mono_at, int n) {
    for (int i = 0; i < n; ++i) {
      records_.push_back({HistoryKind::kWrite, kWall0 + wall_at + i * 1s, kMono0 + mono_at + i * 1s, 10ms, WriteError::kNone});
    }
    return *this;
  }
  // A write ticked at `at` that completed after `took`.
  HistoryBuilder& Write(Duration at, Duration took, WriteError error = WriteError::kNone) {
    records_.push_back({HistoryKind::kWrite, kWall0 + at, kMono0 + at, took, error});
    return *this;
  }
  // Healthy writes every second in [from, to).
  HistoryBuilder& Healthy(Duration from, Duration to) {
    for (Duration t = from; t < to; t += 1s) Write(t, 10ms);
    return *this;
  }
  // The daemon's ticks while the write ticked at `at` stays stuck, from `first` to `last` (absolute).
  HistoryBuilder& Stuck(Duration at, Duration first, Duration last) {
    for (Duration t = first; t <= last; t += 1s) {
      records_.push_back({HistoryKind::kStuck, kWall0 + at, kMono0 + at, t - at, WriteError::kNone});
    }
    return *this;
  }
  HistoryBuilder& Stop(Duration at) {
    records_.push_back({HistoryKind::kStop, kWall0 + at, kMono0 + at, 0s, WriteError::kNone});
    return *this;
  }
  ReplayInput Input(std::string name = "pool") const { return {std::move(name), records_}; }

 private:
  std::vector<HistoryRecord> records_;
};

ReplaySettings Settings(Duration timeout, Duration lease, Policy policy = Policy::kAny) {
  ReplaySettings s;
  s.heartbeat.interval = 1s;
  s.heartbeat.timeout = timeout;
  s.heartbeat.lease = lease;
  s.policy = policy;
  return s;
}

std::vector<Duration> DecisionTimes(const ReplayReport& r) {
  std::vector<Duration> out;
  for (const auto& d : r.decisions) out.push_back(d.time - kWall0);
  return out;
}

// Healthy 0..9 s; the write ticked at 10 s hangs until 31 s; healthy again from 32 s.
ReplayInput StuckForTwentyOneSeconds() {
  return HistoryBuilder().Healthy(0s, 10s).Stuck(10s, 12s, 30s).Write(10s, 21s).Healthy(32s, 40s).Input();
}

TEST(ReplayTest, ADecisionLandsAtTheLeaseExpiryOfTheLastSuccess) {
  const auto input = StuckForTwentyOneSeconds();
  const auto report = Replay(Settings(1s, 5s), {&input, 1});
  // Last success: the write ticked at 9 s. Lease 5 s: the target fails at 14 s.
  EXPECT_EQ(DecisionTimes(report), std::vector<Duration>{14s});
  ASSERT_EQ(report.targets.size(), 1u);
  const auto& t = report.targets[0];
  // The stuck write timed out once (at 11.1 s), and each of the 19 ticks it held
  // (12..30 s) was a failed attempt counted as a timeout, as the daemon counts them.
  EXPECT_EQ(t.timeouts, 1u + 19u);
  EXPECT_EQ(t.attempts, 10u + 1u + 19u + 8u);
  // From the 9 s success to the renewal by the 32 s write, completed at 32.01 s.
  EXPECT_EQ(t.longest_gap.length, 23s + 10ms);
  EXPECT_TRUE(t.longest_gap.recovered);
  EXPECT_EQ(t.longest_gap.from, kWall0 + 9s);
}

TEST(ReplayTest, ALeaseLongerThanTheGapTakesNoDecisionAndOneShorterDoes) {
  const auto input = StuckForTwentyOneSeconds();
  EXPECT_TRUE(Replay(Settings(1s, 24s), {&input, 1}).decisions.empty());
  EXPECT_EQ(DecisionTimes(Replay(Settings(1s, 23s), {&input, 1})), std::vector<Duration>{32s});
}

TEST(ReplayTest, ALongerTimeoutLetsTheSlowWriteRenewTheLease) {
  const auto input = StuckForTwentyOneSeconds();
  // Within a 30 s timeout the 21 s write is a success ticked at 10 s, renewing the lease
  // at 31 s; the longest gap is then from that 10 s tick to the 32 s write's completion.
  const auto report = Replay(Settings(30s, 23s), {&input, 1});
  EXPECT_TRUE(report.decisions.empty());
  EXPECT_EQ(report.targets[0].timeouts, 0u);
  EXPECT_EQ(report.targets[0].longest_gap.length, 22s + 10ms);
  EXPECT_EQ(report.targets[0].longest_write, 21s);
}

TEST(ReplayTest, ErrorsAreCountedByReasonAndDoNotRenew) {
  auto input = HistoryBuilder().Healthy(0s, 5s).Write(5s, 5ms, WriteError::kIoError).Write(6s, 5ms, WriteError::kIoError)
                   .Write(7s, 5ms, WriteError::kNoSpace).Healthy(8s, 12s).Input();
  const auto report = Replay(Settings(1s, 3s), {&input, 1});
  EXPECT_EQ(report.targets[0].errors, (std::map<std::string, uint64_t>{{"io_error", 2}, {"no_space", 1}}));
  // Last success ticked at 4 s, the lease of 3 s ends at 7 s; the 8 s write ends the episode.
  EXPECT_EQ(DecisionTimes(report), std::vector<Duration>{7s});
}

TEST(ReplayTest, PolicyAllDecidesOnlyWhenEveryTargetFailed) {
  const auto stuck = StuckForTwentyOneSeconds();
  const auto healthy = HistoryBuilder().Healthy(0s, 40s).Input("other");
  const std::vector<ReplayInput> both{stuck, healthy};
  EXPECT_TRUE(Replay(Settings(1s, 5s, Policy::kAll), both).decisions.empty());
  const auto any = Replay(Settings(1s, 5s, Policy::kAny), both);
  ASSERT_EQ(any.decisions.size(), 1u);
  EXPECT_EQ(any.decisions[0].targets, std::vector<std::string>{"pool"});
}

TEST(ReplayTest, ACrashRestartContinuesTheLeaseAndACleanStopDoesNot) {
  // Writes until 9 s, then no daemon until 20 s; the next run writes from its start.
  const auto crashed = HistoryBuilder().Healthy(0s, 10s).Run(20s).Healthy(20s, 30s).Input();
  const auto stopped = HistoryBuilder().Healthy(0s, 10s).Stop(10s).Run(20s).Healthy(20s, 30s).Input();
  // Crash: the lease from the 9 s success expired at 17 s; the restarted daemon decides at once.
  EXPECT_EQ(DecisionTimes(Replay(Settings(1s, 8s), {&crashed, 1})), std::vector<Duration>{20s});
  // Clean stop: a fresh lease from 20 s, renewed at once.
  EXPECT_TRUE(Replay(Settings(1s, 8s), {&stopped, 1}).decisions.empty());
}

// A reload adds "b" 50 minutes into the run: its file starts with the run's marker
// from the daemon's start, but the daemon started b's lease when it joined.
TEST(ReplayTest, ATargetAddedByAReloadStartsItsLeaseWhenItJoined) {
  const auto a = HistoryBuilder().Healthy(0s, 3600s).Input("a");
  const auto b = HistoryBuilder().Healthy(3000s, 3600s).Input("b");
  const std::vector<ReplayInput> both{a, b};
  const auto report = Replay(Settings(1s, 30s), both);
  EXPECT_TRUE(report.decisions.empty());
  EXPECT_LT(report.targets[1].longest_gap.length, 2s);
  EXPECT_LT(Advise(Settings(1s, 30s), both, std::nullopt, 2.0).lease, 60s) << "not the 50 minutes before it joined";
  // Joined with a write that never completes: the lease runs from the join.
  const auto dead = HistoryBuilder().Stuck(3000s, 3002s, 3100s).Input("b");
  const std::vector<ReplayInput> with_dead{a, dead};
  EXPECT_EQ(DecisionTimes(Replay(Settings(1s, 30s), with_dead)), std::vector<Duration>{3030s});
  // Before it joined it was no target of the policy: a alone failing is all targets.
  const auto a_dies = HistoryBuilder().Healthy(0s, 100s).Stuck(100s, 102s, 3600s).Input("a");
  const std::vector<ReplayInput> all{a_dies, b};
  EXPECT_EQ(DecisionTimes(Replay(Settings(1s, 30s, Policy::kAll), all)), std::vector<Duration>{129s});
}

// A reload shortens the interval from 10 s to 1 s at 55 s: a new run, whose first tick
// still comes at the old spacing (60 s). The lease goes on from the 40 s success.
TEST(ReplayTest, AnIntervalChangeKeepsTheLeaseThoughTheFirstTickComesLate) {
  auto h = HistoryBuilder(0s, 10s);
  for (Duration t = 0s; t <= 40s; t += 10s) h.Write(t, 10ms);
  h.Write(50s, 10ms, WriteError::kIoError).Run(55s, 1s);
  for (Duration t = 60s; t < 70s; t += 1s) h.Write(t, 10ms, WriteError::kIoError);
  const auto input = h.Input();
  EXPECT_EQ(DecisionTimes(Replay(Settings(1s, 15s), {&input, 1})), std::vector<Duration>{55s});
}

// The daemon continues its leases after a crash when the lease record names this boot,
// whatever the wall clock did; replay follows the runs' boot tags the same way.
TEST(ReplayTest, TheBootTagDecidesWhetherACrashRestartContinuesTheLeases) {
  // Run 1 writes 0..9 s and crashes. Run 2 starts 20 s of CLOCK_MONOTONIC later, after
  // the wall clock was stepped an hour forward (NTP at boot).
  const auto history = [](uint16_t boot1, uint16_t boot2) {
    return HistoryBuilder(0s, 1s, boot1).Healthy(0s, 10s).RunAt(3620s, 20s, boot2).HealthyAt(3620s, 20s, 10).Input();
  };
  // Same boot: the lease from the 9 s success expired at 17 s; the restart decides at once.
  const auto same_boot = history(7, 7);
  EXPECT_EQ(DecisionTimes(Replay(Settings(1s, 8s), {&same_boot, 1})), std::vector<Duration>{3620s});
  // Without tags (an older history) the step looks like a reboot: fresh leases.
  const auto untagged = history(0, 0);
  EXPECT_TRUE(Replay(Settings(1s, 8s), {&untagged, 1}).decisions.empty());
  // Another boot whose clocks happen to line up with the first: fresh leases.
  const auto rebooted = HistoryBuilder(0s, 1s, 7).Healthy(0s, 10s).Run(20s, 1s, 8).Healthy(20s, 30s).Input();
  EXPECT_TRUE(Replay(Settings(1s, 8s), {&rebooted, 1}).decisions.empty());
}

TEST(ReplayTest, SinceLimitsWhatIsReportedNotTheState) {
  const auto input = StuckForTwentyOneSeconds();
  const auto report = Replay(Settings(1s, 5s), {&input, 1}, kWall0 + 20s);
  EXPECT_TRUE(report.decisions.empty()) << "the 14 s decision is before --since";
  EXPECT_EQ(report.targets[0].longest_gap.length, 23s + 10ms) << "the gap ends after --since";
}

TEST(ReplayTest, AnotherIntervalIsNamedNotReplayed) {
  const auto input = HistoryBuilder(0s, 2s).Healthy(0s, 5s).Input();
  const auto report = Replay(Settings(1s, 5s), {&input, 1});
  ASSERT_EQ(report.notes.size(), 1u);
  EXPECT_NE(report.notes[0].find("a different interval cannot be replayed"), std::string::npos) << report.notes[0];
}

TEST(AdviseTest, TheAdvisedLeaseOutlastsTheWorstStallWithTheMargin) {
  const auto input = StuckForTwentyOneSeconds();
  const auto current = Settings(1s, 5s);
  const Advice advice = Advise(current, {&input, 1}, std::nullopt, 2.0);
  // The slowest successful write took 21 s: timeout 42 s. Under it the longest gap is
  // 22.01 s (see above): 44.02 s with the margin, but the lease rule asks for more.
  EXPECT_EQ(advice.worst_write, 21s);
  EXPECT_EQ(advice.timeout, 42s);
  EXPECT_EQ(advice.worst_gap.length, 22s + 10ms);
  EXPECT_EQ(advice.lease, std::max<Duration>(44s, std::chrono::ceil<std::chrono::seconds>(advice.lease_rule_minimum)));
  EXPECT_TRUE(advice.confirmation.decisions.empty());
  EXPECT_EQ(advice.current_decisions, 1u);
  auto below = current;
  below.heartbeat.timeout = advice.timeout;
  below.heartbeat.lease = advice.worst_gap.length - 1ms;
  EXPECT_EQ(Replay(below, {&input, 1}).decisions.size(), 1u);
}

TEST(AdviseTest, AgentPropertiesGiveAtLeastTheAdvisedLease) {
  const auto input = StuckForTwentyOneSeconds();
  const Advice advice = Advise(Settings(1s, 5s), {&input, 1}, std::nullopt, 2.0);
  std::map<std::string, int64_t> keys;
  for (const auto& [k, v] : advice.agent_properties) keys[k] = std::stoll(v);
  ASSERT_EQ(keys.size(), 4u);
  EXPECT_EQ(keys["kvm.heartbeat.update.frequency"], 1000);
  EXPECT_EQ(keys["heartbeat.update.timeout"], 42000);
  // CloudStack's formula (docs/agent-properties.md): lease = frequency + tries × (timeout + sleep).
  const int64_t lease_ms = keys["kvm.heartbeat.update.frequency"] +
                           keys["kvm.heartbeat.update.max.tries"] *
                               (keys["heartbeat.update.timeout"] + keys["kvm.heartbeat.update.retry.sleep"]);
  EXPECT_GE(lease_ms, std::chrono::duration_cast<std::chrono::milliseconds>(advice.lease).count());
  EXPECT_LT(lease_ms, std::chrono::duration_cast<std::chrono::milliseconds>(advice.lease).count() +
                          keys["kvm.heartbeat.update.max.tries"]);
}

}  // namespace
}  // namespace hbfence
