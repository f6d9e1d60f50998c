// SPDX-License-Identifier: Apache-2.0

// Operating hbfence for real, against stand-ins: a hardware-watchdog stand-in file,
// a systemd notify socket in the test, basic auth, request limits, fence limits.
#include <crypt.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "fence/journal.h"
#include "tests/support/base64.h"
#include "tests/support/daemon_process.h"
#include "tests/support/temp_dir.h"

namespace hbfence {
namespace {

using namespace std::chrono_literals;
using testing::Base64;
using testing::DaemonProcess;
using testing::HttpGet;
using testing::MetricValue;
using testing::ReadAll;
using testing::TempDir;
using testing::SwapWithAFile;
using testing::WaitForMetric;
using testing::WriteFile;

class OperationsTest : public ::testing::Test {
 protected:
  std::string Config(const std::string& action, const std::string& extra = "") const {
    return "[host]\nid = \"h1\"\n[web]\nlisten_address = \"127.0.0.1:0\"\n"
           "[heartbeat]\ninterval_seconds = 0.1\ntimeout_seconds = 0.3\nlease_seconds = 1\n"
           "[fence]\naction = \"" + action + "\"\njournal_path = \"" + (dir / "journal.jsonl").string() +
           "\"\nruntime_directory = \"" + (dir / "run").string() + "\"\nsysrq_trigger_path = \"" + (dir / "sysrq").string() + "\"\nsync_grace_seconds = 0.1\n" + extra +
           "[[target]]\nname = \"pool\"\npath = \"" + (dir / "pool" / "hb").string() + "\"\n";
  }
  std::unique_ptr<DaemonProcess> Start(const std::string& config, const std::vector<std::string>& env = {}) {
    WriteFile(dir / "hbfence.toml", config);
    return std::make_unique<DaemonProcess>(std::vector<std::string>{"--config", (dir / "hbfence.toml").string()},
                                           dir / "daemon.log", env);
  }
  // A regular file where the heartbeat directory was. The daemon's first write may
  // not have created the directory yet.
  void BreakTarget() {
    std::filesystem::create_directories(dir / "pool");
    const int err = SwapWithAFile(dir / "pool");
    ASSERT_EQ(err, 0) << std::strerror(err);
  }
  // Waits until the watchdog stand-in has grown by at least `pets` bytes.
  bool WaitForPets(size_t from, size_t pets) { return WaitForPetsWithin(from, 10s, pets); }
  bool WaitForPetsWithin(size_t from, Duration within, size_t pets = 1) {
    const auto deadline = std::chrono::steady_clock::now() + within;
    while (std::chrono::steady_clock::now() < deadline) {
      if (ReadAll(dir / "watchdog").size() >= from + pets) return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }

  TempDir dir;
};

TEST_F(OperationsTest, WatchdogIsPettedInLogOnlyAndDisarmedOnCleanExit) {
  WriteFile(dir / "watchdog", "");
  auto d = Start(Config("log-only", "[watchdog]\ndevice = \"" + (dir / "watchdog").string() + "\"\ntimeout_seconds = 3\n"));
  ASSERT_GT(d->Port(), 0) << d->Log();
  ASSERT_TRUE(WaitForPets(0, 2)) << "petted every timeout/3";
  BreakTarget();
  ASSERT_EQ(WaitForMetric(d->Port(), "hbfence_fence_pending", [](double v) { return v == 1; }), 1);
  const size_t at_decision = ReadAll(dir / "watchdog").size();
  EXPECT_TRUE(WaitForPets(at_decision, 2)) << "log-only never stops petting because of storage";
  d->Signal(SIGTERM);
  ASSERT_TRUE(d->WaitExit(5s));
  const std::string pets = ReadAll(dir / "watchdog");
  EXPECT_EQ(pets.back(), 'V') << "a clean shutdown disarms with the magic close";
  EXPECT_EQ(pets.find_first_not_of('1'), pets.size() - 1);
}

TEST_F(OperationsTest, WatchdogStopsBeingPettedOnceAHardRebootStands) {
  WriteFile(dir / "watchdog", "");
  WriteFile(dir / "sysrq", "");
  auto d = Start(Config("hard-reboot", "[watchdog]\ndevice = \"" + (dir / "watchdog").string() + "\"\ntimeout_seconds = 3\n"));
  ASSERT_GT(d->Port(), 0) << d->Log();
  ASSERT_TRUE(WaitForPets(0, 1));
  BreakTarget();
  ASSERT_EQ(WaitForMetric(d->Port(), "hbfence_fence_actions_total{action=\"hard-reboot\",result=\"success\"}",
                          [](double v) { return v == 1; }),
            1);
  const size_t after = ReadAll(dir / "watchdog").size();
  // Two full pet periods (1 s each) without a pet: the watchdog is left to fire.
  EXPECT_FALSE(WaitForPetsWithin(after, 2s));
  d->Signal(SIGTERM);
  ASSERT_TRUE(d->WaitExit(5s));
  const std::string pets = ReadAll(dir / "watchdog");
  EXPECT_EQ(pets.find('V'), std::string::npos) << "stays armed: the host must reset";
  EXPECT_NE(d->Log().find("no longer petting the hardware watchdog"), std::string::npos);
}

// A stand-in for systemd's notify socket.
class NotifySocket {
 public:
  explicit NotifySocket(const std::filesystem::path& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    timeval tv{0, 200000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~NotifySocket() { ::close(fd_); }
  // Collects messages until one contains `needle` (bounded).
  bool WaitFor(const std::string& needle, Duration timeout = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      char buf[4096];
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n > 0) messages_.emplace_back(buf, static_cast<size_t>(n));
      for (const auto& m : messages_) {
        if (m.find(needle) != std::string::npos) return true;
      }
    }
    return false;
  }
  const std::vector<std::string>& messages() const { return messages_; }

