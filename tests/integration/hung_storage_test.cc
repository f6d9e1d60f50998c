// SPDX-License-Identifier: Apache-2.0

// Hung storage must not wedge hbfence: a target on the FUSE fault filesystem hangs
// in the kernel while a healthy target, /metrics and shutdown keep working.
#include <signal.h>
#include <sys/wait.h>

#include <cmath>
#include <map>
#include <sstream>

#include <gtest/gtest.h>

#include "faultfs_mount.h"
#include "fence/journal.h"
#include "metrics/http_server.h"
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

constexpr double kInterval = 0.1, kTimeout = 0.3, kLease = 1.5;

size_t CountEntries(const std::filesystem::path& dir) {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++n;
  return n;
}

// Threads by name; civetweb starts its workers lazily, up to HttpServer::kWorkers.
std::map<std::string, int> ThreadsByName(pid_t pid) {
  std::map<std::string, int> out;
  for (const auto& task : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task")) {
    std::string name = ReadAll(task.path() / "comm");
    if (!name.empty() && name.back() == '\n') name.pop_back();
    ++out[name];
  }
  return out;
}

TEST(HungStorageTest, AHungWriteWedgesNothingElse) {
  std::string why;
  if (!FaultFsMount::Available(&why)) GTEST_SKIP() << why;
  TempDir dir;
  auto fs = FaultFsMount::Start(dir / "fuse", &why);
  ASSERT_TRUE(fs) << why;

  const auto hung_file = fs->mount_point() / "KVMHA" / "hb-h1";
  std::ostringstream cfg;
  cfg << "[host]\nid = \"h1\"\n[web]\nlisten_address = \"127.0.0.1:0\"\n"
      << "[heartbeat]\ninterval_seconds = " << kInterval << "\ntimeout_seconds = " << kTimeout
      << "\nlease_seconds = " << kLease << "\n"
      << "[fence]\naction = \"log-only\"\njournal_path = \"" << (dir / "journal.jsonl").string() << "\"\n"
      << "runtime_directory = \"" << (dir / "run").string() << "\"\n"
      << "[[target]]\nname = \"hung\"\npath = \"" << hung_file.string() << "\"\nmount = \""
      << fs->mount_point().string() << "\"\n"
      << "[[target]]\nname = \"healthy\"\npath = \"" << (dir / "local" / "hb-h1").string() << "\"\n";
  WriteFile(dir / "hbfence.toml", cfg.str());
  DaemonProcess d({"--config", (dir / "hbfence.toml").string()}, dir / "daemon.log");
  const int port = d.Port();
  ASSERT_GT(port, 0) << d.Log();
  ASSERT_TRUE(WaitForMetric(port, "hbfence_heartbeat_writes_total{target=\"hung\"}", [](double v) { return v >= 2; }));
  ASSERT_EQ(ReadAll(fs->backing_dir() / "KVMHA" / "hb-h1").size(), 11u) << "writes pass through while healthy";

  ASSERT_TRUE(fs->SetMode("hang", &why)) << why;
  ASSERT_EQ(WaitForMetric(port, "hbfence_heartbeat_stuck_writes{target=\"hung\"}", [](double v) { return v == 1; }), 1)
      << d.Log();

  // While it hangs: the healthy target keeps its cadence and /metrics answers fast.
  const auto proc = std::filesystem::path("/proc") / std::to_string(d.pid());
  auto threads_before = ThreadsByName(d.pid());
  const size_t fds_before = CountEntries(proc / "fd");
  const auto scrape = [&] { return HttpGet(port, "/metrics").body; };
  const double healthy_before = *MetricValue(scrape(), "hbfence_heartbeat_writes_total{target=\"healthy\"}");
  double slowest = 0;
  for (int i = 0; i < 20; ++i) {
    const auto start = std::chrono::steady_clock::now();
    const auto r = HttpGet(port, "/metrics");
    slowest = std::max(slowest, ToSeconds(std::chrono::steady_clock::now() - start));
    EXPECT_EQ(r.status, 200);
  }
  std::printf("slowest of 20 scrapes during the hang: %.1f ms\n", slowest * 1000);
  EXPECT_LT(slowest, 0.5);

  ASSERT_EQ(WaitForMetric(port, "hbfence_fence_pending", [](double v) { return v == 1; }), 1) << d.Log();
  const std::string text = scrape();
  const double healthy_after = *MetricValue(text, "hbfence_heartbeat_writes_total{target=\"healthy\"}");
  EXPECT_GE(healthy_after - healthy_before, 5) << "the healthy target kept writing";
  EXPECT_EQ(MetricValue(text, "hbfence_target_up{target=\"healthy\"}"), 1);
  EXPECT_EQ(MetricValue(text, "hbfence_target_up{target=\"hung\"}"), 0);
  EXPECT_GE(*MetricValue(text, "hbfence_heartbeat_write_timeouts_total{target=\"hung\"}"), 3);
  EXPECT_EQ(HttpGet(port, "/healthz").status, 200);

  // The action runs only once the decision's journal entry is durable.
  ASSERT_TRUE(WaitForMetric(port, "hbfence_fence_actions_total{action=\"log-only\",result=\"logged\"}",
                            [](double v) { return v == 1; }));
  const auto entry = ParseJsonLine(ReadAll(dir / "journal.jsonl").substr(0, ReadAll(dir / "journal.jsonl").find('\n')));
  ASSERT_TRUE(entry);
  EXPECT_EQ(entry->failed_targets, std::vector<std::string>{"hung"});
  const double lateness = ToUnixSeconds(entry->time) -
                          *MetricValue(text, "hbfence_heartbeat_last_success_timestamp_seconds{target=\"hung\"}") - kLease;
  std::printf("decision %.3fs after lease expiry\n", lateness);
  EXPECT_GE(lateness, -0.01);  // wall and monotonic clocks are sampled a moment apart
  EXPECT_LE(lateness, kInterval * 2);

  // Many intervals later: one stuck writer, not a pile of them.
  ASSERT_TRUE(WaitForMetric(port, "hbfence_heartbeat_writes_total{target=\"hung\"}",
                            [&](double v) { return v >= *MetricValue(text, "hbfence_heartbeat_writes_total{target=\"hung\"}") + 10; }));
  auto threads_after = ThreadsByName(d.pid());
  EXPECT_EQ(threads_after["hbfence-writer"], 2) << "one writer per target, however long the hang";
  EXPECT_LE(threads_after["civetweb-worker"], HttpServer::kWorkers);
  threads_before.erase("civetweb-worker");
  threads_after.erase("civetweb-worker");
  EXPECT_EQ(threads_after, threads_before);
  // A snapshot may catch a healthy write or a closing HTTP connection in flight;
  // a pile-up would be one more fd per interval.
  EXPECT_LE(CountEntries(proc / "fd"), fds_before + 2);

  // SIGTERM with the write still stuck in the kernel.
  const auto start = std::chrono::steady_clock::now();
  d.Signal(SIGTERM);
  const auto status = d.WaitExit(5s);
  const double took = ToSeconds(std::chrono::steady_clock::now() - start);
  std::printf("SIGTERM with a stuck write: exited in %.3fs\n", took);
  ASSERT_TRUE(status) << d.Log();
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << d.Log();
  EXPECT_LT(took, 1.0);
  EXPECT_NE(d.Log().find("abandon"), std::string::npos) << "the stuck writer was abandoned, not waited for";
}

}  // namespace
}  // namespace hbfence

