// SPDX-License-Identifier: Apache-2.0

// The failure modes are the product: each scenario runs the real daemon against the
// FUSE fault filesystem, asserts what an operator relies on, and records its timing
// in a summary table printed when the suite ends. Registered as one ctest test so
// the table covers the whole suite.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
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
using testing::TempDir;
using testing::WaitForMetric;
using testing::WriteFile;
using testing::WriteRecorderScript;

// ---- the summary table -------------------------------------------------------

struct Row {
  std::string scenario, expected, observed;
};
std::vector<Row>& Rows() {
  static std::vector<Row> rows;
  return rows;
}
void Record(std::string scenario, std::string expected, std::string observed) {
  Rows().push_back({std::move(scenario), std::move(expected), std::move(observed)});
}
std::string Fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

class SummaryPrinter : public ::testing::Environment {
 public:
  // Printed, and kept in fault_scenarios_summary.txt (in ctest's working directory)
  // for scripts/test to show after a passing run.
  void TearDown() override {
    std::ostringstream table;
    table << "fault scenario summary\n";
    char line[512];
    std::snprintf(line, sizeof line, "%-44s | %-40s | %s\n", "scenario", "expected", "observed");
    table << line << std::string(130, '-') << "\n";
    for (const auto& r : Rows()) {
      std::snprintf(line, sizeof line, "%-44s | %-40s | %s\n", r.scenario.c_str(), r.expected.c_str(), r.observed.c_str());
      table << line;
    }
    std::printf("\n%s", table.str().c_str());
    std::ofstream("fault_scenarios_summary.txt") << table.str();
  }
};
const auto* const kSummary = ::testing::AddGlobalTestEnvironment(new SummaryPrinter);

// ---- the harness ---------------------------------------------------------------

struct TargetSpec {
  std::string name;
  bool on_fuse = true;  // else a local temp dir
};

struct Scenario {
  double interval = 0.1, timeout = 0.3, lease = 1.5;
  std::string action = "log-only";
  std::string policy = "any";
  std::vector<TargetSpec> targets{{"pool"}};
  std::string extra_fence;
};

class FaultScenarioTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    if (!FaultFsMount::Available(&why)) GTEST_SKIP() << why;
    fs_ = FaultFsMount::Start(dir_ / "fuse", &why);
    ASSERT_TRUE(fs_) << why;
    // Healthy targets live on tmpfs: their cadence then shows the scheduler, not
    // the build machine's disk.
    std::filesystem::create_directories(dir_ / "local");
    ASSERT_EQ(mount("tmpfs", (dir_ / "local").c_str(), "tmpfs", 0, "size=4m"), 0);
  }
  void TearDown() override {
    daemon_.reset();
    fs_.reset();
    umount2((dir_ / "local").c_str(), MNT_DETACH);
  }

  std::filesystem::path PathOf(const TargetSpec& t) const {
    return t.on_fuse ? fs_->mount_point() / "KVMHA" / ("hb-" + t.name) : dir_ / "local" / ("hb-" + t.name);
  }
  std::filesystem::path journal() const { return dir_ / "state" / "journal.jsonl"; }

  void Start(const Scenario& s) {
    scenario_ = s;
    std::ostringstream c;
    c << "[host]\nid = \"h1\"\n[web]\nlisten_address = \"127.0.0.1:0\"\n"
      << "[heartbeat]\ninterval_seconds = " << s.interval << "\ntimeout_seconds = " << s.timeout
      << "\nlease_seconds = " << s.lease << "\n"
      << "[fence]\naction = \"" << s.action << "\"\npolicy = \"" << s.policy << "\"\njournal_path = \""
      << journal().string() << "\"\nruntime_directory = \"" << (dir_ / "run").string() << "\"\nsysrq_trigger_path = \"" << (dir_ / "sysrq").string()
      << "\"\nsystemctl_path = \"" << (dir_ / "systemctl").string() << "\"\nsync_grace_seconds = 0.1\n"
      << s.extra_fence;
    for (const auto& t : s.targets) {
      c << "[[target]]\nname = \"" << t.name << "\"\npath = \"" << PathOf(t).string() << "\"\n";
      if (t.on_fuse) c << "mount = \"" << fs_->mount_point().string() << "\"\n";
    }
    WriteFile(dir_ / "hbfence.toml", c.str());
    daemon_ = std::make_unique<DaemonProcess>(std::vector<std::string>{"--config", (dir_ / "hbfence.toml").string()},
                                              dir_ / "daemon.log");
    port_ = daemon_->Port();
    ASSERT_GT(port_, 0) << daemon_->Log();
    for (const auto& t : s.targets) {
      ASSERT_TRUE(WaitFor(Series("hbfence_heartbeat_writes_total", t.name), [](double v) { return v >= 2; }));
      // The first write creates the file (two fsyncs): let it finish before a
      // scenario slows or breaks the storage under it.
      ASSERT_TRUE(WaitFor(Series("hbfence_heartbeat_last_success_timestamp_seconds", t.name), [](double v) { return v > 0; }));
    }
  }

  void SetMode(const std::string& mode) {
    std::string why;
    ASSERT_TRUE(fs_->SetMode(mode, &why)) << why;
  }

  static std::string Series(const std::string& metric, const std::string& target, const std::string& more = "") {
    return metric + "{" + more + "target=\"" + target + "\"}";
  }
  std::string Scrape() { return HttpGet(port_, "/metrics").body; }
  double Value(const std::string& series) {
    const auto v = MetricValue(Scrape(), series);
    EXPECT_TRUE(v) << series << " missing";
    return v.value_or(std::nan(""));
  }
  bool WaitFor(const std::string& series, const std::function<bool(double)>& pred, Duration timeout = 15s) {
    const auto v = WaitForMetric(port_, series, pred, timeout);
    return v && pred(*v);
  }
  double Decisions() { return Value("hbfence_fence_decisions_total{action=\"" + scenario_.action + "\"}"); }

  std::vector<JournalEntry> JournalEntries() const {
    std::vector<JournalEntry> out;
    std::istringstream lines(ReadAll(journal()));
    for (std::string line; std::getline(lines, line);) {
      if (auto e = ParseJsonLine(line)) out.push_back(*e);
    }
    return out;
  }

  // The journal once it holds every decision counted so far: the scheduler counts a
  // decision (and raises fence_pending) as it hands it over, and the executor thread
  // writes the entry right after.
  std::vector<JournalEntry> JournalOfEveryDecision() {
    const auto decided = static_cast<size_t>(Decisions());
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    auto entries = JournalEntries();
    while (entries.size() < decided && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(5ms);
      entries = JournalEntries();
    }
    return entries;
  }

  // Seconds from lease expiry (last success + lease) to the newest decision.
  double DecisionLateness(const std::string& target) {
    const auto entries = JournalOfEveryDecision();
    EXPECT_FALSE(entries.empty());
    if (entries.empty()) return std::nan("");
    const double last_success = Value(Series("hbfence_heartbeat_last_success_timestamp_seconds", target));
    return ToUnixSeconds(entries.back().time) - last_success - scenario_.lease;
  }
  void ExpectOnTime(double lateness) {
    EXPECT_GE(lateness, -0.01);  // wall and monotonic clocks are sampled a moment apart
    EXPECT_LE(lateness, scenario_.interval) << "a decision lands at lease time, give or take one interval";
  }

  TempDir dir_;
  std::unique_ptr<FaultFsMount> fs_;
  std::unique_ptr<DaemonProcess> daemon_;
  int port_ = 0;
  Scenario scenario_;
};

// ---- 1. hang -------------------------------------------------------------------

TEST_F(FaultScenarioTest, Hang) {
  Start({});
  SetMode("hang");
  ASSERT_TRUE(WaitFor(Series("hbfence_heartbeat_stuck_writes", "pool"), [](double v) { return v >= 1; }));
  ASSERT_TRUE(WaitFor("hbfence_fence_pending", [](double v) { return v == 1; })) << daemon_->Log();
  EXPECT_GE(Value(Series("hbfence_heartbeat_write_timeouts_total", "pool")), 1);
  const double lateness = DecisionLateness("pool");
  ExpectOnTime(lateness);
  const auto start = std::chrono::steady_clock::now();
  daemon_->Signal(SIGTERM);
  const auto status = daemon_->WaitExit(5s);
  const double exit_s = ToSeconds(std::chrono::steady_clock::now() - start);
  ASSERT_TRUE(status);
  EXPECT_LT(exit_s, 2.0);
  Record("1 hang", "decision at lease; SIGTERM < 2 s", Fmt("decision %+.3f s; ", lateness) + Fmt("exit %.3f s", exit_s));
}

