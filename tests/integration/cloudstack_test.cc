// SPDX-License-Identifier: Apache-2.0

// The CloudStack side of the daemon, end to end with the real binary: pools found
// in a mount table (real tmpfs mounts standing in for NFS pools), the neighbours'
// heartbeats watched, and agent.properties read for defaults.
#include <sys/mount.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "tests/support/daemon_process.h"
#include "tests/support/temp_dir.h"

namespace hbfence {
namespace {

using namespace std::chrono_literals;
using testing::DaemonProcess;
using testing::HttpGet;
using testing::MetricValue;
using testing::ReadAll;
using testing::TempDir;
using testing::WaitForMetric;
using testing::WriteFile;

int64_t UnixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

class CloudStackTest : public ::testing::Test {
 protected:
  // A pool: a real mount point below <dir>/mnt, as CloudStack mounts /mnt/<uuid>.
  std::filesystem::path MountPool(const std::string& name) {
    const auto point = dir / "mnt" / name;
    std::filesystem::create_directories(point);
    if (::mount("tmpfs", point.c_str(), "tmpfs", 0, "size=1m") != 0) {
      ADD_FAILURE() << "cannot mount a tmpfs (needs root): " << std::strerror(errno);
    }
    mounted_.push_back(point);
    return point;
  }
  void TearDown() override {
    for (const auto& p : mounted_) ::umount2(p.c_str(), MNT_DETACH);
  }
  // The mount table the daemon reads ([cloudstack] mountinfo_path), in proc(5) format.
  void WriteMountTable(const std::vector<std::filesystem::path>& pools) {
    std::string table = "22 1 253:0 / / rw - ext4 /dev/vda rw\n";
    int id = 40;
    for (const auto& p : pools) table += std::to_string(id++) + " 22 0:99 / " + p.string() + " rw - tmpfs tmpfs rw\n";
    WriteFile(dir / "mountinfo.tmp", table);
    std::filesystem::rename(dir / "mountinfo.tmp", dir / "mountinfo");  // never read half-written
  }
  std::string Config(const std::string& cloudstack, const std::string& rest = "") const {
    return "[host]\nid = \"10.1.1.7\"\n[web]\nlisten_address = \"127.0.0.1:0\"\n"
           "[heartbeat]\ninterval_seconds = 0.1\ntimeout_seconds = 0.5\nlease_seconds = 30\n"
           "[fence]\naction = \"log-only\"\njournal_path = \"" + (dir / "journal.jsonl").string() + "\"\n"
           "runtime_directory = \"" + (dir / "run").string() + "\"\n"
           "[cloudstack]\n" + cloudstack + "\n" + rest;
  }
  std::unique_ptr<DaemonProcess> Start(const std::string& config) {
    WriteFile(dir / "hbfence.toml", config);
    auto d = std::make_unique<DaemonProcess>(std::vector<std::string>{"--config", (dir / "hbfence.toml").string()},
                                             dir / "daemon.log");
    EXPECT_GT(d->Port(), 0) << d->Log();
    return d;
  }

