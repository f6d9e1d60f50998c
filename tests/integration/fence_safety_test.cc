// SPDX-License-Identifier: Apache-2.0

// A fence is never blocked, switched off or doubled by what surrounds it: a hung or
// huge journal, a crash loop, a reboot, a second instance, a reload. The real
// daemon against stand-ins (sysrq file, watchdog file, systemctl recorder) and,
// where a local disk must hang, the FUSE fault filesystem.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "faultfs_mount.h"
#include "fence/journal.h"
#include "tests/support/daemon_process.h"
#include "tests/support/temp_dir.h"

namespace hbfence {
namespace {

using namespace std::chrono_literals;
using testing::DaemonProcess;
using testing::FaultFsMount;
using testing::HttpGet;
using testing::MetricValue;
using testing::ReadAll;
using testing::SimulateReboot;
using testing::SwapWithAFile;
using testing::TempDir;
using testing::WaitForMetric;
using testing::WriteFile;
using testing::WriteRecorderScript;

struct DaemonSetup {
  std::string action = "hard-reboot";
  double interval = 0.1, timeout = 0.3, lease = 1.0;
  std::filesystem::path journal;  // default: <dir>/state/journal.jsonl
  std::string target_name = "pool";
  std::string extra_fence;
  std::string extra;  // more tables after [fence]
};

class FenceSafetyTest : public ::testing::Test {
 protected:
  std::filesystem::path Journal() const { return setup.journal.empty() ? dir / "state" / "journal.jsonl" : setup.journal; }

  std::string ConfigText() const {
    std::ostringstream c;
    c << "[host]\nid = \"h1\"\n[web]\nlisten_address = \"127.0.0.1:0\"\n"
      << "[heartbeat]\ninterval_seconds = " << setup.interval << "\ntimeout_seconds = " << setup.timeout
      << "\nlease_seconds = " << setup.lease << "\n"
      << "[fence]\naction = \"" << setup.action << "\"\njournal_path = \"" << Journal().string() << "\"\n"
      << "runtime_directory = \"" << (dir / "run").string() << "\"\n"
      << "sysrq_trigger_path = \"" << (dir / "sysrq").string() << "\"\n"
      << "systemctl_path = \"" << (dir / "systemctl").string() << "\"\n"
      << "sync_grace_seconds = 0.1\n"
      << setup.extra_fence << setup.extra
      // On local disk even when the journal is on faultfs: a history file open at the
      // moment `hang@all` begins would hold the process's exit in the kernel's flush
      // (tests/integration/history_fault_test.cc), which is not what these tests ask.
      << "[history]\npath = \"" << (dir / "history").string() << "\"\n"
      << "[[target]]\nname = \"" << setup.target_name << "\"\npath = \""
      << (dir / "pool" / "hb").string() << "\"\n";
    return c.str();
  }

  std::unique_ptr<DaemonProcess> Start() {
    WriteFile(dir / "hbfence.toml", ConfigText());
    return std::make_unique<DaemonProcess>(std::vector<std::string>{"--config", (dir / "hbfence.toml").string()},
                                           dir / ("daemon" + std::to_string(++starts) + ".log"));
  }
  // Rewrites the config from `setup` and reloads it.
  void Reload(DaemonProcess& d) {
    WriteFile(dir / "hbfence.toml", ConfigText());
    d.Signal(SIGHUP);
  }
  // A regular file where the heartbeat directory was: every write fails at once.
  void BreakTarget() {
    std::filesystem::create_directories(dir / "pool");
    const int err = SwapWithAFile(dir / "pool");
    ASSERT_EQ(err, 0) << std::strerror(err);
  }
  static double Metric(DaemonProcess& d, const std::string& series) {
    return MetricValue(HttpGet(d.Port(), "/metrics").body, series).value_or(std::nan(""));
  }
  // Polls a file until `pred` holds for its content (bounded).
  static bool WaitForFile(const std::filesystem::path& p, const std::function<bool(const std::string&)>& pred,
                          Duration timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (pred(ReadAll(p))) return true;
      std::this_thread::sleep_for(10ms);
    }
    return pred(ReadAll(p));
  }