// ---- 2. errnos -------------------------------------------------------------------

struct ErrnoCase {
  const char* mode;
  const char* reason;
};

class ErrnoScenarioTest : public FaultScenarioTest, public ::testing::WithParamInterface<ErrnoCase> {};

TEST_P(ErrnoScenarioTest, CountedUnderItsReasonAndDecidedOnTime) {
  Start({});
  SetMode(GetParam().mode);
  const auto errors = Series("hbfence_heartbeat_write_errors_total", "pool", "reason=\"" + std::string(GetParam().reason) + "\",");
  ASSERT_TRUE(WaitFor(errors, [](double v) { return v >= 1; })) << daemon_->Log();
  ASSERT_TRUE(WaitFor("hbfence_fence_pending", [](double v) { return v == 1; }));
  EXPECT_EQ(Value(Series("hbfence_heartbeat_write_timeouts_total", "pool")), 0);
  const double lateness = DecisionLateness("pool");
  ExpectOnTime(lateness);
  EXPECT_NE(JournalEntries().back().reason.find(GetParam().reason), std::string::npos);
  Record(std::string("2 ") + GetParam().mode, std::string("reason ") + GetParam().reason + ", decision at lease",
         Fmt("%.0f errors; ", Value(errors)) + Fmt("decision %+.3f s", lateness));
}

INSTANTIATE_TEST_SUITE_P(Errnos, ErrnoScenarioTest,
                         ::testing::Values(ErrnoCase{"eio@fsync", "io_error"}, ErrnoCase{"enospc@write", "no_space"},
                                           ErrnoCase{"erofs@open", "read_only"}, ErrnoCase{"estale@write", "stale_handle"}),
                         [](const auto& info) { return std::string(info.param.reason); });

// ---- 3. slow but healthy -----------------------------------------------------------

