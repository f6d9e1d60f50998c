// SPDX-License-Identifier: Apache-2.0

// The hourly fence limits, from journal history: a pure function of config,
// history and now.
#include <algorithm>

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

std::vector<std::string> Steps(const FenceConfig& cfg) {
  std::vector<std::string> out;
  for (const auto& [action, result] : PossibleSteps(cfg)) out.push_back(std::string(Name(action)) + "=" + std::string(result));
  return out;
}

TEST(PossibleStepsTest, EachActionItsResultsFallbacksAndLimits) {
  using V = std::vector<std::string>;
  EXPECT_EQ(Steps(Cfg(FenceActionKind::kLogOnly)), V{"log-only=logged"});
  EXPECT_EQ(Steps(Cfg(FenceActionKind::kHardReboot)),
            (V{"hard-reboot=success", "hard-reboot=failed", "hard-reboot=rate_limited", "log-only=logged"}));
  auto custom = Cfg(FenceActionKind::kCustom);
  custom.max_fences_per_hour = 0;
  EXPECT_EQ(Steps(custom), (V{"custom=success", "custom=failed", "custom=timeout", "custom=refused",
                              "hard-reboot=success", "hard-reboot=failed"}));
  auto agent = Cfg(FenceActionKind::kRestartAgent);
  agent.restart_agent_escalation = FenceActionKind::kGracefulReboot;
  EXPECT_EQ(Steps(agent), (V{"restart-agent=success", "restart-agent=failed", "restart-agent=timeout",
                             "restart-agent=rate_limited", "graceful-reboot=escalated", "hard-reboot=success",
                             "hard-reboot=failed", "graceful-reboot=rate_limited", "log-only=logged"}));
  agent.restart_agent_max_per_hour = 0;
  EXPECT_EQ(Steps(agent), (V{"restart-agent=success", "restart-agent=failed", "restart-agent=timeout"}));
}

// Whatever the history, the steps PlanAction reports were started at 0, and no
// configuration starts more than the 12 the header promises.
TEST(PossibleStepsTest, CoverEveryPlanAndStayBounded) {
  const FenceActionKind all[] = {FenceActionKind::kHardReboot, FenceActionKind::kGracefulReboot,
                                 FenceActionKind::kRestartAgent, FenceActionKind::kLogOnly, FenceActionKind::kCustom};
  for (auto action : all) {
    for (auto escalation : all) {
      for (int limit : {0, 1}) {
        auto cfg = Cfg(action);
        cfg.restart_agent_escalation = escalation;
        cfg.restart_agent_max_per_hour = limit;
        cfg.max_fences_per_hour = limit;
        const auto possible = Steps(cfg);
        EXPECT_LE(possible.size(), 12u);
        auto history = History("restart-agent", {5min});
        auto reboots = History("hard-reboot", {10min});
        history.insert(history.end(), reboots.begin(), reboots.end());
        for (const auto& step : PlanAction(cfg, history, kNow).limited) {
          const std::string s = std::string(Name(step.action)) + "=" + step.result;
          EXPECT_NE(std::find(possible.begin(), possible.end(), s), possible.end()) << s;
        }
      }
    }
  }
}

}  // namespace
}  // namespace hbfence
