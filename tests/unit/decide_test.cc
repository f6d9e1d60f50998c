// SPDX-License-Identifier: Apache-2.0

// fence/decide.h: the pure decision engine. Every lease edge is a plain time point.
#include "fence/decide.h"

#include <chrono>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace hbfence {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const MonoTime t0{};

DecisionConfig Cfg(Policy policy, Duration lease = 60s, Duration grace = Duration::zero()) {
  return DecisionConfig{lease, grace, policy};
}

// n targets named t0..t(n-1), all last successful at `last`.
std::vector<TargetObservation> Targets(size_t n, MonoTime last = t0) {
  static const char* const kNames[] = {"t0", "t1", "t2", "t3", "t4", "t5"};
  std::vector<TargetObservation> obs;
  for (size_t i = 0; i < n; ++i) obs.push_back({kNames[i], last, ""});
  return obs;
}

// Marks the first `failed` targets as last successful at t0 and the rest at `fresh`.
void FailFirst(std::vector<TargetObservation>& obs, size_t failed, MonoTime fresh) {
  for (size_t i = 0; i < obs.size(); ++i) obs[i].last_success = i < failed ? t0 : fresh;
}

bool Decides(Policy policy, size_t total, size_t failed) {
  auto obs = Targets(total);
  FailFirst(obs, failed, t0 + 30s);
  const Step s = Decide(Cfg(policy), EngineState::Start(t0), obs, t0 + 60s);
  return s.decision.has_value();
}

TEST(TargetFailedTest, LeaseEdgeIsInclusive) {
  EXPECT_FALSE(TargetFailed(60s, t0, t0));
  EXPECT_FALSE(TargetFailed(60s, t0, t0 + 59999ms));
  EXPECT_FALSE(TargetFailed(60s, t0, t0 + 60s - 1ns));
  EXPECT_TRUE(TargetFailed(60s, t0, t0 + 60s));
  EXPECT_TRUE(TargetFailed(60s, t0, t0 + 3600s));
  EXPECT_FALSE(TargetFailed(60s, t0 + 10s, t0 + 69s));
  EXPECT_TRUE(TargetFailed(60s, t0 + 10s, t0 + 70s));
}

TEST(EngineStateTest, StartIsIdle) {
  const EngineState s = EngineState::Start(t0 + 5s);
  EXPECT_EQ(s.started, t0 + 5s);
  EXPECT_FALSE(s.host_failing);
  EXPECT_FALSE(s.decided);
}

TEST(DecideTest, AnyLeaseEdgeExactly) {
  const auto obs = Targets(1);
  const EngineState st = EngineState::Start(t0);

  const Step before = Decide(Cfg(Policy::kAny), st, obs, t0 + 59999ms);
  EXPECT_FALSE(before.decision.has_value());
  EXPECT_FALSE(before.next.host_failing);
  EXPECT_FALSE(before.episode_ended);

  const Step just_before = Decide(Cfg(Policy::kAny), st, obs, t0 + 60s - 1ns);
  EXPECT_FALSE(just_before.decision.has_value());

  const Step at = Decide(Cfg(Policy::kAny), st, obs, t0 + 60s);
  ASSERT_TRUE(at.decision.has_value());
  EXPECT_TRUE(at.next.host_failing);
  EXPECT_TRUE(at.next.decided);
  EXPECT_FALSE(at.episode_ended);
  EXPECT_THAT(at.decision->failed_targets, ElementsAre("t0"));
}

// A reload's lease floor lengthens one target's lease (never shortens it), and the
// wake-up deadline follows it.
TEST(DecideTest, ALeaseFloorHoldsItsTargetLonger) {
  auto obs = Targets(2);
  obs[0].lease_floor = 90s;
  obs[1].last_success = t0 + 40s;
  const auto st = EngineState::Start(t0);
  EXPECT_FALSE(Decide(Cfg(Policy::kAny), st, obs, t0 + 89s).decision.has_value());
  EXPECT_EQ(NextDecisionDeadline(Cfg(Policy::kAny), st, obs, t0 + 89s), t0 + 90s);
  const Step at = Decide(Cfg(Policy::kAny), st, obs, t0 + 90s);
  ASSERT_TRUE(at.decision.has_value());
  EXPECT_THAT(at.decision->failed_targets, ElementsAre("t0"));
  obs[0].lease_floor = 30s;  // shorter than the lease: the lease holds
  EXPECT_FALSE(Decide(Cfg(Policy::kAny), st, obs, t0 + 59s).decision.has_value());
}