  TempDir dir;
  DaemonSetup setup;
  int starts = 0;
};

// ---- the journal ---------------------------------------------------------------

// The journal's disk hangs in the kernel at the moment of the decision: the reboot
// still comes, the journal timeout after the decision, and the failure is counted;
// the watchdog stops being petted at the decision itself.
TEST_F(FenceSafetyTest, AHungJournalDelaysTheRebootOnlyByTheJournalTimeout) {
  std::string why;
  if (!FaultFsMount::Available(&why)) GTEST_SKIP() << why;
  auto fs = FaultFsMount::Start(dir / "fuse", &why);
  ASSERT_TRUE(fs) << why;
  setup.journal = fs->mount_point() / "journal.jsonl";
  setup.extra_fence = "journal_timeout_seconds = 0.5\n";
  setup.extra = "[watchdog]\ndevice = \"" + (dir / "watchdog").string() + "\"\ntimeout_seconds = 3\n";
  WriteFile(dir / "sysrq", "");
  WriteFile(dir / "watchdog", "");
  auto d = Start();
  ASSERT_GT(d->Port(), 0) << d->Log();
  ASSERT_TRUE(WaitForMetric(d->Port(), "hbfence_heartbeat_writes_total{target=\"pool\"}", [](double v) { return v >= 2; }));
  ASSERT_TRUE(fs->SetMode("hang@all", &why)) << why;
  BreakTarget();
  ASSERT_TRUE(d->WaitForLog("will reboot system because it was unable to write the heartbeat", 10s)) << d->Log();
  const auto logged = std::chrono::steady_clock::now();
  const size_t pets_at_decision = ReadAll(dir / "watchdog").size();
  ASSERT_TRUE(WaitForFile(dir / "sysrq", [](const std::string& s) { return s == "b"; }, 10s)) << d->Log();
  const double after = ToSeconds(std::chrono::steady_clock::now() - logged);
  std::printf("sysrq written %.3f s after the decision was logged (journal timeout 0.5 s)\n", after);
  EXPECT_LT(after, 3.0);
  EXPECT_GE(Metric(*d, "hbfence_fence_journal_errors_total"), 1) << d->Log();
  EXPECT_NE(d->Log().find("did not finish within 0.5 s"), std::string::npos) << d->Log();
  EXPECT_LE(ReadAll(dir / "watchdog").size(), pets_at_decision + 1) << "no pets after the decision (one may be racing)";
  d->Signal(SIGTERM);
  EXPECT_TRUE(d->WaitExit(5s)) << "shutdown with a journal append stuck in the kernel";
}

// The daemon starts with its journal on a disk that hangs: heartbeats and /metrics
// come up anyway, what could not be read is reported, and SIGTERM works.
TEST_F(FenceSafetyTest, StartupWithAHungJournalComesUpAndReportsIt) {
  std::string why;
  if (!FaultFsMount::Available(&why)) GTEST_SKIP() << why;
  auto fs = FaultFsMount::Start(dir / "fuse", &why);
  ASSERT_TRUE(fs) << why;
  WriteFile(fs->backing_dir() / "journal.jsonl", "");
  setup.journal = fs->mount_point() / "journal.jsonl";
  setup.action = "log-only";
  setup.extra_fence = "journal_timeout_seconds = 0.5\n";
  ASSERT_TRUE(fs->SetMode("hang@all", &why)) << why;
  auto d = Start();
  ASSERT_GT(d->Port(), 0) << d->Log();
  ASSERT_TRUE(WaitForMetric(d->Port(), "hbfence_heartbeat_writes_total{target=\"pool\"}", [](double v) { return v >= 3; }))
      << d->Log();
  EXPECT_EQ(HttpGet(d->Port(), "/healthz").status, 200);
  ASSERT_TRUE(WaitForMetric(d->Port(), "hbfence_fence_journal_errors_total", [](double v) { return v >= 1; }))
      << d->Log();
  EXPECT_TRUE(d->WaitForLog("could not be read within 0.5 s")) << d->Log();
  EXPECT_TRUE(d->WaitForLog("starting without its instance lock")) << d->Log();
  const auto stop = std::chrono::steady_clock::now();
  d->Signal(SIGTERM);
  const auto status = d->WaitExit(5s);
  ASSERT_TRUE(status) << d->Log();
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << d->Log();
  EXPECT_LT(ToSeconds(std::chrono::steady_clock::now() - stop), 2.0);
}

// The runtime directory (lease record, lock) hangs: the daemon starts without the
// record and the lock, says so, writes its heartbeats, and stops on SIGTERM.
TEST_F(FenceSafetyTest, AHungRuntimeDirectoryWedgesNothing) {
  std::string why;
  if (!FaultFsMount::Available(&why)) GTEST_SKIP() << why;
  auto fs = FaultFsMount::Start(dir / "fuse", &why);
  ASSERT_TRUE(fs) << why;
  setup.action = "log-only";
  setup.extra_fence = "journal_timeout_seconds = 0.5\n";
  ASSERT_TRUE(fs->SetMode("hang@all", &why)) << why;
  std::string text = ConfigText();
  text.replace(text.find((dir / "run").string()), (dir / "run").string().size(), (fs->mount_point() / "run").string());
  WriteFile(dir / "hbfence.toml", text);
  DaemonProcess d({"--config", (dir / "hbfence.toml").string()}, dir / "daemon.log");
  ASSERT_GT(d.Port(), 0) << d.Log();
  ASSERT_TRUE(WaitForMetric(d.Port(), "hbfence_heartbeat_writes_total{target=\"pool\"}", [](double v) { return v >= 3; }))
      << d.Log();
  EXPECT_NE(d.Log().find("starting without its instance lock"), std::string::npos) << d.Log();
  EXPECT_NE(d.Log().find("starting with a fresh lease"), std::string::npos) << d.Log();
  const auto stop = std::chrono::steady_clock::now();
  d.Signal(SIGTERM);
  const auto status = d.WaitExit(5s);
  ASSERT_TRUE(status) << d.Log();
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << d.Log();
  EXPECT_LT(ToSeconds(std::chrono::steady_clock::now() - stop), 1.5);
}

// A journal grown to 100 MB is read from its end only, at start and never again:
// the action is not held back and memory stays small; the next append rotates it.
TEST_F(FenceSafetyTest, AHugeJournalIsNeitherReadWholeNorKept) {
  {
    const std::string old = ToJsonLine({std::chrono::system_clock::now() - 48h, "h1", "log-only", "any", {"pool"},
                                        "an old decision, padded to a realistic length: policy any: 1 of 1 targets"}) +
                            "\n";
    std::string chunk;
    while (chunk.size() < (1 << 20)) chunk += old;
    std::filesystem::create_directories(dir / "state");
    std::ofstream out(Journal(), std::ios::binary);
    for (int i = 0; i < 100; ++i) out << chunk;
  }
  ASSERT_GE(std::filesystem::file_size(Journal()), 100u << 20);
  WriteFile(dir / "sysrq", "");
  auto d = Start();
  ASSERT_GT(d->Port(), 0) << d->Log();
  ASSERT_TRUE(WaitForMetric(d->Port(), "hbfence_heartbeat_writes_total{target=\"pool\"}", [](double v) { return v >= 2; }));
  BreakTarget();
  ASSERT_TRUE(WaitForFile(dir / "sysrq", [](const std::string& s) { return s == "b"; }, 10s)) << d->Log();
  const auto entry = ReadJournalTail(Journal(), std::chrono::system_clock::now(), kJournalWindow, 1 << 20).recent;
  ASSERT_EQ(entry.size(), 1u);
  const double action_lag = ToSeconds(std::chrono::system_clock::now() - entry[0].time);
  std::printf("sysrq seen %.3f s after the decision's journal time\n", action_lag);
  EXPECT_LT(action_lag, 1.0);
  EXPECT_LT(std::filesystem::file_size(Journal()), 4096u) << "the append rotated the huge journal away";
  EXPECT_GE(std::filesystem::file_size(Journal().string() + ".1"), 100u << 20);
  const std::string status = ReadAll("/proc/" + std::to_string(d->pid()) + "/status");
  const auto hwm = status.find("VmHWM:");
  ASSERT_NE(hwm, std::string::npos);
  const long peak_kib = std::stol(status.substr(hwm + 6));
  std::printf("peak RSS %ld KiB with a 100 MB journal\n", peak_kib);
  EXPECT_LT(peak_kib, 40 * 1024);
}

// ---- the configuration ------------------------------------------------------------

// The config path becomes a FIFO (or any non-file): a reload is rejected at once and
// the running config kept; SIGTERM still works; check-config says what it is.
TEST_F(FenceSafetyTest, AFifoWhereTheConfigWasIsRejectedWithoutBlocking) {
  setup.action = "log-only";
  auto d = Start();
  ASSERT_GT(d->Port(), 0) << d->Log();
  std::filesystem::remove(dir / "hbfence.toml");
  ASSERT_EQ(::mkfifo((dir / "hbfence.toml").c_str(), 0600), 0);
  d->Signal(SIGHUP);
  ASSERT_TRUE(d->WaitForLog("is a FIFO, not a regular file")) << d->Log();
  EXPECT_EQ(WaitForMetric(d->Port(), "hbfence_config_reloads_total{result=\"failure\"}", [](double v) { return v == 1; }),
            1);
  const auto [rc, out] = testing::RunCapture({HBFENCE_BIN, "check-config", "--config", (dir / "hbfence.toml").string()});
  EXPECT_EQ(rc, 2) << out;
  EXPECT_NE(out.find("is a FIFO, not a regular file"), std::string::npos) << out;
  const auto stop = std::chrono::steady_clock::now();
  d->Signal(SIGTERM);
  ASSERT_TRUE(d->WaitExit(5s)) << d->Log();
  EXPECT_LT(ToSeconds(std::chrono::steady_clock::now() - stop), 1.0);
}

// The config's filesystem hangs: a reload fails after its bound instead of taking
// the signal thread with it, so SIGTERM is handled at once, even mid-reload.
TEST_F(FenceSafetyTest, AReloadFromAHungFilesystemNeverBlocksSigterm) {
  std::string why;
  if (!FaultFsMount::Available(&why)) GTEST_SKIP() << why;
  auto fs = FaultFsMount::Start(dir / "fuse", &why);
  ASSERT_TRUE(fs) << why;
  setup.action = "log-only";
  WriteFile(fs->backing_dir() / "hbfence.toml", ConfigText());
  DaemonProcess d({"--config", (fs->mount_point() / "hbfence.toml").string()}, dir / "daemon.log");
  ASSERT_GT(d.Port(), 0) << d.Log();
  ASSERT_TRUE(fs->SetMode("hang@all", &why)) << why;
  d.Signal(SIGHUP);
  ASSERT_TRUE(d.WaitForLog("did not finish within 5 s", 10s)) << d.Log();
  EXPECT_EQ(MetricValue(HttpGet(d.Port(), "/metrics").body, "hbfence_config_reloads_total{result=\"failure\"}"), 1);
  d.Signal(SIGHUP);  // queued behind the stuck read
  const auto stop = std::chrono::steady_clock::now();
  d.Signal(SIGTERM);
  const auto status = d.WaitExit(5s);
  ASSERT_TRUE(status) << d.Log();
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << d.Log();
  EXPECT_LT(ToSeconds(std::chrono::steady_clock::now() - stop), 1.0);
}

// ---- restarts, reboots, a second instance ------------------------------------------

// Killed faster than its lease, again and again, with the storage dead: each new
// daemon continues the lease where the dead one left it, so the host is fenced on
// time (the reviewer's case: a 3 s lease, killed every 2.8 s).
TEST_F(FenceSafetyTest, ACrashLoopFasterThanTheLeaseStillFences) {
  setup.interval = 0.5;
  setup.timeout = 1;
  setup.lease = 3;
  WriteFile(dir / "sysrq", "");
  auto d = Start();
  ASSERT_GT(d->Port(), 0) << d->Log();
  ASSERT_TRUE(WaitForMetric(d->Port(), "hbfence_heartbeat_writes_total{target=\"pool\"}", [](double v) { return v >= 1; }));
  BreakTarget();
  const auto dead_since = std::chrono::steady_clock::now();
  double fenced_after = -1;
  for (int round = 0; round < 5 && fenced_after < 0; ++round) {
    // The attack's own cadence: SIGKILL 2.8 s after each start.
    const auto started = std::chrono::steady_clock::now();
    if (round > 0) {
      d = Start();
      ASSERT_GT(d->Port(), 0) << d->Log();
    }
    while (std::chrono::steady_clock::now() - started < 2800ms) {
      if (ReadAll(dir / "sysrq") == "b") {
        fenced_after = ToSeconds(std::chrono::steady_clock::now() - dead_since);
        break;
      }
      std::this_thread::sleep_for(10ms);
    }
    d.reset();  // SIGKILL
  }
  std::printf("fenced %.3f s after the storage died (lease 3 s, killed every 2.8 s)\n", fenced_after);
  ASSERT_GT(fenced_after, 0) << "never fenced";
  EXPECT_LT(fenced_after, 3.0 + 2.8);
  const auto entries = ReadJournalEntries(Journal());
  ASSERT_FALSE(entries.empty());
  EXPECT_EQ(entries.back().action, "hard-reboot");
}

// After a reboot (another boot id) or a clean stop, the start is fresh: the age of
// a heartbeat from before must not fence the host again (a reboot loop).
TEST_F(FenceSafetyTest, ARebootOrACleanRestartStartsAFreshLease) {
  setup.interval = 0.5;
  setup.timeout = 1;
  setup.lease = 3;
  for (const bool reboot : {true, false}) {
    SCOPED_TRACE(reboot ? "reboot" : "clean restart");
    WriteFile(dir / "sysrq", "");
    for (const char* leftover : {"pool", "pool.swapped", "run"}) std::filesystem::remove_all(dir / leftover);
    auto d = Start();
    ASSERT_GT(d->Port(), 0) << d->Log();
    ASSERT_TRUE(WaitForMetric(d->Port(), "hbfence_heartbeat_writes_total{target=\"pool\"}", [](double v) { return v >= 1; }));
    BreakTarget();
    // Two thirds of the lease without a write, then the daemon goes.
    ASSERT_TRUE(WaitForMetric(d->Port(), "hbfence_heartbeat_consecutive_failures{target=\"pool\"}",
                              [](double v) { return v >= 4; }));
    if (reboot) {
      d.reset();  // SIGKILL: the record stays, from "the boot before"
      ASSERT_TRUE(SimulateReboot(dir / "run"));
    } else {
      d->Signal(SIGTERM);
      ASSERT_TRUE(d->WaitExit(5s));
      EXPECT_FALSE(std::filesystem::exists(dir / "run" / "leases")) << "a clean stop removes the record";
    }
    const auto restarted = std::chrono::steady_clock::now();
    d = Start();
    ASSERT_GT(d->Port(), 0) << d->Log();
    // The old lease ran out a second into this run; a fresh one only after 3 s.
    ASSERT_TRUE(WaitForMetric(d->Port(), "hbfence_heartbeat_consecutive_failures{target=\"pool\"}",
                              [](double v) { return v >= 4; }));
    EXPECT_EQ(Metric(*d, "hbfence_fence_decisions_total{action=\"hard-reboot\"}"), 0) << d->Log();
    EXPECT_LT(std::chrono::steady_clock::now() - restarted, 2900ms) << "the check above came too late to tell";
    EXPECT_EQ(ReadAll(dir / "sysrq"), "");
    // The fresh lease does expire.
    ASSERT_TRUE(WaitForFile(dir / "sysrq", [](const std::string& s) { return s == "b"; }, 10s)) << d->Log();
    d.reset();
  }
}

TEST_F(FenceSafetyTest, ASecondInstanceRefusesToStart) {
  setup.action = "log-only";
  auto first = Start();
  ASSERT_GT(first->Port(), 0) << first->Log();
  auto second = Start();
  const auto status = second->WaitExit(10s);
  ASSERT_TRUE(status) << second->Log();
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 1) << second->Log();
  EXPECT_NE(second->Log().find("another hbfence (pid " + std::to_string(first->pid()) + ") holds the lock on " +
                               (dir / "run").string()),
            std::string::npos)
      << second->Log();
  // A second daemon with its own runtime directory but the same journal is refused too.
  std::string other = ConfigText();
  other.replace(other.find((dir / "run").string()), (dir / "run").string().size(), (dir / "run2").string());
  WriteFile(dir / "hbfence2.toml", other);
  DaemonProcess third({"--config", (dir / "hbfence2.toml").string()}, dir / "third.log");
  const auto third_status = third.WaitExit(10s);
  ASSERT_TRUE(third_status) << third.Log();
  EXPECT_NE(third.Log().find("holds the lock on " + (dir / "state").string()), std::string::npos) << third.Log();
  EXPECT_EQ(HttpGet(first->Port(), "/healthz").status, 200) << "the first one runs on";
}

