// SPDX-License-Identifier: Apache-2.0

// Replay equals live: the daemon runs against the FUSE fault filesystem through a
// scripted sequence of slow writes, errors and a hang, and decides (log-only); then
// `hbfence replay` with the daemon's own settings must report the same decisions
// from the history the daemon recorded, and `hbfence advise` a lease that replay
// confirms takes none.
#include <signal.h>

#include <cmath>
#include <regex>
#include <sstream>

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
using testing::TempDir;
using testing::WaitForMetric;
using testing::WriteFile;

constexpr double kInterval = 0.5, kTimeout = 1.0, kLease = 3.0;

class ReplayLiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    if (!FaultFsMount::Available(&why)) GTEST_SKIP() << why;
    fs_ = FaultFsMount::Start(dir_ / "fuse", &why);
    ASSERT_TRUE(fs_) << why;
    std::ostringstream c;
    c << "[host]\nid = \"h1\"\n[web]\nlisten_address = \"127.0.0.1:0\"\n"
      << "[heartbeat]\ninterval_seconds = " << kInterval << "\ntimeout_seconds = " << kTimeout
      << "\nlease_seconds = " << kLease << "\n"
      << "[fence]\naction = \"log-only\"\njournal_path = \"" << journal().string() << "\"\nruntime_directory = \""
      << (dir_ / "run").string() << "\"\nsysrq_trigger_path = \"" << (dir_ / "sysrq").string()
      << "\"\nsystemctl_path = \"" << (dir_ / "systemctl").string() << "\"\n"
      << "[history]\npath = \"" << (dir_ / "history").string() << "\"\n"
      << "[[target]]\nname = \"pool\"\npath = \"" << (fs_->mount_point() / "KVMHA" / "hb-h1").string()
      << "\"\nmount = \"" << fs_->mount_point().string() << "\"\n";
    WriteFile(config(), c.str());
  }
  void TearDown() override {
    daemon_.reset();
    fs_.reset();
  }

  std::filesystem::path config() const { return dir_ / "hbfence.toml"; }
  std::filesystem::path journal() const { return dir_ / "journal.jsonl"; }

  void SetMode(const std::string& mode) {
    std::string why;
    ASSERT_TRUE(fs_->SetMode(mode, &why)) << why;
  }
  bool WaitFor(const std::string& series, const std::function<bool(double)>& pred, Duration timeout = 20s) {
    const auto v = WaitForMetric(port_, series, pred, timeout);
    return v && pred(*v);
  }
  double Value(const std::string& series) {
    return MetricValue(HttpGet(port_, "/metrics").body, series).value_or(std::nan(""));
  }
  // Waits for `n` more write attempts than now.
  bool MoreAttempts(int n) {
    const double now = Value("hbfence_heartbeat_writes_total{target=\"pool\"}");
    return WaitFor("hbfence_heartbeat_writes_total{target=\"pool\"}", [&](double v) { return v >= now + n; });
  }

  std::vector<double> JournalTimes() const {
    std::vector<double> out;
    std::istringstream lines(ReadAll(journal()));
    for (std::string line; std::getline(lines, line);) {
      if (auto e = ParseJsonLine(line)) out.push_back(ToUnixSeconds(e->time));
    }
    return out;
  }

  std::pair<int, std::string> Hbfence(std::vector<std::string> args) {
    args.insert(args.begin(), {HBFENCE_BIN});
    args.insert(args.begin() + 2, {"--config", config().string()});
    return RunCapture(args);
  }

  TempDir dir_;
  std::unique_ptr<FaultFsMount> fs_;
  std::unique_ptr<DaemonProcess> daemon_;
  int port_ = 0;
};

std::vector<double> DecisionTimesInJson(const std::string& json) {
  std::vector<double> out;
  static const std::regex unix_seconds("\"unix_seconds\":([0-9.]+)");
  for (auto it = std::sregex_iterator(json.begin(), json.end(), unix_seconds); it != std::sregex_iterator(); ++it) {
    out.push_back(std::stod((*it)[1]));
  }
  return out;
}

