// SPDX-License-Identifier: Apache-2.0

// Every fence action against stand-ins: a FakeFenceIo for sysrq/reboot(2)/sync, a
// recorder script for systemctl and custom scripts run by the real process runner,
// and a FakeClock so escalation waits cost nothing.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fence/actions.h"
#include "fence/executor.h"
#include "faultfs_mount.h"
#include "tests/support/fake_clock.h"
#include "tests/support/fake_fence_io.h"
#include "tests/support/temp_dir.h"

namespace hbfence {
namespace {

using namespace std::chrono_literals;
using testing::FakeClock;
using testing::FaultFsMount;
using testing::FakeFenceIo;
using testing::ReadAll;
using testing::TempDir;
using testing::WriteFile;
using testing::WriteRecorderScript;
using ::testing::ElementsAre;

class ActionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cfg.sysrq_trigger_path = dir / "sysrq";
    cfg.systemctl_path = dir / "systemctl";
    cfg.custom_script = dir / "custom.sh";
    cfg.journal_path = dir / "state" / "journal.jsonl";
    cfg.sync_grace = 200ms;
    cfg.custom_timeout = 5s;
    WriteRecorderScript(cfg.systemctl_path, dir / "systemctl.log");
  }

  // Also checks that hbfence_fence_actions_total was started at 0 for every step
  // reported (PossibleSteps), whatever the outcome.
  std::vector<ActionStep> Execute(FenceActionKind kind) {
    cfg.action = kind;
    auto steps = MakeFenceAction(cfg, deps)->Execute(decision);
    const auto possible = PossibleSteps(cfg);
    for (const auto& s : steps) {
      EXPECT_NE(std::find(possible.begin(), possible.end(), std::pair<FenceActionKind, std::string_view>{s.action, s.result}),
                possible.end())
          << Name(s.action) << "=" << s.result << " is not in PossibleSteps";
    }
    return steps;
  }

  TempDir dir;
  FenceConfig cfg;
  FakeFenceIo io;
  PosixProcessRunner runner;
  FakeClock clock;
  ActionDeps deps{io, runner, clock};
  Decision decision{{"primary-nfs"}, "test"};
};

std::vector<std::string> Results(const std::vector<ActionStep>& steps) {
  std::vector<std::string> out;
  for (const auto& s : steps) out.push_back(std::string(Name(s.action)) + "=" + s.result);
  return out;
}

TEST_F(ActionsTest, HardRebootSyncsThenWritesSysrqB) {
  const auto steps = Execute(FenceActionKind::kHardReboot);
  EXPECT_THAT(Results(steps), ElementsAre("hard-reboot=success"));
  EXPECT_THAT(io.Events(), ElementsAre("sync", "sysrq:" + cfg.sysrq_trigger_path.string() + ":b"));
}