// ---- reloads during a standing decision ----------------------------------------

// Fencing is armed by a reload while a log-only decision stands: the armed action
// stands for the episode too, so it runs now.
TEST_F(FenceSafetyTest, ArmingByReloadRunsTheActionForAStandingDecision) {
  setup.action = "log-only";
  WriteRecorderScript(dir / "systemctl", dir / "systemctl.log");
  auto d = Start();
  ASSERT_GT(d->Port(), 0) << d->Log();
  BreakTarget();
  ASSERT_EQ(WaitForMetric(d->Port(), "hbfence_fence_pending", [](double v) { return v == 1; }), 1) << d->Log();
  EXPECT_FALSE(std::filesystem::exists(dir / "systemctl.log"));
  setup.action = "restart-agent";
  Reload(*d);
  ASSERT_TRUE(WaitForFile(dir / "systemctl.log", [](const std::string& s) { return !s.empty(); }, 10s)) << d->Log();
  EXPECT_EQ(ReadAll(dir / "systemctl.log"), "restart cloudstack-agent\n");
  const auto entries = ReadJournalEntries(Journal());
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[1].action, "restart-agent");
  EXPECT_NE(entries[1].reason.find("changed from log-only to restart-agent by a reload"), std::string::npos);
}

// A reload that shortens the timings, 1.5 s after the last success under a 2 s
// interval: the new 1 s lease alone would call the healthy target down at once (its
// next write was due at the old interval's tick). The old and new leases hold
// together until a write under the new timings succeeds.
TEST_F(FenceSafetyTest, AReloadThatShortensTheLeaseFencesNoHealthyTarget) {
  setup.action = "log-only";
  setup.interval = 2;
  setup.timeout = 1;
  setup.lease = 10;
  auto d = Start();
  ASSERT_GT(d->Port(), 0) << d->Log();
  const std::string writes = "hbfence_heartbeat_writes_total{target=\"pool\"}";
  ASSERT_TRUE(WaitForMetric(d->Port(), writes, [](double v) { return v >= 1; }));
  const double first = Metric(*d, writes);
  // Right after a write: the next one is 2 s away.
  ASSERT_TRUE(WaitForMetric(d->Port(), writes, [&](double v) { return v > first; }, 5s));
  const auto written = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(1500ms);  // the reload's moment in the old interval, not a wait for an event
  setup.interval = 0.1;
  setup.timeout = 0.3;
  setup.lease = 1;
  Reload(*d);
  ASSERT_TRUE(d->WaitForLog("reloaded")) << d->Log();
  const double at_reload = Metric(*d, writes);
  ASSERT_TRUE(WaitForMetric(d->Port(), writes, [&](double v) { return v >= at_reload + 20; }));
  EXPECT_GT(std::chrono::steady_clock::now() - written, 2500ms) << "long past the old gap";
  EXPECT_EQ(Metric(*d, "hbfence_fence_decisions_total{action=\"log-only\"}"), 0) << d->Log();
  EXPECT_EQ(Metric(*d, "hbfence_target_up{target=\"pool\"}"), 1);
  // The new lease is the one in force once a write under it has succeeded.
  BreakTarget();
  const auto broken = std::chrono::steady_clock::now();
  ASSERT_EQ(WaitForMetric(d->Port(), "hbfence_fence_pending", [](double v) { return v == 1; }), 1) << d->Log();
  EXPECT_LT(std::chrono::steady_clock::now() - broken, 3s) << "decided on the 1 s lease, not the 11 s floor";
}