DecisionConfig TargetScope(Duration grace = Duration::zero()) {
  DecisionConfig c = Cfg(Policy::kAll, 60s, grace);  // the policy plays no part
  c.scope = Scope::kTarget;
  return c;
}

// destroy-vms: each target's lease failure is its own decision, once per failure of
// that target; the episode (and fence_pending) lasts while any decision stands.
TEST(DecideTest, TargetScopeDecidesOncePerFailedTarget) {
  auto obs = Targets(3);
  obs[1].last_success = t0 + 30s;
  obs[2].last_success = t0 + 500s;
  EngineState st = EngineState::Start(t0);
  Step s = Decide(TargetScope(), st, obs, t0 + 60s);
  ASSERT_TRUE(s.decision);
  EXPECT_THAT(s.decision->failed_targets, ElementsAre("t0"));
  EXPECT_THAT(s.decision->reason, HasSubstr("target scope"));
  EXPECT_TRUE(s.next.decided);
  st = s.next;
  EXPECT_FALSE(Decide(TargetScope(), st, obs, t0 + 89s).decision) << "t0 stands; t1 not failed yet";
  s = Decide(TargetScope(), st, obs, t0 + 90s);
  ASSERT_TRUE(s.decision);
  EXPECT_THAT(s.decision->failed_targets, ElementsAre("t1"));
  st = s.next;
  EXPECT_THAT(st.decided_targets, ElementsAre("t0", "t1"));
  // t0 recovers: its episode ends, t1's stands; a later failure of t0 decides again.
  obs[0].last_success = t0 + 100s;
  s = Decide(TargetScope(), st, obs, t0 + 101s);
  EXPECT_FALSE(s.decision);
  EXPECT_FALSE(s.episode_ended);
  EXPECT_THAT(s.next.decided_targets, ElementsAre("t1"));
  st = s.next;
  s = Decide(TargetScope(), st, obs, t0 + 160s);
  ASSERT_TRUE(s.decision);
  EXPECT_THAT(s.decision->failed_targets, ElementsAre("t0"));
  st = s.next;
  obs[0].last_success = obs[1].last_success = t0 + 170s;
  s = Decide(TargetScope(), st, obs, t0 + 171s);
  EXPECT_TRUE(s.episode_ended);
  EXPECT_FALSE(s.next.decided);
}

TEST(DecideTest, TargetScopeOwesOneDecisionPerCall) {
  const auto obs = Targets(2);
  EngineState st = EngineState::Start(t0);
  std::vector<std::string> decided;
  for (Step s = Decide(TargetScope(), st, obs, t0 + 60s); s.decision; s = Decide(TargetScope(), st, obs, t0 + 60s)) {
    decided.push_back(s.decision->failed_targets.at(0));
    st = s.next;
  }
  EXPECT_THAT(decided, ElementsAre("t0", "t1"));
}

TEST(DecideTest, TargetScopeKeepsTheStartupGrace) {
  const auto obs = Targets(1);
  const auto st = EngineState::Start(t0);
  EXPECT_FALSE(Decide(TargetScope(120s), st, obs, t0 + 100s).decision);
  EXPECT_TRUE(Decide(TargetScope(120s), st, obs, t0 + 120s).decision);
}

TEST(DecideTest, AnyWithOneOfThreeFailed) {
  EXPECT_FALSE(Decides(Policy::kAny, 3, 0));
  EXPECT_TRUE(Decides(Policy::kAny, 3, 1));
  EXPECT_TRUE(Decides(Policy::kAny, 3, 3));
}

TEST(DecideTest, AllNeedsEveryTarget) {
  EXPECT_FALSE(Decides(Policy::kAll, 2, 1));
  EXPECT_TRUE(Decides(Policy::kAll, 2, 2));
  EXPECT_FALSE(Decides(Policy::kAll, 3, 2));
  EXPECT_TRUE(Decides(Policy::kAll, 3, 3));
  EXPECT_TRUE(Decides(Policy::kAll, 1, 1));
}

TEST(DecideTest, AllLeaseEdgeUsesTheLastTargetToExpire) {
  std::vector<TargetObservation> obs = {{"a", t0, ""}, {"b", t0 + 5s, ""}};
  const EngineState st = EngineState::Start(t0);
  EXPECT_FALSE(Decide(Cfg(Policy::kAll), st, obs, t0 + 60s).decision.has_value());
  EXPECT_FALSE(Decide(Cfg(Policy::kAll), st, obs, t0 + 64999ms).decision.has_value());
  const Step s = Decide(Cfg(Policy::kAll), st, obs, t0 + 65s);
  ASSERT_TRUE(s.decision.has_value());
  EXPECT_THAT(s.decision->failed_targets, ElementsAre("a", "b"));
}