TEST_F(FaultScenarioTest, SlowButHealthyStorageNeverDecides) {
  // fsync takes 40…200 ms against a 250 ms timeout (up to 80 %), ten targets in
  // parallel so that 1000 writes take seconds, not minutes.
  Scenario s{.interval = 0.05, .timeout = 0.25, .lease = 2.0, .targets = {}};
  for (int i = 0; i < 10; ++i) s.targets.push_back({"slow" + std::to_string(i)});
  Start(s);
  SetMode("delay:120:80@fsync");
  const auto writes = [&] {
    double total = 0;
    const auto text = Scrape();
    for (const auto& t : s.targets) total += MetricValue(text, Series("hbfence_heartbeat_write_duration_seconds_count", t.name)).value_or(0);
    return total;
  };
  const double base = writes();
  const auto deadline = std::chrono::steady_clock::now() + 120s;
  while (writes() < base + 1000 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(100ms);
  const double done = writes() - base;
  EXPECT_GE(done, 1000);
  double timeouts = 0, up = 0;
  const auto text = Scrape();
  for (const auto& t : s.targets) {
    timeouts += MetricValue(text, Series("hbfence_heartbeat_write_timeouts_total", t.name)).value_or(0);
    up += MetricValue(text, Series("hbfence_target_up", t.name)).value_or(0);
  }
  EXPECT_EQ(Decisions(), 0);
  EXPECT_EQ(MetricValue(text, "hbfence_fence_pending"), 0);
  EXPECT_EQ(up, 10);
  Record("3 slow (fsync 40-200 ms, timeout 250 ms)", "zero decisions over >= 1000 writes",
         Fmt("%.0f writes, ", done) + Fmt("%.0f timeouts, ", timeouts) + Fmt("%.0f decisions", Decisions()));
}

// ---- 4. flapping -----------------------------------------------------------------------

TEST_F(FaultScenarioTest, FlappingShorterThanTheLeaseNeverDecides) {
  Start({});
  for (int round = 0; round < 4; ++round) {
    SetMode("eio@fsync");
    ASSERT_TRUE(WaitFor(Series("hbfence_heartbeat_consecutive_failures", "pool"), [](double v) { return v >= 3; }));
    SetMode(round % 2 ? "hang" : "eio");  // a short hang works too
    SetMode("ok");
    ASSERT_TRUE(WaitFor(Series("hbfence_heartbeat_consecutive_failures", "pool"), [](double v) { return v == 0; }));
    EXPECT_EQ(Value(Series("hbfence_target_up", "pool")), 1);
  }
  EXPECT_EQ(Decisions(), 0);
  EXPECT_EQ(Value("hbfence_fence_pending"), 0);
  EXPECT_EQ(Value(Series("hbfence_heartbeat_stuck_writes", "pool")), 0);
  Record("4 flapping (4 failures < lease)", "zero decisions; counters recover",
         Fmt("%.0f decisions, ", Decisions()) + Fmt("%.0f errors counted", Value(Series("hbfence_heartbeat_write_errors_total", "pool", "reason=\"io_error\","))));
}

// ---- 5. the mount disappears -------------------------------------------------------------

TEST_F(FaultScenarioTest, MountDisappearsUnderTheDaemon) {
  Start({});
  std::string why;
  ASSERT_TRUE(fs_->UnmountLazy(&why)) << why;
  const auto not_mounted = Series("hbfence_heartbeat_write_errors_total", "pool", "reason=\"not_mounted\",");
  ASSERT_TRUE(WaitFor(not_mounted, [](double v) { return v >= 1; })) << daemon_->Log();
  // Someone recreates the directory tree on the local disk under the old mount point.
  std::filesystem::create_directories(fs_->mount_point() / "KVMHA");
  ASSERT_TRUE(WaitFor("hbfence_fence_pending", [](double v) { return v == 1; }));
  const double lateness = DecisionLateness("pool");
  ExpectOnTime(lateness);
  EXPECT_TRUE(std::filesystem::is_empty(fs_->mount_point() / "KVMHA")) << "nothing written to the local directory";
  Record("5 mount vanishes, local dir left", "not_mounted, nothing written, decision", Fmt("decision %+.3f s", lateness));
}

// ---- 6. several targets, one hung ------------------------------------------------------------

// Intervals between successive writes of `file`, seen through inotify.
std::vector<double> WriteIntervals(const std::filesystem::path& file, Duration watch) {
  const int fd = inotify_init1(IN_CLOEXEC);
  inotify_add_watch(fd, file.parent_path().c_str(), IN_CLOSE_WRITE);
  std::vector<double> times;
  const auto deadline = std::chrono::steady_clock::now() + watch;
  char buf[4096];
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    const auto now = ToSeconds(std::chrono::steady_clock::now().time_since_epoch());
    const ssize_t n = read(fd, buf, sizeof buf);
    for (ssize_t off = 0; off < n;) {
      const auto* ev = reinterpret_cast<const inotify_event*>(buf + off);
      if (ev->len && file.filename() == ev->name) times.push_back(now);
      off += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
    }
  }
  close(fd);
  std::vector<double> intervals;
  for (size_t i = 1; i < times.size(); ++i) intervals.push_back(times[i] - times[i - 1]);
  return intervals;
}

struct PolicyCase {
  const char* policy;
  int hung;  // of three targets
  bool decides;
};

class PolicyScenarioTest : public FaultScenarioTest, public ::testing::WithParamInterface<PolicyCase> {};