double SettingIn(const std::string& advice, const std::string& key) {
  std::smatch m;
  const std::regex line("(^|\n)" + key + " = ([0-9.]+)");
  return std::regex_search(advice, m, line) ? std::stod(m[2]) : std::nan("");
}

TEST_F(ReplayLiveTest, ReplayWithTheDaemonsSettingsTakesTheDaemonsDecisions) {
  daemon_ = std::make_unique<DaemonProcess>(std::vector<std::string>{"--config", config().string()}, dir_ / "daemon.log");
  port_ = daemon_->Port();
  ASSERT_GT(port_, 0) << daemon_->Log();
  ASSERT_TRUE(WaitFor("hbfence_heartbeat_last_success_timestamp_seconds{target=\"pool\"}", [](double v) { return v > 0; }));
  const std::string decisions = "hbfence_fence_decisions_total{action=\"log-only\"}";
  // Slow but within the timeout: no decision, live or replayed.
  SetMode("delay:700");
  ASSERT_TRUE(MoreAttempts(4));
  // Errors for longer than the lease: decision 1.
  SetMode("eio");
  ASSERT_TRUE(WaitFor(decisions, [](double v) { return v >= 1; }));
  SetMode("ok");
  ASSERT_TRUE(WaitFor("hbfence_target_up{target=\"pool\"}", [](double v) { return v == 1; }));
  ASSERT_TRUE(MoreAttempts(3));
  // A hang longer than the lease: decision 2; the hung write completes when released.
  SetMode("hang");
  ASSERT_TRUE(WaitFor(decisions, [](double v) { return v >= 2; }));
  SetMode("ok");
  ASSERT_TRUE(WaitFor("hbfence_target_up{target=\"pool\"}", [](double v) { return v == 1; }));
  ASSERT_TRUE(MoreAttempts(3));
  daemon_->Signal(SIGTERM);
  ASSERT_EQ(daemon_->WaitExit(10s), 0) << daemon_->Log();

  const auto live = JournalTimes();
  ASSERT_EQ(live.size(), 2u) << ReadAll(journal());

  const auto [rc, json] = Hbfence({"replay", "--format", "json"});
  ASSERT_EQ(rc, 0) << json;
  const auto replayed = DecisionTimesInJson(json);
  ASSERT_EQ(replayed.size(), live.size()) << json;
  for (size_t i = 0; i < live.size(); ++i) {
    EXPECT_NEAR(replayed[i], live[i], kInterval) << "decision " << i << "\n" << json;
  }

  const auto [long_rc, long_lease] = Hbfence({"replay", "--lease", "30"});
  ASSERT_EQ(long_rc, 0) << long_lease;
  EXPECT_NE(long_lease.find("\n0 decisions with these settings"), std::string::npos) << long_lease;

  // advise: its lease takes no decision over this history; just below the worst gap
  // under its timeout, one is taken.
  const auto [advise_rc, advice] = Hbfence({"advise"});
  ASSERT_EQ(advise_rc, 0) << advice;
  const double timeout = SettingIn(advice, "timeout_seconds"), lease = SettingIn(advice, "lease_seconds");
  ASSERT_FALSE(std::isnan(timeout) || std::isnan(lease)) << advice;
  const auto [ok_rc, confirmed] =
      Hbfence({"replay", "--timeout", std::to_string(timeout), "--lease", std::to_string(lease), "--format", "json"});
  ASSERT_EQ(ok_rc, 0) << confirmed;
  EXPECT_TRUE(DecisionTimesInJson(confirmed).empty()) << advice << "\n" << confirmed;
  std::smatch gap;
  ASSERT_TRUE(std::regex_search(confirmed, gap, std::regex("\"longest_gap\":\\{\"seconds\":([0-9.]+)"))) << confirmed;
  const double worst = std::stod(gap[1]);
  EXPECT_LE(worst * 2, lease + 1e-3) << "margin 2x";
  const auto [below_rc, below] = Hbfence(
      {"replay", "--timeout", std::to_string(timeout), "--lease", std::to_string(worst - 0.05), "--format", "json"});
  ASSERT_EQ(below_rc, 0) << below;
  EXPECT_GE(DecisionTimesInJson(below).size(), 1u) << below;
}

}  // namespace
}  // namespace hbfence
