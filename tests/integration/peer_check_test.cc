// SPDX-License-Identifier: Apache-2.0

// The real `hbfence peer-check` against a heartbeat file written by a real hbfence
// daemon (CloudStack layout on a tmpfs pool) and against a block target's sector
// (a sparse file standing in for the device), then against what a dead or broken
// host leaves behind. Every verdict exits 0: CloudStack parses the first line.
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/support/daemon_process.h"
#include "tests/support/temp_dir.h"

namespace hbfence {
namespace {

using namespace std::chrono_literals;
using testing::DaemonProcess;
using testing::RunCapture;
using testing::TempDir;
using testing::WaitForMetric;
using testing::WriteFile;

struct PeerCheckRun {
  int exit_code = -1;
  std::string first_line;
  std::string rest;  // the reasons
};

PeerCheckRun RunPeerCheck(std::vector<std::string> argv, int window_seconds) {
  argv.insert(argv.begin(), {HBFENCE_BIN, "peer-check"});
  argv.insert(argv.end(), {"--window", std::to_string(window_seconds)});
  const auto [rc, out] = RunCapture(argv);
  const auto eol = out.find('\n');
  return {rc, out.substr(0, eol), eol == std::string::npos ? "" : out.substr(eol + 1)};
}

PeerCheckRun PeerCheck(const std::filesystem::path& file, int window_seconds) {
  return RunPeerCheck({"--path", file.string()}, window_seconds);
}

PeerCheckRun PeerCheckBlock(const std::filesystem::path& device, uint64_t offset, int window_seconds) {
  return RunPeerCheck({"--block", device.string(), "--offset", std::to_string(offset)}, window_seconds);
}

int64_t UnixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// N from an exact DEAD line for `source` and `window`; nullopt if the line is anything else.
// The line opens with "=====> DEAD <======", which both agents find: older releases
// look for "> DEAD <", current ones for "DEAD".
std::optional<int64_t> DeadSecondsAgo(const std::string& line, const std::string& source, int window) {
  const std::string head = "=====> DEAD <====== Considering host as DEAD because last write on [" + source + "] was [";
  const std::string tail = "] seconds ago, but the max interval is [" + std::to_string(window) + "]";
  if (line.size() <= head.size() + tail.size() || line.rfind(head, 0) != 0 ||
      line.compare(line.size() - tail.size(), tail.size(), tail) != 0) {
    return std::nullopt;
  }
  const std::string n = line.substr(head.size(), line.size() - head.size() - tail.size());
  if (n.find_first_not_of("-0123456789") != std::string::npos) return std::nullopt;
  return std::stoll(n);
}

class PeerCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(pool());
    if (::mount("tmpfs", pool().c_str(), "tmpfs", 0, "size=1m") != 0) {
      GTEST_SKIP() << "cannot mount a tmpfs pool (needs root): " << std::strerror(errno);
    }
    mounted_ = true;
  }
  void TearDown() override {
    daemon_.reset();
    if (mounted_) ::umount2(pool().c_str(), MNT_DETACH);
  }

  std::filesystem::path pool() const { return dir / "pool"; }
  std::filesystem::path hb_file() const { return pool() / "KVMHA" / "hb-10.1.34.125"; }

  DaemonProcess& StartDaemon(const std::string& target = "") {
    std::ostringstream c;
    c << "[host]\nid = \"10.1.34.125\"\n"
      << "[web]\nlisten_address = \"127.0.0.1:0\"\n"
      << "[heartbeat]\ninterval_seconds = 0.2\ntimeout_seconds = 0.5\nlease_seconds = 5\n"
      << "[fence]\naction = \"log-only\"\n"
      << "journal_path = \"" << (dir / "state" / "fence-journal.jsonl").string() << "\"\n"
      << "runtime_directory = \"" << (dir / "run").string() << "\"\n"
      << "sysrq_trigger_path = \"" << (dir / "sysrq").string() << "\"\n"
      << "systemctl_path = \"" << (dir / "systemctl").string() << "\"\n"
      << (target.empty() ? CloudStackTarget() : target);
    WriteFile(dir / "hbfence.toml", c.str());
    daemon_ = std::make_unique<DaemonProcess>(std::vector<std::string>{"--config", (dir / "hbfence.toml").string()},
                                              dir / "daemon.log");
    return *daemon_;
  }

