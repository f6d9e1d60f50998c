// SPDX-License-Identifier: Apache-2.0

// src/fence_command.h: the fence without a daemon (`hbfence fence` when the daemon
// does not answer) over a temp journal, the fake FenceIo and recorder scripts: the
// daemon's limits, journal-first order and actions, and the exit statuses the
// CloudStack drop-ins act on.
#include "src/fence_command.h"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include "src/sys/hypervisor.h"
#include "src/sys/process_runner.h"

#include "tests/support/fake_clock.h"
#include "tests/support/fake_fence_io.h"
#include "tests/support/temp_dir.h"

namespace hbfence {
namespace {

using namespace std::chrono_literals;
using testing::FakeClock;
using testing::FakeFenceIo;
using testing::ReadAll;
using testing::TempDir;
using testing::WriteFile;
using testing::WriteRecorderScript;

class FenceWithoutDaemonTest : public ::testing::Test {
 protected:
  FenceWithoutDaemonTest() {
    cfg.host.id = "10.0.0.21";
    cfg.fence.action = FenceActionKind::kHardReboot;
    cfg.fence.journal_path = dir / "state" / "fence-journal.jsonl";
    cfg.fence.sysrq_trigger_path = dir / "sysrq";
    // The fake's sync returns at once: a grace longer than that makes "sync, then
    // sysrq" deterministic (with 0 s the sysrq raced the sync thread's start, and lost
    // every time once the binary was linked -z now).
    cfg.fence.sync_grace = 10s;
    cfg.fence.systemctl_path = dir / "systemctl";
    cfg.targets.push_back(TargetConfig{.name = "pool-3f2a", .path = "/mnt/3f2a/KVMHA/hb-10.0.0.21",
                                       .mount = std::filesystem::path("/mnt/3f2a"), .cloudstack_layout = true});
    WriteRecorderScript(dir / "systemctl", dir / "systemctl.log");
  }
  LocalFence Fence(const std::string& reason = "cloudstack agent: kvmheartbeat.sh -c for /mnt/3f2a") {
    return FenceWithoutDaemon(cfg, reason, {"pool-3f2a"}, ActionDeps{io, runner, clock}, journal);
  }
  void JournalEarlier(const std::string& action, std::chrono::minutes ago) {
    std::filesystem::create_directories(cfg.fence.journal_path.parent_path());
    testing::AppendFile(cfg.fence.journal_path,
                        ToJsonLine({clock.WallNow() - ago, "10.0.0.21", action, "any", {"pool-3f2a"}, "earlier"}) + "\n");
  }