TEST_F(ActionsTest, HardRebootDoesNotWaitForAHungSyncBeyondTheGrace) {
  io.BlockSync();
  const auto start = std::chrono::steady_clock::now();
  const auto steps = Execute(FenceActionKind::kHardReboot);
  EXPECT_THAT(Results(steps), ElementsAre("hard-reboot=success"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s) << "a hung sync must not hold the fence";
  EXPECT_EQ(io.Events().back(), "sysrq:" + cfg.sysrq_trigger_path.string() + ":b");
}

TEST_F(ActionsTest, HardRebootFallsBackToRebootSyscallWhenSysrqFails) {
  io.fail_sysrq = true;
  const auto steps = Execute(FenceActionKind::kHardReboot);
  EXPECT_THAT(Results(steps), ElementsAre("hard-reboot=failed"));
  EXPECT_EQ(io.Events().back(), "reboot");
}

TEST_F(ActionsTest, RealSysrqSeamWritesOneByteToTheConfiguredFile) {
  SystemFenceIo real;
  WriteFile(cfg.sysrq_trigger_path, "");
  ASSERT_TRUE(real.WriteSysrq(cfg.sysrq_trigger_path, 'b').ok());
  EXPECT_EQ(ReadAll(cfg.sysrq_trigger_path), "b");
  EXPECT_FALSE(real.WriteSysrq(dir / "missing", 'b').ok()) << "never creates a trigger file";
}

TEST_F(ActionsTest, GracefulRebootRunsSystemctlThenEscalatesAfterTheWait) {
  cfg.graceful_escalation = 300s;
  const auto steps = Execute(FenceActionKind::kGracefulReboot);
  EXPECT_EQ(ReadAll(dir / "systemctl.log"), "reboot\n");
  EXPECT_THAT(Results(steps), ElementsAre("graceful-reboot=escalated", "hard-reboot=success"));
  EXPECT_GE(clock.slept(), 300s);
  EXPECT_EQ(io.Events().back(), "sysrq:" + cfg.sysrq_trigger_path.string() + ":b");
}

TEST_F(ActionsTest, RestartAgentRestartsTheConfiguredUnitOnly) {
  cfg.agent_unit = "cloudstack-agent.service";
  const auto steps = Execute(FenceActionKind::kRestartAgent);
  EXPECT_THAT(Results(steps), ElementsAre("restart-agent=success"));
  EXPECT_EQ(ReadAll(dir / "systemctl.log"), "restart cloudstack-agent.service\n");
  EXPECT_TRUE(io.Events().empty());
}

TEST_F(ActionsTest, RestartAgentReportsAFailingSystemctl) {
  WriteRecorderScript(cfg.systemctl_path, dir / "systemctl.log", "exit 5\n");
  EXPECT_THAT(Results(Execute(FenceActionKind::kRestartAgent)), ElementsAre("restart-agent=failed"));
}

TEST_F(ActionsTest, LogOnlyTouchesNothing) {
  EXPECT_THAT(Results(Execute(FenceActionKind::kLogOnly)), ElementsAre("log-only=logged"));
  EXPECT_TRUE(io.Events().empty());
  EXPECT_FALSE(std::filesystem::exists(dir / "systemctl.log"));
}

TEST_F(ActionsTest, CustomScriptGetsTheFailedTargetAsItsArgument) {
  WriteRecorderScript(cfg.custom_script, dir / "custom.log");
  EXPECT_THAT(Results(Execute(FenceActionKind::kCustom)), ElementsAre("custom=success"));
  EXPECT_EQ(ReadAll(dir / "custom.log"), "primary-nfs\n");
  EXPECT_TRUE(io.Events().empty());
}

TEST_F(ActionsTest, CustomScriptArgumentIsNeverParsedByAShell) {
  decision.failed_targets = {"pool; touch " + (dir / "pwned").string()};
  WriteFile(cfg.custom_script, "#!/bin/sh\nprintf '%s\\n' \"$1\" > '" + (dir / "arg").string() + "'\n", 0755);
  EXPECT_THAT(Results(Execute(FenceActionKind::kCustom)), ElementsAre("custom=success"));
  EXPECT_EQ(ReadAll(dir / "arg"), decision.failed_targets[0] + "\n");
  EXPECT_FALSE(std::filesystem::exists(dir / "pwned"));
}

TEST_F(ActionsTest, CustomScriptMissingFallsBackToHardReboot) {
  EXPECT_THAT(Results(Execute(FenceActionKind::kCustom)), ElementsAre("custom=refused", "hard-reboot=success"));
  EXPECT_EQ(io.Events().back(), "sysrq:" + cfg.sysrq_trigger_path.string() + ":b");
}

TEST_F(ActionsTest, CustomScriptNotExecutableIsRefused) {
  WriteRecorderScript(cfg.custom_script, dir / "custom.log");
  ::chmod(cfg.custom_script.c_str(), 0644);
  EXPECT_THAT(Results(Execute(FenceActionKind::kCustom)), ElementsAre("custom=refused", "hard-reboot=success"));
  EXPECT_FALSE(std::filesystem::exists(dir / "custom.log"));
}

TEST_F(ActionsTest, CustomScriptWritableByOthersIsRefused) {
  for (mode_t mode : {0775, 0757}) {
    WriteRecorderScript(cfg.custom_script, dir / "custom.log");
    ::chmod(cfg.custom_script.c_str(), mode);
    EXPECT_NE(CustomScriptProblem(cfg.custom_script).find("writable"), std::string::npos);
    EXPECT_THAT(Results(Execute(FenceActionKind::kCustom)), ElementsAre("custom=refused", "hard-reboot=success"));
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "custom.log"));
}

TEST_F(ActionsTest, CustomScriptNotOwnedByRootIsRefused) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to chown";
  WriteRecorderScript(cfg.custom_script, dir / "custom.log");
  ASSERT_EQ(::chown(cfg.custom_script.c_str(), 65534, 65534), 0);
  EXPECT_NE(CustomScriptProblem(cfg.custom_script).find("not owned by root"), std::string::npos);
  EXPECT_THAT(Results(Execute(FenceActionKind::kCustom)), ElementsAre("custom=refused", "hard-reboot=success"));
}

TEST_F(ActionsTest, CustomScriptFailureFallsBack) {
  WriteRecorderScript(cfg.custom_script, dir / "custom.log", "exit 3\n");
  EXPECT_THAT(Results(Execute(FenceActionKind::kCustom)), ElementsAre("custom=failed", "hard-reboot=success"));
}