TEST(DecideTest, QuorumWithThreeTargets) {
  EXPECT_FALSE(Decides(Policy::kQuorum, 3, 1));
  EXPECT_TRUE(Decides(Policy::kQuorum, 3, 2));
  EXPECT_TRUE(Decides(Policy::kQuorum, 3, 3));
}

TEST(DecideTest, QuorumWithTwoTargets) {
  EXPECT_FALSE(Decides(Policy::kQuorum, 2, 1));
  EXPECT_TRUE(Decides(Policy::kQuorum, 2, 2));
}

TEST(DecideTest, QuorumWithFourTargets) {
  EXPECT_FALSE(Decides(Policy::kQuorum, 4, 1));
  EXPECT_FALSE(Decides(Policy::kQuorum, 4, 2));
  EXPECT_TRUE(Decides(Policy::kQuorum, 4, 3));
}

TEST(DecideTest, QuorumWithOneTarget) {
  EXPECT_FALSE(Decides(Policy::kQuorum, 1, 0));
  EXPECT_TRUE(Decides(Policy::kQuorum, 1, 1));
}

TEST(DecideTest, ZeroTargetsNeverDecide) {
  const std::vector<TargetObservation> none;
  for (auto policy : {Policy::kAny, Policy::kAll, Policy::kQuorum}) {
    EngineState st = EngineState::Start(t0);
    for (auto now : {t0, t0 + 60s, t0 + 3600s, t0 + 86400s}) {
      const Step s = Decide(Cfg(policy), st, none, now);
      EXPECT_FALSE(s.decision.has_value()) << Name(policy);
      EXPECT_FALSE(s.next.host_failing);
      EXPECT_FALSE(s.episode_ended);
      st = s.next;
    }
  }
}

TEST(DecideTest, NoDecisionInsideStartupGrace) {
  const auto cfg = Cfg(Policy::kAny, 60s, 120s);
  const auto obs = Targets(1);
  EngineState st = EngineState::Start(t0);

  Step s = Decide(cfg, st, obs, t0 + 60s);  // the lease has expired, but grace runs until 120 s
  EXPECT_FALSE(s.decision.has_value());
  EXPECT_TRUE(s.next.host_failing);
  EXPECT_FALSE(s.next.decided);
  st = s.next;

  s = Decide(cfg, st, obs, t0 + 119999ms);
  EXPECT_FALSE(s.decision.has_value());
  EXPECT_TRUE(s.next.host_failing);
  st = s.next;

  s = Decide(cfg, st, obs, t0 + 120s);  // the grace ends and the target still fails
  ASSERT_TRUE(s.decision.has_value());
  EXPECT_THAT(s.decision->failed_targets, ElementsAre("t0"));
  EXPECT_TRUE(s.next.decided);
}

TEST(DecideTest, GraceEndsBeforeTheLease) {
  const auto cfg = Cfg(Policy::kAny, 60s, 30s);
  const auto obs = Targets(1);
  const EngineState st = EngineState::Start(t0);
  EXPECT_FALSE(Decide(cfg, st, obs, t0 + 30s).decision.has_value());  // not failed yet
  EXPECT_FALSE(Decide(cfg, st, obs, t0 + 59999ms).decision.has_value());
  EXPECT_TRUE(Decide(cfg, st, obs, t0 + 60s).decision.has_value());
}

TEST(DecideTest, GraceCountsFromEngineStartNotFromZero) {
  const MonoTime start = t0 + 1000s;
  const auto cfg = Cfg(Policy::kAny, 60s, 120s);
  const auto obs = Targets(1, start);
  const EngineState st = EngineState::Start(start);
  EXPECT_FALSE(Decide(cfg, st, obs, start + 119s).decision.has_value());
  EXPECT_TRUE(Decide(cfg, st, obs, start + 120s).decision.has_value());
}

TEST(DecideTest, RecoveryInsideGraceEndsTheEpisodeWithoutADecision) {
  const auto cfg = Cfg(Policy::kAny, 60s, 120s);
  auto obs = Targets(1);
  Step s = Decide(cfg, EngineState::Start(t0), obs, t0 + 61s);
  EXPECT_TRUE(s.next.host_failing);
  obs[0].last_success = t0 + 62s;
  s = Decide(cfg, s.next, obs, t0 + 63s);
  EXPECT_FALSE(s.decision.has_value());
  EXPECT_TRUE(s.episode_ended);
  EXPECT_FALSE(s.next.host_failing);
}