  TempDir dir;
  Config cfg;
  FakeClock clock;
  FakeFenceIo io;
  PosixProcessRunner runner;
  FenceJournal journal;
};

TEST_F(FenceWithoutDaemonTest, JournalsFirstThenRunsTheConfiguredAction) {
  std::vector<JournalEntry> at_sysrq;
  io.before_sysrq = [&] { at_sysrq = ReadJournalEntries(cfg.fence.journal_path); };
  const LocalFence done = Fence();
  EXPECT_EQ(io.Events(), (std::vector<std::string>{"sync", "sysrq:" + (dir / "sysrq").string() + ":b"}));
  ASSERT_EQ(at_sysrq.size(), 1u) << "journaled before the action";
  EXPECT_EQ(at_sysrq[0].action, "hard-reboot");
  EXPECT_EQ(at_sysrq[0].host, "10.0.0.21");
  EXPECT_EQ(at_sysrq[0].failed_targets, std::vector<std::string>{"pool-3f2a"});
  EXPECT_EQ(at_sysrq[0].reason, "cloudstack agent: kvmheartbeat.sh -c for /mnt/3f2a");
  EXPECT_EQ(done.plan.run, FenceActionKind::kHardReboot);
  EXPECT_EQ(LocalFenceExitCode(done), kFenceDone);
  EXPECT_TRUE(done.journal_problem.empty()) << done.journal_problem;
}

// The daemon's own limit, counted from the same journal: a host whose storage stays
// dead must not reboot forever just because the daemon is down.
TEST_F(FenceWithoutDaemonTest, KeepsTheHourlyRebootLimitFromTheJournal) {
  for (int minutes : {55, 30, 5}) JournalEarlier("hard-reboot", std::chrono::minutes(minutes));
  JournalEarlier("hard-reboot", 61min);  // older than the hour: not counted
  const LocalFence done = Fence();
  EXPECT_EQ(done.plan.run, FenceActionKind::kLogOnly);
  EXPECT_TRUE(io.Events().empty()) << "no sync, no sysrq";
  const auto entries = ReadJournalEntries(cfg.fence.journal_path);
  ASSERT_EQ(entries.size(), 5u);
  EXPECT_EQ(entries.back().action, "log-only");
  EXPECT_NE(entries.back().reason.find("3 reboots in the past hour: not rebooting again"), std::string::npos)
      << entries.back().reason;
  EXPECT_EQ(LocalFenceExitCode(done), kFenceDone) << "limited, not failed: no fallback reboot";
}

TEST_F(FenceWithoutDaemonTest, RestartAgentEscalatesPastItsLimitAsTheDaemonWould) {
  cfg.fence.action = FenceActionKind::kRestartAgent;
  LocalFence done = Fence();
  EXPECT_EQ(ReadAll(dir / "systemctl.log"), "restart cloudstack-agent\n");
  EXPECT_EQ(LocalFenceExitCode(done), kFenceDone);
  for (int i = 0; i < 2; ++i) done = Fence();
  done = Fence();
  EXPECT_EQ(done.plan.run, FenceActionKind::kHardReboot) << "a fourth restart within the hour";
  EXPECT_EQ(io.Events().back(), "sysrq:" + (dir / "sysrq").string() + ":b");
}

TEST_F(FenceWithoutDaemonTest, ExitStatusTellsTheDropInWhetherToRebootItself) {
  cfg.fence.action = FenceActionKind::kLogOnly;
  EXPECT_EQ(LocalFenceExitCode(Fence()), kFenceDone) << "log-only is the operator's choice";
  EXPECT_TRUE(io.Events().empty());

  cfg.fence.action = FenceActionKind::kRestartAgent;
  WriteFile(dir / "systemctl", "#!/bin/sh\nexit 1\n", 0755);
  EXPECT_EQ(LocalFenceExitCode(Fence()), kFenceNotRebooting) << "a failed restart is no reason to reboot";

  cfg.fence.action = FenceActionKind::kHardReboot;
  io.fail_sysrq = true;  // and the fake's reboot(2) fails too: the host is still up
  const LocalFence failed = Fence();
  EXPECT_EQ(LocalFenceExitCode(failed), kFenceRebootFailed);
  EXPECT_EQ(io.Events().back(), "reboot");
}

TEST_F(FenceWithoutDaemonTest, AnUnreadableJournalNeitherStopsNorLimitsTheFence) {
  std::filesystem::create_directories(cfg.fence.journal_path.parent_path());
  ASSERT_EQ(::mkfifo(cfg.fence.journal_path.c_str(), 0600), 0);  // neither readable nor appendable
  const LocalFence done = Fence();
  EXPECT_FALSE(done.journal_problem.empty());
  EXPECT_EQ(io.Events().back(), "sysrq:" + (dir / "sysrq").string() + ":b");
  EXPECT_EQ(LocalFenceExitCode(done), kFenceDone);
}

// With the daemon down, CloudStack's agent asks for a fence of a pool hbfence has no
// target for (a discovered pool destroy-vms unmounted, while libvirt still lists it):
// the pool's mount scopes it. Nothing runs on it, so nothing is destroyed, and the
// host is not rebooted (it was, as a fence that could not be scoped).
TEST_F(FenceWithoutDaemonTest, DestroyVmsScopesAPoolNoTargetCoversByItsMount) {
  cfg.fence.action = FenceActionKind::kDestroyVms;
  cfg.fence.libvirt_uri = "test:///default";  // one running domain, with no file on the pool
  ActionDeps deps{.io = io, .runner = runner, .clock = clock, .connect = [](const std::string& uri) { return ConnectLibvirt(uri); },
                  .mounts = [] { return Result<MountOf, std::string>(MountOf([](const std::filesystem::path&) {
                               return std::filesystem::path("/");
                             })); }};
  const LocalFence done = FenceWithoutDaemon(cfg, "cloudstack agent: kvmheartbeat.sh -c for /mnt/9c1e/",
                                             RequestedTargets(cfg, "/mnt/9c1e/"), deps, journal);
  EXPECT_TRUE(io.Events().empty()) << "neither a reboot nor an unmount";
  ASSERT_FALSE(done.steps.empty());
  EXPECT_EQ(done.steps.back().action, FenceActionKind::kDestroyVms);
  EXPECT_EQ(done.steps.back().result, "success");
  EXPECT_NE(done.steps.back().detail.find("no running domain uses pool /mnt/9c1e"), std::string::npos)
      << done.steps.back().detail;
  EXPECT_EQ(LocalFenceExitCode(done), kFenceDone);
  const auto entries = ReadJournalEntries(cfg.fence.journal_path);
  ASSERT_FALSE(entries.empty());
  EXPECT_EQ(entries.front().failed_targets, std::vector<std::string>{"/mnt/9c1e/"});
}

TEST(RequestedTargetsTest, NamesTheConfiguredTargetByNameFileOrMount) {
  Config cfg;
  cfg.targets.push_back(TargetConfig{.name = "pool-3f2a", .path = "/mnt/3f2a/KVMHA/hb-h",
                                     .mount = std::filesystem::path("/mnt/3f2a")});
  for (const char* t : {"pool-3f2a", "/mnt/3f2a", "/mnt/3f2a/", "/mnt/3f2a/KVMHA/hb-h"}) {
    EXPECT_EQ(RequestedTargets(cfg, t), std::vector<std::string>{"pool-3f2a"}) << t;
  }
  EXPECT_EQ(RequestedTargets(cfg, "/mnt/other"), std::vector<std::string>{"/mnt/other"});
  EXPECT_TRUE(RequestedTargets(cfg, "").empty());
}

}  // namespace
}  // namespace hbfence