TEST_F(ActionsTest, HangingCustomScriptIsKilledWithItsChildrenThenFallsBack) {
  cfg.custom_timeout = 300ms;
  // The script leaves a grandchild behind; killing the process group must get it too.
  WriteFile(cfg.custom_script,
            "#!/bin/sh\nsleep 1000 &\necho $! > '" + (dir / "child.pid").string() + "'\nwait\n", 0755);
  EXPECT_THAT(Results(Execute(FenceActionKind::kCustom)), ElementsAre("custom=timeout", "hard-reboot=success"));
  const pid_t child = std::stoi(ReadAll(dir / "child.pid"));
  // The grandchild was SIGKILLed; once reparented and reaped it is gone. A zombie
  // counts as dead too.
  const std::string stat = ReadAll("/proc/" + std::to_string(child) + "/stat");
  EXPECT_TRUE(stat.empty() || stat.find(") Z") != std::string::npos) << stat;
}

// A hard-reboot executor against stand-ins, recording what its callbacks saw.
class FenceExecutorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cfg->action = FenceActionKind::kHardReboot;
    cfg->journal_path = dir / "var" / "journal.jsonl";
    cfg->sysrq_trigger_path = dir / "sysrq";
    cfg->sync_grace = 100ms;
  }

  void SubmitAndAwaitTheAction() {
    executor.Submit(cfg, {FenceActionKind::kHardReboot, {}}, entry, Decision{{"primary-nfs"}, "lease expired"});
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 20s, [&] { return !steps.empty(); }));
  }

  TempDir dir;
  std::shared_ptr<FenceConfig> cfg = std::make_shared<FenceConfig>();
  FakeFenceIo io;
  PosixProcessRunner runner;
  FakeClock clock;
  JournalEntry entry{clock.WallNow(), "10.1.34.125", "hard-reboot", "any", {"primary-nfs"}, "lease expired"};
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> steps;
  std::optional<Status> journaled;
  FenceJournal journal;
  FenceExecutor executor{{io, runner, clock},
                         journal,
                         {.on_journal =
                              [this](const Status& s, const JournalEntry&) {
                                std::lock_guard lock(mu);
                                journaled = s;
                              },
                          .on_step = [this](const ActionStep& step) {
                            std::lock_guard lock(mu);
                            steps.push_back(std::string(Name(step.action)) + "=" + step.result);
                            cv.notify_all();
                          }}};
};

TEST_F(FenceExecutorTest, JournalIsDurableBeforeTheSysrqWrite) {
  std::string journal_at_sysrq;
  io.before_sysrq = [&] { journal_at_sysrq = ReadAll(cfg->journal_path); };
  SubmitAndAwaitTheAction();
  {
    std::lock_guard lock(mu);
    ASSERT_TRUE(journaled);
    EXPECT_TRUE(journaled->ok());
    EXPECT_THAT(steps, ElementsAre("hard-reboot=success"));
  }
  EXPECT_EQ(journal_at_sysrq, ToJsonLine(entry) + "\n") << "the entry must be on disk before sysrq is touched";
  ASSERT_TRUE(executor.StopWithin(5s));
  ASSERT_TRUE(journal.StopWithin(5s));
}

// The journal's filesystem hangs in the kernel: the sysrq write still comes, after
// the journal timeout, and the failed append is reported.
TEST_F(FenceExecutorTest, HungJournalDelaysTheRebootOnlyByTheJournalTimeout) {
  std::string why;
  if (!FaultFsMount::Available(&why)) GTEST_SKIP() << why;
  auto fs = FaultFsMount::Start(dir / "fuse", &why);
  ASSERT_TRUE(fs) << why;
  ASSERT_TRUE(fs->SetMode("hang@all", &why)) << why;
  cfg->journal_path = fs->mount_point() / "journal.jsonl";
  cfg->journal_timeout = 300ms;
  SubmitAndAwaitTheAction();
  {
    std::lock_guard lock(mu);
    ASSERT_TRUE(journaled);
    ASSERT_FALSE(journaled->ok());
    EXPECT_THAT(journaled->error(), ::testing::HasSubstr("did not finish within 0.3 s"));
    EXPECT_THAT(steps, ElementsAre("hard-reboot=success"));
  }
  EXPECT_THAT(io.Events(), ::testing::Contains("sysrq:" + cfg->sysrq_trigger_path.string() + ":b"));
  EXPECT_TRUE(executor.StopWithin(5s));
  EXPECT_FALSE(journal.StopWithin(0s)) << "the append is still stuck in the kernel";
  fs.reset();  // releases the hung request
}

}  // namespace
}  // namespace hbfence