  std::string CloudStackTarget() const {
    return "[[target]]\nname = \"primary\"\nlayout = \"cloudstack\"\nmount = \"" + pool().string() + "\"\n" +
           "allow_local_filesystem = true\n";  // the pool is a tmpfs here
  }

  TempDir dir;

 private:
  bool mounted_ = false;
  std::unique_ptr<DaemonProcess> daemon_;
};

TEST_F(PeerCheckTest, AliveWhileTheDaemonWritesThenDeadOnceItStops) {
  DaemonProcess& d = StartDaemon();
  ASSERT_GT(d.Port(), 0) << d.Log();
  ASSERT_TRUE(WaitForMetric(d.Port(), "hbfence_heartbeat_last_success_timestamp_seconds{target=\"primary\"}",
                            [](double v) { return v > 0; }))
      << d.Log();

  // Interval 0.2 s: a 2 s window is above interval + 1 s.
  const PeerCheckRun alive = PeerCheck(hb_file(), 2);
  EXPECT_EQ(alive.exit_code, 0);
  EXPECT_EQ(alive.first_line, "=====> ALIVE <=====");
  EXPECT_EQ(alive.rest, "");

  d.Signal(SIGTERM);
  const auto status = d.WaitExit(5s);
  ASSERT_TRUE(status && WIFEXITED(*status)) << d.Log();

  // DEAD needs the whole window: a writer may write just before it ends.
  const auto started = std::chrono::steady_clock::now();
  const PeerCheckRun dead = PeerCheck(hb_file(), 2);
  EXPECT_GE(std::chrono::steady_clock::now() - started, 2s);
  EXPECT_EQ(dead.exit_code, 0);
  const auto seconds_ago = DeadSecondsAgo(dead.first_line, hb_file().string(), 2);
  ASSERT_TRUE(seconds_ago) << dead.first_line;
  EXPECT_GE(*seconds_ago, 2);
  EXPECT_LE(*seconds_ago, 30) << "generous: the daemon wrote until a moment ago";
  EXPECT_NE(dead.rest.find("did not advance in 2 s"), std::string::npos) << dead.rest;
}

// The agent checks its pools in turn within one timeout (360 s) and reads a timeout
// as alive, so a live writer must not cost the whole window (CloudStack's -t 60):
// ALIVE is answered at the first read that shows progress.
TEST_F(PeerCheckTest, AliveIsAnsweredAsSoonAsTheValueAdvancesNotAfterTheWindow) {
  DaemonProcess& d = StartDaemon();
  ASSERT_GT(d.Port(), 0) << d.Log();
  ASSERT_TRUE(WaitForMetric(d.Port(), "hbfence_heartbeat_last_success_timestamp_seconds{target=\"primary\"}",
                            [](double v) { return v > 0; }))
      << d.Log();
  for (int run = 0; run < 3; ++run) {
    const auto started = std::chrono::steady_clock::now();
    const PeerCheckRun alive = PeerCheck(hb_file(), 60);
    const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    EXPECT_EQ(alive.first_line, "=====> ALIVE <=====") << alive.rest;
    // The file holds whole seconds: the value advances within about 1 s (+ interval).
    EXPECT_LT(took, 3.0) << "ALIVE after " << took << " s of a 60 s window";
    std::cout << "peer-check --path, writer interval 0.2 s, window 60 s: ALIVE after " << took << " s\n";
  }
}

