// SPDX-License-Identifier: Apache-2.0

// The write history is a bystander: its local disk hanging in the kernel must not
// delay a heartbeat, a fence decision or a shutdown. The real daemon with its
// [history] path on the FUSE fault filesystem in mode hang, a healthy target and
// one whose storage is then broken.
#include <signal.h>
#include <sys/wait.h>

#include <cmath>
#include <cstring>
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
using testing::RunCapture;
using testing::SwapWithAFile;
using testing::TempDir;
using testing::WaitForMetric;
using testing::WriteFile;

// A short interval so that two targets fill HistoryRecorder::kMaxPending (4096)
// within about 20 s; a generous timeout so a loaded test machine does not time out
// the healthy target's writes on its own.
constexpr double kInterval = 0.01, kTimeout = 1.0, kLease = 3.0;

double Metric(DaemonProcess& d, const std::string& series) {
  return MetricValue(HttpGet(d.Port(), "/metrics").body, series).value_or(std::nan(""));
}

std::string Series(const std::string& name, const std::string& target) { return name + "{target=\"" + target + "\"}"; }

// Two targets on local disk, the history in `history`.
std::string Config(const std::filesystem::path& dir, const std::filesystem::path& history) {
  std::ostringstream c;
  c << "[host]\nid = \"h1\"\n[web]\nlisten_address = \"127.0.0.1:0\"\n"
    << "[heartbeat]\ninterval_seconds = " << kInterval << "\ntimeout_seconds = " << kTimeout
    << "\nlease_seconds = " << kLease << "\n"
    << "[fence]\naction = \"log-only\"\njournal_path = \"" << (dir / "journal.jsonl").string() << "\"\n"
    << "runtime_directory = \"" << (dir / "run").string() << "\"\n"
    << "sysrq_trigger_path = \"" << (dir / "sysrq").string() << "\"\n"
    << "[history]\nenabled = true\npath = \"" << history.string() << "\"\n"
    << "[[target]]\nname = \"ok\"\npath = \"" << (dir / "ok" / "hb").string() << "\"\n"
    << "[[target]]\nname = \"dying\"\npath = \"" << (dir / "dying" / "hb").string() << "\"\n";
  return c.str();
}