// Removing and re-adding a target whose write hangs in the kernel, over and over:
// the re-added heartbeat takes its stuck write's slot back instead of hanging one
// more thread per cycle, and keeps its lease (no fresh one for a dead target).
TEST_F(FenceSafetyTest, ReAddingAHungTargetReusesItsStuckWrite) {
  std::string why;
  if (!FaultFsMount::Available(&why)) GTEST_SKIP() << why;
  auto fs = FaultFsMount::Start(dir / "fuse", &why);
  ASSERT_TRUE(fs) << why;
  setup.action = "log-only";
  const std::string healthy = ConfigText();
  const std::string hung_target =
      "[[target]]\nname = \"hung\"\npath = \"" + (fs->mount_point() / "hb").string() + "\"\n";
  WriteFile(dir / "hbfence.toml", healthy + hung_target);
  DaemonProcess d({"--config", (dir / "hbfence.toml").string()}, dir / "daemon.log");
  ASSERT_GT(d.Port(), 0) << d.Log();
  ASSERT_TRUE(fs->SetMode("hang", &why)) << why;
  ASSERT_EQ(WaitForMetric(d.Port(), "hbfence_target_up{target=\"hung\"}", [](double v) { return v == 0; }), 0)
      << d.Log();
  auto writer_threads = [&] {
    int n = 0;
    for (const auto& task : std::filesystem::directory_iterator("/proc/" + std::to_string(d.pid()) + "/task")) {
      n += ReadAll(task.path() / "comm") == "hbfence-writer\n";
    }
    return n;
  };
  const int before = writer_threads();
  for (int cycle = 1; cycle <= 10; ++cycle) {
    WriteFile(dir / "hbfence.toml", healthy);
    d.Signal(SIGHUP);
    ASSERT_TRUE(WaitForMetric(d.Port(), "hbfence_config_reloads_total{result=\"success\"}",
                              [&](double v) { return v >= 2 * cycle - 1; }));
    WriteFile(dir / "hbfence.toml", healthy + hung_target);
    d.Signal(SIGHUP);
    ASSERT_TRUE(WaitForMetric(d.Port(), "hbfence_config_reloads_total{result=\"success\"}",
                              [&](double v) { return v >= 2 * cycle; }));
    ASSERT_TRUE(WaitForMetric(d.Port(), "hbfence_heartbeat_stuck_writes{target=\"hung\"}",
                              [](double v) { return v == 1; }));
  }
  const int after = writer_threads();
  std::printf("writer threads: %d before 10 remove/re-add cycles of a hung target, %d after\n", before, after);
  EXPECT_LE(after, before) << d.Log();
  EXPECT_EQ(MetricValue(HttpGet(d.Port(), "/metrics").body, "hbfence_target_up{target=\"hung\"}"), 0)
      << "the re-added target kept its expired lease";
  EXPECT_NE(d.Log().find("waits for that write instead of starting another"), std::string::npos);
}