TEST_P(PolicyScenarioTest, HealthyTargetsKeepTheirCadence) {
  const auto& p = GetParam();
  Scenario s{.lease = 1.0, .policy = p.policy, .targets = {{"fuse-a"}, {"fuse-b"}, {"local", false}}};
  if (p.hung == 1) s.targets[1].on_fuse = false, s.targets[1].name = "local-b";
  Start(s);
  SetMode("hang");
  const auto intervals = WriteIntervals(PathOf(s.targets[2]), 3s);
  ASSERT_GT(intervals.size(), 10u);
  std::vector<double> jitter;
  for (double i : intervals) jitter.push_back(std::abs(i - s.interval));
  std::sort(jitter.begin(), jitter.end());
  const double p99 = jitter[std::min(jitter.size() - 1, static_cast<size_t>(jitter.size() * 0.99))];
  std::printf("policy %s, %d of 3 hung: healthy cadence jitter p99 %.1f ms over %zu intervals\n", p.policy, p.hung,
              p99 * 1000, intervals.size());
  EXPECT_LT(p99, s.interval) << "healthy targets keep their cadence within one interval";
  EXPECT_EQ(Decisions(), p.decides ? 1 : 0);
  EXPECT_EQ(Value("hbfence_fence_pending"), p.decides ? 1 : 0);
  Record(std::string("6 policy ") + p.policy + ", " + std::to_string(p.hung) + " of 3 hung",
         p.decides ? "decision; healthy cadence kept" : "no decision; healthy cadence kept",
         Fmt("%.0f decisions, ", Decisions()) + Fmt("jitter p99 %.1f ms", p99 * 1000));
}

INSTANTIATE_TEST_SUITE_P(Policies, PolicyScenarioTest,
                         ::testing::Values(PolicyCase{"any", 1, true}, PolicyCase{"all", 1, false},
                                           PolicyCase{"all", 2, false}, PolicyCase{"quorum", 1, false},
                                           PolicyCase{"quorum", 2, true}),
                         [](const auto& info) { return std::string(info.param.policy) + std::to_string(info.param.hung); });

// ---- 7. fence actions end to end ---------------------------------------------------------------

TEST_F(FaultScenarioTest, HardRebootOnlyAfterTheJournalIsDurable) {
  // The sysrq stand-in is a FIFO: the daemon's open() blocks until we read, so we
  // look at the journal at the exact moment the "reboot" is being written.
  ASSERT_EQ(mkfifo((dir_ / "sysrq").c_str(), 0600), 0);
  Start({.action = "hard-reboot"});
  SetMode("eio");
  const int fifo = open((dir_ / "sysrq").c_str(), O_RDONLY);  // returns when the daemon opens it
  ASSERT_GE(fifo, 0);
  const auto entries = JournalEntries();
  char byte = 0;
  ASSERT_EQ(read(fifo, &byte, 1), 1);
  close(fifo);
  EXPECT_EQ(byte, 'b');
  ASSERT_EQ(entries.size(), 1u) << "the journal entry was on disk before sysrq was opened";
  EXPECT_EQ(entries[0].action, "hard-reboot");
  ASSERT_TRUE(WaitFor("hbfence_fence_actions_total{action=\"hard-reboot\",result=\"success\"}", [](double v) { return v == 1; }));

  // After the reboot the daemon reports the last fence from the journal.
  daemon_.reset();
  ASSERT_TRUE(testing::SimulateReboot(dir_ / "run"));
  SetMode("ok");
  std::filesystem::remove(dir_ / "sysrq");
  WriteFile(dir_ / "sysrq", "");
  Start({.action = "hard-reboot"});
  // The journal is read in the background at start.
  ASSERT_TRUE(WaitFor("hbfence_last_fence_timestamp_seconds", [](double v) { return v > 0; }));
  EXPECT_NEAR(Value("hbfence_last_fence_timestamp_seconds"), ToUnixSeconds(entries[0].time), 0.01);
  Record("7 hard-reboot", "journal durable before sysrq; reported after restart", "ok");
}

TEST_F(FaultScenarioTest, GracefulRebootEscalatesWhenShutdownHangs) {
  WriteRecorderScript(dir_ / "systemctl", dir_ / "systemctl.log");
  WriteFile(dir_ / "sysrq", "");
  Start({.action = "graceful-reboot", .extra_fence = "graceful_escalation_seconds = 0.5\n"});
  SetMode("hang");
  ASSERT_TRUE(WaitFor("hbfence_fence_actions_total{action=\"hard-reboot\",result=\"success\"}", [](double v) { return v == 1; }))
      << daemon_->Log();
  EXPECT_EQ(ReadAll(dir_ / "systemctl.log"), "reboot\n");
  EXPECT_EQ(Value("hbfence_fence_actions_total{action=\"graceful-reboot\",result=\"escalated\"}"), 1);
  EXPECT_EQ(ReadAll(dir_ / "sysrq"), "b");
  Record("7 graceful-reboot, shutdown hangs", "systemctl reboot, then hard-reboot", "escalated");
}