TEST(DecideTest, OneDecisionPerEpisode) {
  const auto cfg = Cfg(Policy::kAny);
  const auto obs = Targets(2);
  Step s = Decide(cfg, EngineState::Start(t0), obs, t0 + 60s);
  ASSERT_TRUE(s.decision.has_value());
  for (auto now : {t0 + 60s, t0 + 61s, t0 + 65s, t0 + 120s, t0 + 3600s}) {
    s = Decide(cfg, s.next, obs, now);
    EXPECT_FALSE(s.decision.has_value());
    EXPECT_FALSE(s.episode_ended);
    EXPECT_TRUE(s.next.host_failing);
    EXPECT_TRUE(s.next.decided);
  }
}

TEST(DecideTest, MoreTargetsFailingInTheSameEpisodeDoNotDecideAgain) {
  const auto cfg = Cfg(Policy::kAny);
  std::vector<TargetObservation> obs = {{"a", t0, ""}, {"b", t0 + 20s, ""}};
  Step s = Decide(cfg, EngineState::Start(t0), obs, t0 + 60s);
  ASSERT_TRUE(s.decision.has_value());
  EXPECT_THAT(s.decision->failed_targets, ElementsAre("a"));
  s = Decide(cfg, s.next, obs, t0 + 80s);  // b fails too
  EXPECT_FALSE(s.decision.has_value());
}

TEST(DecideTest, RecoveryEndsTheEpisodeAndALaterFailureDecidesAgain) {
  const auto cfg = Cfg(Policy::kAny);
  auto obs = Targets(1);
  Step s = Decide(cfg, EngineState::Start(t0), obs, t0 + 60s);
  ASSERT_TRUE(s.decision.has_value());

  obs[0].last_success = t0 + 70s;  // storage came back
  s = Decide(cfg, s.next, obs, t0 + 71s);
  EXPECT_FALSE(s.decision.has_value());
  EXPECT_TRUE(s.episode_ended);
  EXPECT_FALSE(s.next.host_failing);
  EXPECT_FALSE(s.next.decided);

  s = Decide(cfg, s.next, obs, t0 + 72s);  // reported once only
  EXPECT_FALSE(s.episode_ended);
  EXPECT_FALSE(s.decision.has_value());

  s = Decide(cfg, s.next, obs, t0 + 129999ms);
  EXPECT_FALSE(s.decision.has_value());
  s = Decide(cfg, s.next, obs, t0 + 130s);  // a new episode: 60 s after the last success
  ASSERT_TRUE(s.decision.has_value());
  EXPECT_FALSE(s.episode_ended);
  EXPECT_TRUE(s.next.decided);
}

TEST(DecideTest, QuorumRecoveryBelowThresholdEndsTheEpisode) {
  const auto cfg = Cfg(Policy::kQuorum);
  auto obs = Targets(3);
  FailFirst(obs, 2, t0 + 30s);
  Step s = Decide(cfg, EngineState::Start(t0), obs, t0 + 60s);
  ASSERT_TRUE(s.decision.has_value());
  obs[0].last_success = t0 + 61s;  // one recovers: 1 of 3 failed is no quorum
  s = Decide(cfg, s.next, obs, t0 + 62s);
  EXPECT_TRUE(s.episode_ended);
  EXPECT_FALSE(s.next.host_failing);
}

TEST(DecideTest, NoEpisodeEndWithoutAnEpisode) {
  const auto obs = Targets(1);
  const Step s = Decide(Cfg(Policy::kAny), EngineState::Start(t0), obs, t0 + 10s);
  EXPECT_FALSE(s.episode_ended);
  EXPECT_FALSE(s.decision.has_value());
}