TEST_F(PeerCheckTest, BlockAliveIsAnsweredAsSoonAsTheSequenceAdvances) {
  const auto device = dir / "lun";
  WriteFile(device, "");
  std::filesystem::resize_file(device, 1 << 20);
  DaemonProcess& d = StartDaemon("[[target]]\nname = \"lun\"\nkind = \"block\"\npath = \"" + device.string() + "\"\n");
  ASSERT_GT(d.Port(), 0) << d.Log();
  ASSERT_TRUE(WaitForMetric(d.Port(), "hbfence_heartbeat_last_success_timestamp_seconds{target=\"lun\"}",
                            [](double v) { return v > 0; }))
      << d.Log();
  const auto started = std::chrono::steady_clock::now();
  const PeerCheckRun alive = PeerCheckBlock(device, 0, 60);
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  EXPECT_EQ(alive.first_line, "=====> ALIVE <=====") << alive.rest;
  EXPECT_LT(took, 2.0) << "ALIVE after " << took << " s of a 60 s window";
  std::cout << "peer-check --block, writer interval 0.2 s, window 60 s: ALIVE after " << took << " s\n";
}

// Files that cannot prove a live writer are DEAD at once (no window to wait out),
// with N = our Unix time (as if the file said 0) and the reason on the next line.
TEST_F(PeerCheckTest, MissingEmptyAndGarbageAreDeadWithTheReason) {
  WriteFile(pool() / "KVMHA" / "hb-empty", "");
  WriteFile(pool() / "KVMHA" / "hb-garbage", "17950O0000\n");
  struct Case {
    std::string name, reason;
  };
  for (const Case& c : {Case{"hb-missing", "No such file or directory"}, Case{"hb-empty", "is empty"},
                        Case{"hb-garbage", "does not hold Unix seconds"}}) {
    const auto file = pool() / "KVMHA" / c.name;
    const int64_t before = UnixNow();
    const PeerCheckRun run = PeerCheck(file, 5);
    const int64_t after = UnixNow();
    EXPECT_EQ(run.exit_code, 0) << c.name;
    const auto seconds_ago = DeadSecondsAgo(run.first_line, file.string(), 5);
    ASSERT_TRUE(seconds_ago) << c.name << ": " << run.first_line;
    EXPECT_GE(*seconds_ago, before) << c.name;
    EXPECT_LE(*seconds_ago, after) << c.name;
    EXPECT_NE(run.rest.find(c.reason), std::string::npos) << c.name << ": " << run.rest;
  }
}

// kvmheartbeat.sh calls a writer whose clock runs ahead ALIVE until its own clock
// catches up; peer-check only believes progress.
TEST_F(PeerCheckTest, FutureDatedFrozenFileIsDeadWithANegativeAge) {
  const auto file = pool() / "KVMHA" / "hb-ahead";
  WriteFile(file, std::to_string(UnixNow() + 3600) + "\n");
  const PeerCheckRun run = PeerCheck(file, 1);
  EXPECT_EQ(run.exit_code, 0);
  const auto seconds_ago = DeadSecondsAgo(run.first_line, file.string(), 1);
  ASSERT_TRUE(seconds_ago) << run.first_line;
  EXPECT_LE(*seconds_ago, -3590);
  EXPECT_GE(*seconds_ago, -3600);
  EXPECT_NE(run.rest.find("in our future"), std::string::npos) << run.rest;
}