// A dead target renamed by a reload is the same heartbeat, still dead: the decision
// stands and no fresh lease is granted.
TEST_F(FenceSafetyTest, RenamingADeadTargetIsNotARecovery) {
  setup.action = "log-only";
  auto d = Start();
  ASSERT_GT(d->Port(), 0) << d->Log();
  BreakTarget();
  ASSERT_EQ(WaitForMetric(d->Port(), "hbfence_fence_pending", [](double v) { return v == 1; }), 1) << d->Log();
  setup.target_name = "renamed";
  Reload(*d);
  ASSERT_TRUE(d->WaitForLog("target pool is now called renamed")) << d->Log();
  ASSERT_EQ(WaitForMetric(d->Port(), "hbfence_target_up{target=\"renamed\"}", [](double v) { return v == 0; }), 0);
  EXPECT_EQ(Metric(*d, "hbfence_fence_pending"), 1);
  EXPECT_TRUE(std::isnan(Metric(*d, "hbfence_target_up{target=\"pool\"}"))) << "the old name's series is gone";
  // Long past a fresh lease: still the one decision, no new episode.
  const double writes = Metric(*d, "hbfence_heartbeat_writes_total{target=\"renamed\"}");
  ASSERT_TRUE(WaitForMetric(d->Port(), "hbfence_heartbeat_writes_total{target=\"renamed\"}",
                            [&](double v) { return v >= writes + 15; }));
  EXPECT_EQ(Metric(*d, "hbfence_fence_decisions_total{action=\"log-only\"}"), 1) << d->Log();
  EXPECT_EQ(Metric(*d, "hbfence_fence_pending"), 1);
}

}  // namespace
}  // namespace hbfence