TEST(DecideTest, DecisionListsOnlyTheFailedTargetsAndNamesThemInTheReason) {
  std::vector<TargetObservation> obs = {
      {"nfs-a", t0, "timeout"}, {"local", t0 + 50s, ""}, {"nfs-b", t0 + 2s, "io_error"}};
  const Step s = Decide(Cfg(Policy::kQuorum), EngineState::Start(t0), obs, t0 + 62s);
  ASSERT_TRUE(s.decision.has_value());
  EXPECT_THAT(s.decision->failed_targets, ElementsAre("nfs-a", "nfs-b"));
  const std::string& r = s.decision->reason;
  EXPECT_THAT(r, HasSubstr("policy quorum"));
  EXPECT_THAT(r, HasSubstr("2 of 3"));
  EXPECT_THAT(r, HasSubstr("60s"));
  EXPECT_THAT(r, HasSubstr("nfs-a: 62s"));
  EXPECT_THAT(r, HasSubstr("nfs-b: 60s"));
  EXPECT_THAT(r, HasSubstr("timeout"));
  EXPECT_THAT(r, HasSubstr("io_error"));
  EXPECT_THAT(r, ::testing::Not(HasSubstr("local")));
  EXPECT_EQ(r.find('\n'), std::string::npos) << "one line";
}

TEST(NextDecisionDeadlineTest, EarliestLeaseExpiryAfterNow) {
  const auto cfg = Cfg(Policy::kAny);
  std::vector<TargetObservation> obs = {{"a", t0 + 10s, ""}, {"b", t0, ""}, {"c", t0 + 5s, ""}};
  const EngineState st = EngineState::Start(t0);
  EXPECT_EQ(NextDecisionDeadline(cfg, st, obs, t0 + 1s), t0 + 60s);
  EXPECT_EQ(NextDecisionDeadline(cfg, st, obs, t0 + 60s - 1ns), t0 + 60s);
  // Strictly after now: an expiry at `now` is already past.
  EXPECT_EQ(NextDecisionDeadline(cfg, st, obs, t0 + 60s), t0 + 65s);
  EXPECT_EQ(NextDecisionDeadline(cfg, st, obs, t0 + 65s), t0 + 70s);
  EXPECT_EQ(NextDecisionDeadline(cfg, st, obs, t0 + 70s), std::nullopt);
  EXPECT_EQ(NextDecisionDeadline(cfg, st, obs, t0 + 1000s), std::nullopt);
}

TEST(NextDecisionDeadlineTest, GraceEndIsADeadline) {
  const auto cfg = Cfg(Policy::kAny, 60s, 120s);
  const auto obs = Targets(1);
  const EngineState st = EngineState::Start(t0);
  EXPECT_EQ(NextDecisionDeadline(cfg, st, obs, t0), t0 + 60s);
  EXPECT_EQ(NextDecisionDeadline(cfg, st, obs, t0 + 60s), t0 + 120s);
  EXPECT_EQ(NextDecisionDeadline(cfg, st, obs, t0 + 119s), t0 + 120s);
  EXPECT_EQ(NextDecisionDeadline(cfg, st, obs, t0 + 120s), std::nullopt);

  // A grace shorter than the lease comes first.
  EXPECT_EQ(NextDecisionDeadline(Cfg(Policy::kAny, 60s, 30s), st, obs, t0), t0 + 30s);
  // With no targets the grace end is the only deadline.
  const std::vector<TargetObservation> none;
  EXPECT_EQ(NextDecisionDeadline(cfg, st, none, t0 + 1s), t0 + 120s);
  EXPECT_EQ(NextDecisionDeadline(Cfg(Policy::kAny), st, none, t0 + 1s), std::nullopt);
}

TEST(NextDecisionDeadlineTest, TheDeadlineIsWhenDecideChangesItsAnswer) {
  const auto cfg = Cfg(Policy::kAny, 60s, 90s);
  std::vector<TargetObservation> obs = {{"a", t0 + 7s, ""}, {"b", t0 + 3s, ""}};
  EngineState st = EngineState::Start(t0);
  MonoTime now = t0 + 1s;
  // Walk from deadline to deadline: Decide() only decides on one of them.
  std::vector<MonoTime> seen;
  int decisions = 0;
  while (auto next = NextDecisionDeadline(cfg, st, obs, now)) {
    ASSERT_GT(*next, now);
    EXPECT_FALSE(Decide(cfg, st, obs, *next - 1ns).decision.has_value());
    const Step s = Decide(cfg, st, obs, *next);
    if (s.decision) {
      ++decisions;
      EXPECT_EQ(*next, t0 + 90s);  // both leases expired at 63 s and 67 s, grace ends at 90 s
    }
    st = s.next;
    seen.push_back(*next);
    now = *next;
    ASSERT_LT(seen.size(), 10u);
  }
  EXPECT_EQ(decisions, 1);
  EXPECT_THAT(seen, ElementsAre(t0 + 63s, t0 + 67s, t0 + 90s));
}

}  // namespace
}  // namespace hbfence
