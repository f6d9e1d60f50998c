// The hourly fence limits, from journal history: a pure function of config,
// history and now.
#include <gtest/gtest.h>

#include "fence/actions.h"

namespace hbfence {
namespace {

using namespace std::chrono_literals;

const WallTime kNow = WallTime(std::chrono::seconds(1795000000));

std::vector<JournalEntry> History(const std::string& action, std::initializer_list<std::chrono::minutes> ages) {
  std::vector<JournalEntry> out;
  for (auto age : ages) out.push_back({kNow - age, "h", action, "any", {"pool"}, ""});
  return out;
}

FenceConfig Cfg(FenceActionKind action) {
  FenceConfig c;
  c.action = action;
  return c;
}

TEST(PlanActionTest, UnderTheLimitsTheConfiguredActionRuns) {
  const auto plan = PlanAction(Cfg(FenceActionKind::kRestartAgent), History("restart-agent", {10min, 20min}), kNow);
  EXPECT_EQ(plan.run, FenceActionKind::kRestartAgent);
  EXPECT_TRUE(plan.limited.empty());
}

TEST(PlanActionTest, RestartAgentEscalatesAtItsLimit) {
  auto cfg = Cfg(FenceActionKind::kRestartAgent);
  cfg.restart_agent_escalation = FenceActionKind::kGracefulReboot;
  const auto plan = PlanAction(cfg, History("restart-agent", {10min, 20min, 30min}), kNow);
  EXPECT_EQ(plan.run, FenceActionKind::kGracefulReboot);
  ASSERT_EQ(plan.limited.size(), 1u);
  EXPECT_EQ(plan.limited[0].action, FenceActionKind::kRestartAgent);
  EXPECT_EQ(plan.limited[0].result, "rate_limited");
}

TEST(PlanActionTest, OnlyThePastHourCounts) {
  const auto plan = PlanAction(Cfg(FenceActionKind::kRestartAgent), History("restart-agent", {61min, 90min, 120min}), kNow);
  EXPECT_EQ(plan.run, FenceActionKind::kRestartAgent);
}

TEST(PlanActionTest, RebootsBeyondTheHourlyCapDegradeToLogOnly) {
  auto history = History("hard-reboot", {5min, 15min});
  auto more = History("custom", {25min});
  history.insert(history.end(), more.begin(), more.end());
  for (auto action : {FenceActionKind::kHardReboot, FenceActionKind::kGracefulReboot, FenceActionKind::kCustom}) {
    const auto plan = PlanAction(Cfg(action), history, kNow);
    EXPECT_EQ(plan.run, FenceActionKind::kLogOnly) << Name(action);
    ASSERT_EQ(plan.limited.size(), 1u);
    EXPECT_EQ(plan.limited[0].action, action);
  }
}

TEST(PlanActionTest, LogOnlyAndAgentRestartsDoNotCountAsReboots) {
  auto history = History("log-only", {1min, 2min, 3min, 4min});
  auto restarts = History("restart-agent", {5min});
  history.insert(history.end(), restarts.begin(), restarts.end());
  EXPECT_EQ(PlanAction(Cfg(FenceActionKind::kHardReboot), history, kNow).run, FenceActionKind::kHardReboot);
}

TEST(PlanActionTest, EscalatedRestartIsCappedToo) {
  auto history = History("restart-agent", {1min, 2min, 3min});
  auto reboots = History("hard-reboot", {10min, 20min, 30min});
  history.insert(history.end(), reboots.begin(), reboots.end());
  const auto plan = PlanAction(Cfg(FenceActionKind::kRestartAgent), history, kNow);
  EXPECT_EQ(plan.run, FenceActionKind::kLogOnly);
  EXPECT_EQ(plan.limited.size(), 2u);
}

TEST(PlanActionTest, ZeroMeansNoLimit) {
  auto cfg = Cfg(FenceActionKind::kHardReboot);
  cfg.max_fences_per_hour = 0;
  EXPECT_EQ(PlanAction(cfg, History("hard-reboot", {1min, 2min, 3min, 4min, 5min}), kNow).run,
            FenceActionKind::kHardReboot);
}

}  // namespace
}  // namespace hbfence