// A block target's sequence advances on every write, so a window of 1 s is enough
// at an interval of 0.2 s: no whole-second resolution to wait out.
TEST_F(PeerCheckTest, BlockSectorIsAliveWhileTheDaemonWritesThenDeadOnceItStops) {
  constexpr uint64_t kOffset = 8192;
  const auto device = dir / "lun";
  WriteFile(device, "");
  std::filesystem::resize_file(device, 1 << 20);  // sparse, as a fresh LUN reads zeros
  DaemonProcess& d = StartDaemon("[[target]]\nname = \"lun\"\nkind = \"block\"\npath = \"" + device.string() +
                                 "\"\noffset = " + std::to_string(kOffset) + "\n");
  ASSERT_GT(d.Port(), 0) << d.Log();
  ASSERT_TRUE(WaitForMetric(d.Port(), "hbfence_heartbeat_last_success_timestamp_seconds{target=\"lun\"}",
                            [](double v) { return v > 0; }))
      << d.Log();

  const PeerCheckRun alive = PeerCheckBlock(device, kOffset, 1);
  EXPECT_EQ(alive.exit_code, 0);
  EXPECT_EQ(alive.first_line, "=====> ALIVE <=====") << alive.rest << d.Log();
  EXPECT_EQ(alive.rest, "");

  d.Signal(SIGTERM);
  const auto status = d.WaitExit(5s);
  ASSERT_TRUE(status && WIFEXITED(*status)) << d.Log();

  const PeerCheckRun dead = PeerCheckBlock(device, kOffset, 1);
  EXPECT_EQ(dead.exit_code, 0);
  const auto seconds_ago = DeadSecondsAgo(dead.first_line, device.string() + "@8192", 1);
  ASSERT_TRUE(seconds_ago) << dead.first_line;
  EXPECT_GE(*seconds_ago, 0);
  EXPECT_LE(*seconds_ago, 30) << "generous: the daemon wrote until a moment ago";
  EXPECT_NE(dead.rest.find("did not advance in 1 s"), std::string::npos) << dead.rest;
}

// Nothing to show progress from: DEAD at once, N = our Unix time, the reason below.
TEST_F(PeerCheckTest, NeverWrittenOrMissingDeviceIsDeadWithTheReason) {
  const auto device = dir / "lun";
  WriteFile(device, "");
  std::filesystem::resize_file(device, 1 << 20);
  struct Case {
    std::filesystem::path device;
    uint64_t offset;
    std::string name, reason;
  };
  for (const Case& c : {Case{device, 8192, device.string() + "@8192", "never written (all zeros)"},
                        Case{device, 0, device.string(), "never written (all zeros)"},
                        Case{device, 1 << 20, device.string() + "@1048576", "too small for a 4096-byte sector"},
                        Case{dir / "absent", 0, (dir / "absent").string(), "No such file or directory"}}) {
    const int64_t before = UnixNow();
    const PeerCheckRun run = PeerCheckBlock(c.device, c.offset, 5);
    const int64_t after = UnixNow();
    EXPECT_EQ(run.exit_code, 0) << c.name;
    const auto seconds_ago = DeadSecondsAgo(run.first_line, c.name, 5);
    ASSERT_TRUE(seconds_ago) << c.name << ": " << run.first_line;
    EXPECT_GE(*seconds_ago, before) << c.name;
    EXPECT_LE(*seconds_ago, after) << c.name;
    EXPECT_NE(run.rest.find(c.reason), std::string::npos) << c.name << ": " << run.rest;
  }
}

TEST_F(PeerCheckTest, UsageErrorsExitTwo) {
  const auto [rc, out] = RunCapture({HBFENCE_BIN, "peer-check", "--window", "0", "--path", hb_file().string()});
  EXPECT_EQ(rc, 2);
  EXPECT_NE(out.find("hbfence: --window 0 is not a whole number of seconds from 1 to 86400"), std::string::npos) << out;
  const auto [rc2, out2] = RunCapture({HBFENCE_BIN, "peer-check"});
  EXPECT_EQ(rc2, 2);
  EXPECT_NE(out2.find("peer-check needs --path FILE or --block DEVICE"), std::string::npos) << out2;
  const auto [rc3, out3] = RunCapture({HBFENCE_BIN, "peer-check", "--block", "/dev/sdb", "--offset", "100"});
  EXPECT_EQ(rc3, 2);
  EXPECT_NE(out3.find("--offset 100 is not a whole number of bytes"), std::string::npos) << out3;
}

}  // namespace
}  // namespace hbfence