struct CustomCase {
  const char* name;
  const char* script;  // empty: missing
  mode_t mode;
  const char* result;
};

class CustomScenarioTest : public FaultScenarioTest, public ::testing::WithParamInterface<CustomCase> {};

TEST_P(CustomScenarioTest, FallsBackToHardRebootUnlessTheScriptSucceeds) {
  const auto& c = GetParam();
  if (*c.script) WriteFile(dir_ / "custom.sh", c.script, c.mode);
  WriteFile(dir_ / "sysrq", "");
  Start({.action = "custom",
         .extra_fence = "custom_script = \"" + (dir_ / "custom.sh").string() + "\"\ncustom_timeout_seconds = 0.5\n"});
  SetMode("eio");
  ASSERT_TRUE(WaitFor("hbfence_fence_actions_total{action=\"custom\",result=\"" + std::string(c.result) + "\"}",
                      [](double v) { return v == 1; }))
      << daemon_->Log();
  const bool fallback = std::string(c.result) != "success";
  if (fallback) {
    ASSERT_TRUE(WaitFor("hbfence_fence_actions_total{action=\"hard-reboot\",result=\"success\"}", [](double v) { return v == 1; }));
  }
  EXPECT_EQ(ReadAll(dir_ / "sysrq"), fallback ? "b" : "");
  Record(std::string("7 custom: ") + c.name, fallback ? "fallback to hard-reboot" : "script runs, no fallback",
         std::string("custom=") + c.result + (fallback ? ", sysrq b" : ""));
}

INSTANTIATE_TEST_SUITE_P(
    Custom, CustomScenarioTest,
    ::testing::Values(CustomCase{"ok", "#!/bin/sh\nexit 0\n", 0755, "success"},
                      CustomCase{"missing", "", 0, "refused"},
                      CustomCase{"world_writable", "#!/bin/sh\nexit 0\n", 0777, "refused"},
                      CustomCase{"not_executable", "#!/bin/sh\nexit 0\n", 0644, "refused"},
                      CustomCase{"hangs", "#!/bin/sh\nsleep 1000\n", 0755, "timeout"},
                      CustomCase{"fails", "#!/bin/sh\nexit 1\n", 0755, "failed"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST_F(FaultScenarioTest, RestartAgent) {
  WriteRecorderScript(dir_ / "systemctl", dir_ / "systemctl.log");
  Start({.action = "restart-agent"});
  SetMode("estale");
  ASSERT_TRUE(WaitFor("hbfence_fence_actions_total{action=\"restart-agent\",result=\"success\"}", [](double v) { return v == 1; }));
  EXPECT_EQ(ReadAll(dir_ / "systemctl.log"), "restart cloudstack-agent\n");
  Record("7 restart-agent", "systemctl restart cloudstack-agent", "ok");
}

// ---- 8. recovery mid-episode ---------------------------------------------------------------------

TEST_F(FaultScenarioTest, RecoveryEndsTheEpisodeAndALaterFailureDecidesAgain) {
  Start({});
  SetMode("hang");
  ASSERT_TRUE(WaitFor("hbfence_fence_pending", [](double v) { return v == 1; }));
  SetMode("ok");
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(WaitFor("hbfence_fence_pending", [](double v) { return v == 0; }));
  const double cleared = ToSeconds(std::chrono::steady_clock::now() - start);
  EXPECT_EQ(Value(Series("hbfence_target_up", "pool")), 1);
  SetMode("eio");
  ASSERT_TRUE(WaitFor("hbfence_fence_decisions_total{action=\"log-only\"}", [](double v) { return v == 2; }));
  EXPECT_EQ(JournalOfEveryDecision().size(), 2u);
  Record("8 recovery mid-episode (log-only)", "pending clears; new failure decides again",
         Fmt("pending cleared in %.3f s; 2 decisions", cleared));
}

}  // namespace
}  // namespace hbfence