namespace hbfence {
namespace {

// peer_watch reads the other hosts' files on its own thread: a pool directory whose
// listing hangs stops the peer ages, never this host's own heartbeat.
TEST(HungStorageTest, AHungPeerScanDelaysNoWrite) {
  std::string why;
  if (!FaultFsMount::Available(&why)) GTEST_SKIP() << why;
  TempDir dir;
  auto fs = FaultFsMount::Start(dir / "fuse", &why);
  ASSERT_TRUE(fs) << why;
  std::filesystem::create_directories(fs->backing_dir() / "KVMHA");
  WriteFile(fs->backing_dir() / "KVMHA" / "hb-10.0.0.2", "1795000000\n");
  std::ostringstream cfg;
  cfg << "[host]\nid = \"10.0.0.1\"\n[web]\nlisten_address = \"127.0.0.1:0\"\n"
      << "[heartbeat]\ninterval_seconds = " << kInterval << "\ntimeout_seconds = " << kTimeout
      << "\nlease_seconds = " << kLease << "\n"
      << "[fence]\naction = \"log-only\"\njournal_path = \"" << (dir / "journal.jsonl").string() << "\"\n"
      << "runtime_directory = \"" << (dir / "run").string() << "\"\n"
      << "[[target]]\nname = \"pool\"\nlayout = \"cloudstack\"\npeer_watch = true\nmount = \""
      << fs->mount_point().string() << "\"\n";
  WriteFile(dir / "hbfence.toml", cfg.str());
  DaemonProcess d({"--config", (dir / "hbfence.toml").string()}, dir / "daemon.log");
  const int port = d.Port();
  ASSERT_GT(port, 0) << d.Log();
  const std::string peer = "hbfence_peer_heartbeat_age_seconds{peer=\"10.0.0.2\",target=\"pool\"}";
  ASSERT_TRUE(WaitForMetric(port, peer, [](double v) { return v > 0; })) << d.Log();

  // Listing the directory now hangs; the heartbeat file itself stays writable.
  ASSERT_TRUE(fs->SetMode("hang@readdir", &why)) << why;
  const auto writes = MetricValue(HttpGet(port, "/metrics").body, "hbfence_heartbeat_writes_total{target=\"pool\"}");
  ASSERT_TRUE(writes);
  ASSERT_TRUE(WaitForMetric(port, "hbfence_heartbeat_writes_total{target=\"pool\"}",
                            [&](double v) { return v >= *writes + 20; }))
      << d.Log();
  const auto body = HttpGet(port, "/metrics").body;
  EXPECT_EQ(MetricValue(body, "hbfence_heartbeat_write_timeouts_total{target=\"pool\"}"), 0.0) << d.Log();
  EXPECT_EQ(MetricValue(body, "hbfence_target_up{target=\"pool\"}"), 1.0);
  EXPECT_EQ(ThreadsByName(d.pid())["hbfence-peers"], 1) << "one stuck scan, no pile-up of scan threads";

  // Shutdown does not wait for the stuck scan.
  const auto stop = std::chrono::steady_clock::now();
  d.Signal(SIGTERM);
  const auto status = d.WaitExit(5s);
  ASSERT_TRUE(status) << d.Log();
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << d.Log();
  EXPECT_LT(std::chrono::steady_clock::now() - stop, 2s);
}

}  // namespace
}  // namespace hbfence