 private:
  std::filesystem::path path_;
  int fd_ = -1;
  std::vector<std::string> messages_;
};

TEST_F(OperationsTest, NotifiesReadinessStatusAndLiveness) {
  NotifySocket notify(dir / "notify.sock");
  auto d = Start(Config("log-only"), {"NOTIFY_SOCKET=" + (dir / "notify.sock").string(), "WATCHDOG_USEC=400000"});
  ASSERT_TRUE(notify.WaitFor("READY=1")) << d->Log();
  EXPECT_TRUE(notify.WaitFor("STATUS=ok: 1/1 targets up; fencing disarmed (log-only)"));
  EXPECT_TRUE(notify.WaitFor("WATCHDOG=1"));
  BreakTarget();
  EXPECT_TRUE(notify.WaitFor("STATUS=FENCE DECIDED (log-only): 0/1 targets up; down: pool"));
  d->Signal(SIGTERM);
  EXPECT_TRUE(notify.WaitFor("STOPPING=1"));
  size_t alive = 0;
  for (const auto& m : notify.messages()) alive += m.find("WATCHDOG=1") != std::string::npos;
  EXPECT_GE(alive, 2u) << "sent every WatchdogSec/2 while the loop runs";
}

TEST_F(OperationsTest, BasicAuthProtectsMetrics) {
  char salt[64];
  ASSERT_NE(crypt_gensalt_rn("$2y$", 5, nullptr, 0, salt, sizeof salt), nullptr);
  crypt_data data{};
  const std::string hash = crypt_r("s3cret", salt, &data);
  ASSERT_EQ(hash.rfind("$2y$05$", 0), 0u);
  auto d = Start(Config("log-only").replace(Config("log-only").find("[heartbeat]"), 0,
                                            "[web.basic_auth_users]\nprometheus = \"" + hash + "\"\n"));
  ASSERT_GT(d->Port(), 0) << d->Log();
  EXPECT_EQ(HttpGet(d->Port(), "/metrics").status, 401);
  const auto wrong = "Authorization: Basic " + Base64("prometheus:nope") + "\r\n";
  EXPECT_EQ(HttpGet(d->Port(), "/metrics", "GET", 5s, wrong).status, 401);
  const auto right = "Authorization: Basic " + Base64("prometheus:s3cret") + "\r\n";
  const auto ok = HttpGet(d->Port(), "/metrics", "GET", 5s, right);
  EXPECT_EQ(ok.status, 200);
  EXPECT_NE(ok.body.find("hbfence_target_up"), std::string::npos);
}

TEST_F(OperationsTest, OversizedRequestsAreRefused) {
  auto d = Start(Config("log-only"));
  ASSERT_GT(d->Port(), 0) << d->Log();
  const auto big = "X-Padding: " + std::string(20000, 'a') + "\r\n";
  EXPECT_NE(HttpGet(d->Port(), "/metrics", "GET", 5s, big).status, 200);
  EXPECT_EQ(HttpGet(d->Port(), "/metrics").status, 200) << "and the server is still fine";
}

TEST_F(OperationsTest, RestartAgentEscalatesAfterItsHourlyLimit) {
  testing::WriteRecorderScript(dir / "systemctl", dir / "systemctl.log");
  WriteFile(dir / "sysrq", "");
  // Two agent restarts already in the journal within the hour, from earlier runs.
  const auto now = std::chrono::system_clock::now();
  for (int i = 1; i <= 2; ++i) {
    ASSERT_TRUE(AppendJournalEntry(dir / "journal.jsonl", {now - std::chrono::minutes(10 * i), "h1", "restart-agent", "any", {"pool"}, "earlier"}, 1 << 20).ok());
  }
  auto d = Start(Config("restart-agent", "systemctl_path = \"" + (dir / "systemctl").string() +
                                             "\"\nrestart_agent_max_per_hour = 2\n"));
  ASSERT_GT(d->Port(), 0) << d->Log();
  // The pool's directory exists once the first write landed; breaking it before
  // then raced with that write.
  ASSERT_TRUE(d->WaitForLog("first heartbeat written")) << d->Log();
  BreakTarget();
  ASSERT_EQ(WaitForMetric(d->Port(), "hbfence_fence_actions_total{action=\"restart-agent\",result=\"rate_limited\"}",
                          [](double v) { return v == 1; }),
            1)
      << d->Log();
  ASSERT_EQ(WaitForMetric(d->Port(), "hbfence_fence_actions_total{action=\"hard-reboot\",result=\"success\"}",
                          [](double v) { return v == 1; }),
            1);
  EXPECT_FALSE(std::filesystem::exists(dir / "systemctl.log")) << "no third restart";
  EXPECT_EQ(ReadAll(dir / "sysrq"), "b");
  EXPECT_EQ(ReadJournalEntries(dir / "journal.jsonl").back().action, "hard-reboot") << "journaled as what ran";
}

TEST_F(OperationsTest, RebootLoopIsCappedByTheJournal) {
  WriteFile(dir / "sysrq", "");
  const auto now = std::chrono::system_clock::now();
  for (int i = 1; i <= 3; ++i) {
    ASSERT_TRUE(AppendJournalEntry(dir / "journal.jsonl", {now - std::chrono::minutes(5 * i), "h1", "hard-reboot", "any", {"pool"}, "earlier"}, 1 << 20).ok());
  }
  auto d = Start(Config("hard-reboot"));
  ASSERT_GT(d->Port(), 0) << d->Log();
  // The pool's directory exists once the first write landed; breaking it before
  // then raced with that write.
  ASSERT_TRUE(d->WaitForLog("first heartbeat written")) << d->Log();
  BreakTarget();
  ASSERT_EQ(WaitForMetric(d->Port(), "hbfence_fence_actions_total{action=\"hard-reboot\",result=\"rate_limited\"}",
                          [](double v) { return v == 1; }),
            1)
      << d->Log();
  EXPECT_EQ(WaitForMetric(d->Port(), "hbfence_fence_actions_total{action=\"log-only\",result=\"logged\"}",
                          [](double v) { return v == 1; }),
            1);
  EXPECT_EQ(ReadAll(dir / "sysrq"), "") << "a fourth reboot within the hour is not attempted";
  const auto last = ReadJournalEntries(dir / "journal.jsonl").back();
  EXPECT_EQ(last.action, "log-only");
  EXPECT_NE(last.reason.find("reboots in the past hour"), std::string::npos) << last.reason;
  EXPECT_EQ(MetricValue(HttpGet(d->Port(), "/metrics").body, "hbfence_fence_pending"), 1);
}

// The clock was stepped back a day after three reboots: the journal's entries now
// lie in the future. They must not count toward max_fences_per_hour, or the host
// would never be fenced again, nor show as the last fence.
TEST_F(OperationsTest, JournalEntriesFromTheFutureDoNotStopTheFence) {
  WriteFile(dir / "sysrq", "");
  const auto now = std::chrono::system_clock::now();
  for (int i = 1; i <= 3; ++i) {
    ASSERT_TRUE(AppendJournalEntry(dir / "journal.jsonl",
                                   {now + std::chrono::hours(24) + std::chrono::minutes(i), "h1", "hard-reboot", "any",
                                    {"pool"}, "before the clock step"},
                                   1 << 20)
                    .ok());
  }
  auto d = Start(Config("hard-reboot"));
  ASSERT_GT(d->Port(), 0) << d->Log();
  EXPECT_TRUE(d->WaitForLog("3 entries are dated after now")) << d->Log();
  EXPECT_EQ(MetricValue(HttpGet(d->Port(), "/metrics").body, "hbfence_last_fence_timestamp_seconds"), 0)
      << "a fence dated tomorrow is not shown as the last one";
  BreakTarget();
  ASSERT_EQ(WaitForMetric(d->Port(), "hbfence_fence_actions_total{action=\"hard-reboot\",result=\"success\"}",
                          [](double v) { return v == 1; }),
            1)
      << d->Log();
  EXPECT_EQ(ReadAll(dir / "sysrq"), "b");
  EXPECT_EQ(MetricValue(HttpGet(d->Port(), "/metrics").body,
                        "hbfence_fence_actions_total{action=\"hard-reboot\",result=\"rate_limited\"}")
                .value_or(0),
            0);
}

}  // namespace
}  // namespace hbfence