  TempDir dir;
  std::vector<std::filesystem::path> mounted_;
};

TEST_F(CloudStackTest, DiscoveryFollowsPoolsAsCloudStackMountsAndUnmountsThem) {
  const auto first = MountPool("0b5a");
  WriteMountTable({first});
  auto d = Start(Config("discover_pools = true\nallow_local_filesystem = true\nrediscover_interval_seconds = 0.1\n"
                        "mount_prefix = \"" + (dir / "mnt").string() + "\"\nmountinfo_path = \"" +
                        (dir / "mountinfo").string() + "\""));
  ASSERT_TRUE(WaitForMetric(d->Port(), "hbfence_heartbeat_last_success_timestamp_seconds{target=\"0b5a\"}",
                            [](double v) { return v > 0; }))
      << d->Log();
  // The file CloudStack's neighbours read, byte for byte what kvmheartbeat.sh's
  // `date +%s > hb-<ip>` leaves: ten digits of Unix time and a newline, 11 bytes.
  const std::string golden = ReadAll(first / "KVMHA" / "hb-10.1.1.7");
  ASSERT_EQ(golden.size(), 11u) << golden;
  EXPECT_EQ(golden.find_first_not_of("0123456789"), 10u) << golden;
  EXPECT_EQ(golden.back(), '\n');
  EXPECT_NEAR(std::stod(golden), static_cast<double>(UnixNow()), 5.0);

  // CloudStack mounts a second pool: it joins without a SIGHUP.
  const auto second = MountPool("77c1");
  WriteMountTable({first, second});
  ASSERT_TRUE(WaitForMetric(d->Port(), "hbfence_heartbeat_last_success_timestamp_seconds{target=\"77c1\"}",
                            [](double v) { return v > 0; }))
      << d->Log();
  EXPECT_TRUE(d->WaitForLog("pool discovery: new pool 77c1"));

  // CloudStack unmounts the first one (maintenance): it stops being a target.
  WriteMountTable({second});
  ASSERT_EQ(::umount2(first.c_str(), MNT_DETACH), 0);
  EXPECT_TRUE(d->WaitForLog("pool discovery: pool 0b5a is no longer mounted")) << d->Log();
  EXPECT_TRUE(WaitForMetric(d->Port(), "hbfence_heartbeat_writes_total{target=\"77c1\"}", [](double v) { return v >= 5; }));
  const auto body = HttpGet(d->Port(), "/metrics").body;
  EXPECT_FALSE(MetricValue(body, "hbfence_target_up{target=\"0b5a\"}")) << "its series are gone";
  EXPECT_EQ(MetricValue(body, "hbfence_fence_pending"), 0.0);
  EXPECT_TRUE(std::filesystem::is_empty(first)) << "nothing is written where the pool used to be";
}

TEST_F(CloudStackTest, TheNeighboursHeartbeatAgesAreExportedAndResetWhenTheyAdvance) {
  const auto pool = MountPool("0b5a");
  std::filesystem::create_directories(pool / "KVMHA");
  const int64_t written = UnixNow() - 5;
  WriteFile(pool / "KVMHA" / "hb-10.1.1.8", std::to_string(written) + "\n");
  auto d = Start(Config("", "[[target]]\nname = \"primary\"\nmount = \"" + pool.string() +
                                "\"\nlayout = \"cloudstack\"\nallow_local_filesystem = true\npeer_watch = true\n"));
  const std::string series = "hbfence_peer_heartbeat_age_seconds{peer=\"10.1.1.8\",target=\"primary\"}";
  // First sighting: as old as its own timestamp says, then growing on our clock.
  auto age = WaitForMetric(d->Port(), series, [](double v) { return v >= 6; });
  ASSERT_TRUE(age) << d->Log();
  EXPECT_LT(*age, 60);
  const auto body = HttpGet(d->Port(), "/metrics").body;
  EXPECT_FALSE(MetricValue(body, "hbfence_peer_heartbeat_age_seconds{peer=\"10.1.1.7\",target=\"primary\"}"))
      << "our own file is not a peer";

  WriteFile(pool / "KVMHA" / "hb-10.1.1.8", std::to_string(written + 10) + "\n");  // the peer writes again
  EXPECT_TRUE(WaitForMetric(d->Port(), series, [](double v) { return v < 1; })) << d->Log();

  std::filesystem::remove(pool / "KVMHA" / "hb-10.1.1.8");  // the peer is gone: so is its series
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    gone = !MetricValue(HttpGet(d->Port(), "/metrics").body, series);
    if (!gone) std::this_thread::sleep_for(50ms);  // polling a scrape, not synchronising
  }
  EXPECT_TRUE(gone);
}

TEST_F(CloudStackTest, AnUnknownAgentFenceActionIsAWarningAMetricAndHardReboot) {
  WriteFile(dir / "agent.properties", "kvm.heartbeat.fence.action=reboot-now\n");
  const std::string config =
      "[host]\nid = \"h\"\n[web]\nlisten_address = \"127.0.0.1:0\"\n"
      "[heartbeat]\ninterval_seconds = 0.1\ntimeout_seconds = 0.5\nlease_seconds = 30\n"
      "[fence]\njournal_path = \"" + (dir / "journal.jsonl").string() + "\"\nruntime_directory = \"" +
      (dir / "run").string() + "\"\nsysrq_trigger_path = \"" +
      (dir / "sysrq").string() + "\"\n[cloudstack]\nagent_properties = \"agent.properties\"\n"
      "[[target]]\nname = \"t\"\npath = \"" + (dir / "hb").string() + "\"\n";
  auto d = Start(config);
  EXPECT_TRUE(WaitForMetric(d->Port(), "hbfence_config_unknown_fence_action", [](double v) { return v == 1; }));
  const auto body = HttpGet(d->Port(), "/metrics").body;
  EXPECT_EQ(MetricValue(body, "hbfence_config_info{fence_action=\"hard-reboot\",policy=\"any\"}"), 1.0);
  EXPECT_TRUE(d->WaitForLog("\"reboot-now\" is not one of")) << d->Log();
}

// check-config's lines for a configuration file with `agent_properties` beside it.
std::pair<int, std::string> CheckConfigWith(const TempDir& dir, const std::string& host_id,
                                            const std::string& agent_properties, bool in_netns_with_lo_address) {
  WriteFile(dir / "agent.properties", agent_properties);
  WriteFile(dir / "hbfence.toml", "[host]\nid = \"" + host_id + "\"\n"
                                  "[cloudstack]\nagent_properties = \"agent.properties\"\n"
                                  "[[target]]\nname = \"t\"\npath = \"" + (dir / "hb").string() + "\"\n");
  const std::string check = std::string(HBFENCE_BIN) + " check-config --config " + (dir / "hbfence.toml").string();
  if (!in_netns_with_lo_address) return testing::RunCapture({"/bin/sh", "-c", check});
  // A network namespace of its own, where `lo` also carries 192.0.2.7: the agent's
  // private device and address without touching the host's network.
  return testing::RunCapture({"/usr/bin/unshare", "--net", "/bin/sh", "-c",
                              "ip link set lo up && ip addr add 192.0.2.7/32 dev lo && " + check});
}

// java.util.Properties keeps the blanks after "log-only"; CloudStack's fence helper
// (PR #13090) strips them and logs only. Read as an unknown action, they would make
// hbfence hard-reboot the host instead.
TEST_F(CloudStackTest, CheckConfigReadsTheFenceActionWithTrailingBlanksAsTheHelperDoes) {
  const auto [rc, out] = CheckConfigWith(dir, "h", "kvm.heartbeat.fence.action=log-only \t \n", false);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("action = \"log-only\"  # " + (dir / "agent.properties").string() +
                     ":1 (kvm.heartbeat.fence.action)"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("# fencing is DISARMED (log-only)"), std::string::npos) << out;
  EXPECT_EQ(out.find("is not one of"), std::string::npos) << out;
  const auto [rc2, out2] = CheckConfigWith(dir, "h", "kvm.heartbeat.fence.action=restart-agent   \n", false);
  EXPECT_EQ(rc2, 0) << out2;
  EXPECT_NE(out2.find("action = \"restart-agent\"  # "), std::string::npos) << out2;
  EXPECT_EQ(out2.find("is not one of"), std::string::npos) << out2;
}

// KVMHAMonitor names this host by the first IPv4 address of agent.properties'
// private.network.device (NetUtils.getNetworkParams); its neighbours read hb-<that>.
TEST_F(CloudStackTest, CheckConfigSaysWhetherHostIdIsTheAgentsPrivateAddress) {
  if (::access("/usr/bin/unshare", X_OK) != 0 || testing::RunCapture({"/usr/bin/unshare", "--net", "true"}).first != 0) {
    GTEST_SKIP() << "needs unshare --net (root)";
  }
  auto [rc, out] = CheckConfigWith(dir, "192.0.2.7", "private.network.device=lo\n", true);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("id = \"192.0.2.7\"  # " + (dir / "hbfence.toml").string() + ":2:"), std::string::npos) << out;
  EXPECT_NE(out.find("# host.id matches the CloudStack agent's private IP 192.0.2.7 (the IPv4 address of lo, "
                     "private.network.device at " + (dir / "agent.properties").string() + ":1)"),
            std::string::npos)
      << out;
  EXPECT_EQ(out.find("# warning"), std::string::npos) << out;

  std::tie(rc, out) = CheckConfigWith(dir, "kvm07", "private.network.device=lo\n", true);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("# warning: host.id \"kvm07\" is not the CloudStack agent's private IP 192.0.2.7"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("hb-192.0.2.7"), std::string::npos) << out;
}

}  // namespace
}  // namespace hbfence