TEST(HistoryFaultTest, AHungHistoryDiskDelaysNoHeartbeatNoDecisionAndNoShutdown) {
  std::string why;
  if (!FaultFsMount::Available(&why)) GTEST_SKIP() << why;
  TempDir dir;
  auto fs = FaultFsMount::Start(dir / "fuse", &why);
  ASSERT_TRUE(fs) << why;
  WriteFile(dir / "hbfence.toml", Config(dir.path(), fs->mount_point() / "history"));
  DaemonProcess d({"--config", (dir / "hbfence.toml").string()}, dir / "daemon.log");
  ASSERT_GT(d.Port(), 0) << d.Log();
  const std::string ok_writes = Series("hbfence_heartbeat_writes_total", "ok");
  ASSERT_TRUE(WaitForMetric(d.Port(), ok_writes, [](double v) { return v >= 3; })) << d.Log();
  // The history works before the disk hangs: its files reached the disk.
  ASSERT_TRUE(WaitForMetric(d.Port(), ok_writes, [&](double) {
    return std::filesystem::exists(fs->backing_dir() / "history" / "dying.hbh");
  })) << d.Log();

  // The data path (open, write, fsync, rename...), as a dead local disk hangs it, but
  // not flush: the kernel flushes every file still open when a process exits, and
  // no signal interrupts that wait. The history closes its files after each drain,
  // but a hang that begins inside one (about a millisecond a second; this test
  // starts it right after a drain created the file) leaves that file open.
  ASSERT_TRUE(fs->SetMode("hang", &why)) << why;
  const auto hung_at = std::chrono::steady_clock::now();
  const double writes_at_hang = Metric(d, ok_writes);

  // The dying target's storage breaks: a file where its directory was.
  std::filesystem::create_directories(dir / "dying");
  const int err = SwapWithAFile(dir / "dying");
  ASSERT_EQ(err, 0) << std::strerror(err);
  ASSERT_TRUE(WaitForMetric(d.Port(), "hbfence_fence_decisions_total{action=\"log-only\"}",
                            [](double v) { return v >= 1; }, std::chrono::seconds(static_cast<int>(kLease) + 10)))
      << d.Log();
  // When it decided, against the last success the engine counted from: the journal's
  // time (to the millisecond) and the target's last success are both the daemon's.
  const auto journal = ReadAll(dir / "journal.jsonl");
  const auto entry = ParseJsonLine(journal.substr(0, journal.find('\n')));
  ASSERT_TRUE(entry) << journal;
  const double last_success = Metric(d, Series("hbfence_heartbeat_last_success_timestamp_seconds", "dying"));
  const double decided_after = ToUnixSeconds(entry->time) - last_success;
  std::printf("decision %.3f s after the dying target's last success (lease %.1f s)\n", decided_after, kLease);
  EXPECT_GE(decided_after, kLease - 0.002) << "never before the lease (the journal keeps milliseconds)";
  EXPECT_LT(decided_after, kLease + 1.0) << "at the lease, not held back by the hung history";

  // The queue of unwritten records fills and the rest are dropped, not waited for.
  const std::string queue_full = "hbfence_history_records_dropped_total{reason=\"queue_full\",target=\"ok\"}";
  ASSERT_TRUE(WaitForMetric(d.Port(), queue_full, [](double v) { return v > 0; }, 90s)) << d.Log();
  const double hung_for = ToSeconds(std::chrono::steady_clock::now() - hung_at);
  const double ok_written = Metric(d, ok_writes) - writes_at_hang;
  std::printf("history hung for %.1f s until records were dropped; %.0f heartbeats of the healthy target in that time"
              " (%.0f at the interval)\n", hung_for, ok_written, hung_for / kInterval);
  EXPECT_GE(ok_written, 0.5 * hung_for / kInterval) << "heartbeats kept to their interval";
  EXPECT_EQ(Metric(d, Series("hbfence_heartbeat_write_timeouts_total", "ok")), 0) << d.Log();
  EXPECT_EQ(Metric(d, Series("hbfence_target_up", "ok")), 1);

  const auto stop = std::chrono::steady_clock::now();
  d.Signal(SIGTERM);
  const auto status = d.WaitExit(10s);
  ASSERT_TRUE(status) << "shutdown wedged by the abandoned history thread\n" << d.Log();
  const double stopped_in = ToSeconds(std::chrono::steady_clock::now() - stop);
  std::printf("SIGTERM to exit: %.3f s\n", stopped_in);
  EXPECT_LT(stopped_in, 5.0);
  EXPECT_TRUE(WIFEXITED(*status)) << d.Log();
  EXPECT_NE(d.Log().find("the write history is still blocked in the kernel at shutdown; abandoning it"),
            std::string::npos)
      << d.Log();
}

// `hbfence replay` and `advise` read a history whose disk does not answer: they end
// with the reason after their bound (30 s) instead of hanging the operator's shell.
TEST(HistoryFaultTest, ReplayOfAHistoryOnAHungDiskEndsWithTheReason) {
  std::string why;
  if (!FaultFsMount::Available(&why)) GTEST_SKIP() << why;
  TempDir dir;
  auto fs = FaultFsMount::Start(dir / "fuse", &why);
  ASSERT_TRUE(fs) << why;
  const auto history = fs->mount_point() / "history";
  std::filesystem::create_directories(fs->backing_dir() / "history");
  WriteFile(dir / "hbfence.toml", Config(dir.path(), history));
  ASSERT_TRUE(fs->SetMode("hang@all", &why)) << why;
  const auto started = std::chrono::steady_clock::now();
  const auto [code, output] = RunCapture({HBFENCE_BIN, "replay", "--config", (dir / "hbfence.toml").string()});
  const double took = ToSeconds(std::chrono::steady_clock::now() - started);
  std::printf("replay on a hung history disk ended after %.1f s with exit %d\n", took, code);
  EXPECT_NE(code, 0) << output;
  EXPECT_NE(output.find(history.string() + ": reading the write history did not finish within 30 s"), std::string::npos)
      << output;
  EXPECT_LT(took, 45.0);
}

}  // namespace
}  // namespace hbfence
