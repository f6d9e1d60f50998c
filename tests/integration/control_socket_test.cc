// SPDX-License-Identifier: Apache-2.0

// The control socket of the real daemon: status and fence requests over a Unix
// socket in a temp dir, with the tripwire preloaded and every fence path a stand-in.
#include <linux/capability.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>
#include <poll.h>

#include <cstring>
#include <functional>
#include <iostream>
#include <thread>

#include <gtest/gtest.h>

#include "fence/journal.h"
#include "tests/support/daemon_process.h"
#include "tests/support/temp_dir.h"

namespace hbfence {
namespace {

using namespace std::chrono_literals;
using testing::DaemonProcess;
using testing::HttpGet;
using testing::MetricValue;
using testing::ReadAll;
using testing::RunCapture;
using testing::TempDir;
using testing::WaitForMetric;
using testing::WriteFile;

// A raw client: connects, sends `request` as is (nothing when empty), returns the fd.
int ConnectRaw(const std::filesystem::path& socket, const std::string& request = "") {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, socket.c_str(), sizeof addr.sun_path - 1);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (fd >= 0) ::close(fd);
    return -1;
  }
  if (!request.empty()) (void)!::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  return fd;
}

// Everything the server sends until it closes (bounded by a receive timeout).
std::string ReadReply(int fd) {
  const timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string out;
  char buf[256];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return out;
}

std::string Ask(const std::filesystem::path& socket, const std::string& request) {
  const int fd = ConnectRaw(socket, request);
  return fd < 0 ? "connect failed: " + std::string(std::strerror(errno)) : ReadReply(fd);
}

class ControlSocketTest : public ::testing::Test {
 protected:
  std::filesystem::path socket() const { return socket_dir / "control.sock"; }
  std::filesystem::path journal() const { return dir / "journal.jsonl"; }

  std::string Config(const std::string& action, const std::string& fence_extra = "") const {
    return "[host]\nid = \"h1\"\n[web]\nlisten_address = \"127.0.0.1:0\"\n"
           "[heartbeat]\ninterval_seconds = 0.1\ntimeout_seconds = 0.3\nlease_seconds = " + lease_seconds + "\n" +
           heartbeat_extra + "[fence]\naction = \"" + action + "\"\njournal_path = \"" + journal().string() +
           "\"\nruntime_directory = \"" + (dir / "run").string() + "\"\nsysrq_trigger_path = \"" + (dir / "sysrq").string() + "\"\nsync_grace_seconds = 0.1\n" + fence_extra +
           "[control]\nsocket_path = \"" + socket().string() + "\"\n"
           "[[target]]\nname = \"pool\"\npath = \"" + (dir / "pool" / "hb").string() + "\"\n"
           "[[target]]\nname = \"cs\"\nlayout = \"cloudstack\"\nallow_local_filesystem = true\nmount = \"" +
           (dir / "mnt").string() + "\"\n"
           "[[target]]\nname = \"broken\"\npath = \"" + (dir / "blocked" / "hb").string() + "\"\n";
  }
  void SetUp() override {
    // A cloudstack-layout target must sit on a mount point, as a storage pool does.
    std::filesystem::create_directories(dir / "mnt");
    if (::mount("tmpfs", (dir / "mnt").c_str(), "tmpfs", 0, "size=1m") != 0) {
      GTEST_SKIP() << "cannot mount a tmpfs for the pool (needs root): " << std::strerror(errno);
    }
  }
  void TearDown() override { ::umount2((dir / "mnt").c_str(), MNT_DETACH); }

  std::unique_ptr<DaemonProcess> Start(const std::string& config) {
    WriteFile(dir / "blocked", "a regular file where the heartbeat directory should be");
    WriteFile(dir / "sysrq", "");
    WriteFile(dir / "hbfence.toml", config);
    auto d = std::make_unique<DaemonProcess>(std::vector<std::string>{"--config", (dir / "hbfence.toml").string()},
                                             dir / "daemon.log");
    EXPECT_TRUE(d->WaitForLog("control socket listening on")) << d->Log();
    return d;
  }
  // `hbfence control` itself: the CLI, its exit status and its output.
  std::pair<int, std::string> Control(const std::vector<std::string>& request) const {
    std::vector<std::string> argv{HBFENCE_BIN, "control", "--socket", socket().string()};
    argv.insert(argv.end(), request.begin(), request.end());
    return RunCapture(argv);
  }
  std::optional<double> Metric(DaemonProcess& d, const std::string& series) const {
    return MetricValue(HttpGet(d.Port(), "/metrics").body, series);
  }
  // Waits until `target` has failed its lease in the daemon's own judgement.
  bool WaitForLeaseExpiry(DaemonProcess& d, const std::string& target) const {
    return WaitForMetric(d.Port(), "hbfence_target_up{target=\"" + target + "\"}", [](double v) { return v == 0; }) == 0;
  }
  // A config whose "broken" target fails its lease a second after start while the
  // others stay up; policy "all" keeps the engine from deciding on its own.
  std::string ConfigWithAFailedTarget(const std::string& action, const std::string& fence_extra = "") {
    lease_seconds = "1";
    return Config(action, "policy = \"all\"\n" + fence_extra);
  }
  // Puts a regular file where `directory` was; calling it again swaps it back.
  void SwapWithAFile(const std::filesystem::path& directory) const {
    const int err = testing::SwapWithAFile(directory, "a regular file where the heartbeat directory should be");
    ASSERT_EQ(err, 0) << directory << ": " << std::strerror(err);
  }
  // Asks until the reply starts with `prefix` (the daemon's first writes take a moment). Bounded.
  std::pair<int, std::string> WaitForStatus(const std::string& target, const std::string& prefix) const {
    return WaitForStatusWhere(target, [&](const std::string& reply) { return reply.rfind(prefix, 0) == 0; });
  }
  std::pair<int, std::string> WaitForStatusWhere(const std::string& target,
                                                 const std::function<bool(const std::string&)>& done) const {
    std::pair<int, std::string> last;
    for (auto deadline = std::chrono::steady_clock::now() + 10s; std::chrono::steady_clock::now() < deadline;) {
      last = Control({"status", target});
      if (done(last.second)) break;
      std::this_thread::sleep_for(20ms);
    }
    return last;
  }

  TempDir dir;
  std::filesystem::path socket_dir = dir / "run";
  std::string lease_seconds = "5";
  std::string heartbeat_extra;
};

TEST_F(ControlSocketTest, StatusNamesTargetsByNameHeartbeatFileOrMount) {
  auto d = Start(Config("log-only"));
  auto [rc, out] = WaitForStatus("pool", "ok pool last success ");
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(out.rfind("ok pool last success ", 0), 0u) << out << d->Log();
  EXPECT_NE(out.find(" s ago\n"), std::string::npos) << out;

  std::tie(rc, out) = WaitForStatus((dir / "mnt").string(), "ok cs ");
  EXPECT_EQ(rc, 0) << out;
  EXPECT_TRUE(std::filesystem::exists(dir / "mnt" / "KVMHA" / "hb-h1")) << "the daemon writes the CloudStack file";
  std::tie(rc, out) = Control({"status", (dir / "mnt").string() + "/"});
  EXPECT_EQ(out.rfind("ok cs ", 0), 0u) << "a trailing slash does not matter: " << out;
  std::tie(rc, out) = Control({"status", (dir / "mnt" / "KVMHA" / "hb-h1").string()});
  EXPECT_EQ(out.rfind("ok cs ", 0), 0u) << out;
}

TEST_F(ControlSocketTest, StatusStaysOkWhileTheLeaseHoldsAndNamesTheFailedWrite) {
  // Writes that fail within the lease must not make the agent fence a host hbfence judges alive.
  lease_seconds = "60";
  auto d = Start(Config("log-only"));
  ASSERT_EQ(WaitForStatus("pool", "ok pool last success ").first, 0) << d->Log();
  SwapWithAFile(dir / "pool");
  ASSERT_TRUE(WaitForMetric(d->Port(), "hbfence_heartbeat_consecutive_failures{target=\"pool\"}",
                            [](double v) { return v >= 1; }))
      << d->Log();
  auto [rc, out] = WaitForStatus("pool", "ok pool last success ");
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find(" s ago; last write failed: "), std::string::npos) << out;

  // Never written, but still within its first lease: the engine would not fence either.
  ASSERT_TRUE(WaitForMetric(d->Port(), "hbfence_heartbeat_consecutive_failures{target=\"broken\"}",
                            [](double v) { return v >= 1; }));
  std::tie(rc, out) = Control({"status", "broken"});
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(out.rfind("ok broken within its first lease: no successful write yet, hbfence started ", 0), 0u) << out;
  EXPECT_NE(out.find("; last write failed: "), std::string::npos) << out;

  SwapWithAFile(dir / "pool");  // the storage is back: the error goes away with the next success
  std::tie(rc, out) = WaitForStatusWhere("pool", [](const std::string& reply) {
    return reply.rfind("ok pool last success ", 0) == 0 && reply.find("last write failed") == std::string::npos;
  });
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(out.find("last write failed"), std::string::npos) << out;
}

TEST_F(ControlSocketTest, StatusIsFailingOnceTheLeaseExpired) {
  lease_seconds = "1";
  auto d = Start(Config("log-only"));
  ASSERT_EQ(WaitForStatus("pool", "ok pool last success ").first, 0) << d->Log();
  ASSERT_TRUE(WaitForLeaseExpiry(*d, "broken")) << d->Log();
  auto [rc, out] = Control({"status", "broken"});
  EXPECT_EQ(rc, 1) << out;
  EXPECT_EQ(out.rfind("failing broken no successful write since hbfence started ", 0), 0u) << out;
  EXPECT_NE(out.find("(last error "), std::string::npos) << out;

  SwapWithAFile(dir / "pool");
  ASSERT_TRUE(WaitForLeaseExpiry(*d, "pool")) << d->Log();
  std::tie(rc, out) = Control({"status", "pool"});
  EXPECT_EQ(rc, 1) << out;
  EXPECT_EQ(out.rfind("failing pool lease expired: last success ", 0), 0u) << out;
  EXPECT_NE(out.find("(last error "), std::string::npos) << out;
}

// The file CloudStack's neighbours read for a host hbfence does not write, on a pool
// it heartbeats: the agent and hbfence name this host differently.
TEST_F(ControlSocketTest, CloudStacksFileOfAnotherHostOnAWatchedPoolIsAMismatch) {
  auto d = Start(Config("log-only"));
  ASSERT_EQ(WaitForStatus((dir / "mnt").string(), "ok cs ").first, 0) << d->Log();
  EXPECT_EQ(Control({"status", (dir / "mnt" / "KVMHA" / "hb-h1").string()}).second.rfind("ok cs ", 0), 0u);
  auto [rc, out] = Control({"status", (dir / "mnt" / "KVMHA" / "hb-10.0.0.9").string()});
  EXPECT_EQ(rc, 2) << out;
  EXPECT_EQ(out, "mismatch cs writes " + (dir / "mnt" / "KVMHA" / "hb-h1").string() +
                     " for host.id \"h1\", but CloudStack's neighbours read " +
                     (dir / "mnt" / "KVMHA" / "hb-10.0.0.9").string() +
                     " for host \"10.0.0.9\": nothing writes it, so they would find this host dead; host.id must be "
                     "the private IP the agent names this host by\n");
  // Elsewhere than a watched pool it stays unknown.
  EXPECT_EQ(Control({"status", (dir / "other" / "KVMHA" / "hb-10.0.0.9").string()}).second,
            "unknown " + (dir / "other" / "KVMHA" / "hb-10.0.0.9").string() + "\n");
  d.reset();

  // A pool heartbeated outside the KVMHA layout: nothing writes what neighbours read.
  const std::string plain = "[host]\nid = \"10.0.0.9\"\n[web]\nlisten_address = \"127.0.0.1:0\"\n[fence]\n"
                            "action = \"log-only\"\njournal_path = \"" + journal().string() + "\"\nruntime_directory = \"" +
                            (dir / "run").string() + "\"\n[control]\nsocket_path = \"" + socket().string() + "\"\n"
                            "[[target]]\nname = \"p\"\nmount = \"" + (dir / "mnt").string() + "\"\npath = \"" +
                            (dir / "mnt" / "hbfence-hb").string() + "\"\nallow_local_filesystem = true\n";
  d = Start(plain);
  std::tie(rc, out) = Control({"status", (dir / "mnt" / "KVMHA" / "hb-10.0.0.9").string()});
  EXPECT_EQ(rc, 2) << out;
  EXPECT_EQ(out.rfind("mismatch p writes " + (dir / "mnt" / "hbfence-hb").string() + ", but CloudStack's neighbours read ", 0),
            0u)
      << out;
  EXPECT_NE(out.find("give the pool layout = \"cloudstack\" and host.id = \"10.0.0.9\""), std::string::npos) << out;
}

TEST_F(ControlSocketTest, UnknownTargetIsUnknown) {
  auto d = Start(Config("log-only"));
  auto [rc, out] = Control({"status", "/mnt/no-such-pool"});
  EXPECT_EQ(rc, 1);
  EXPECT_EQ(out, "unknown /mnt/no-such-pool\n");
}

TEST_F(ControlSocketTest, FenceIsJournaledBeforeTheConfiguredActionRunsAndOnlyOnce) {
  // The action is a custom script that copies the journal as it stands when it runs.
  testing::WriteFile(dir / "fence.sh", "#!/bin/sh\ncat '" + journal().string() + "' > '" +
                                           (dir / "journal-at-action").string() + "'\n", 0755);
  auto d = Start(ConfigWithAFailedTarget("custom", "custom_script = \"" + (dir / "fence.sh").string() + "\"\n"));
  ASSERT_TRUE(WaitForLeaseExpiry(*d, "broken")) << d->Log();
  auto [rc, out] = Control({"fence", "cloudstack", "agent:", "heartbeat", "timeout"});
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(out, "accepted custom\n");
  ASSERT_EQ(WaitForMetric(d->Port(), "hbfence_fence_actions_total{action=\"custom\",result=\"success\"}",
                          [](double v) { return v == 1; }),
            1)
      << d->Log();
  const auto entries = ReadJournalEntries(journal());
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].reason, "requested over the control socket: cloudstack agent: heartbeat timeout");
  EXPECT_EQ(entries[0].action, "custom");
  EXPECT_EQ(entries[0].failed_targets, std::vector<std::string>{"broken"});
  EXPECT_EQ(ReadAll(dir / "journal-at-action"), ReadAll(journal())) << "journaled before the action ran";

  std::tie(rc, out) = Control({"fence", "again"});
  EXPECT_EQ(rc, 1) << out;
  EXPECT_EQ(out.rfind("refused ", 0), 0u) << out;
  EXPECT_EQ(ReadJournalEntries(journal()).size(), 1u) << "no second fence";
}

TEST_F(ControlSocketTest, FenceRunsHardRebootThroughTheSysrqStandIn) {
  auto d = Start(ConfigWithAFailedTarget("hard-reboot"));
  ASSERT_TRUE(WaitForLeaseExpiry(*d, "broken")) << d->Log();
  auto [rc, out] = Control({"fence", "test"});
  EXPECT_EQ(out, "accepted hard-reboot\n");
  ASSERT_EQ(WaitForMetric(d->Port(), "hbfence_fence_actions_total{action=\"hard-reboot\",result=\"success\"}",
                          [](double v) { return v == 1; }),
            1)
      << d->Log();
  EXPECT_EQ(ReadAll(dir / "sysrq"), "b");
  const auto last = ReadJournalTail(journal(), std::chrono::system_clock::now(), kJournalWindow, 1 << 20).last_fence;
  ASSERT_TRUE(last);
  EXPECT_EQ(last->reason, "requested over the control socket: test");
  EXPECT_TRUE(d->WaitForLog("hbfence will reboot system because it was unable to write the heartbeat to the storage "
                            "(action hard-reboot, targets broken). requested over the control socket: test"))
      << d->Log();
  std::tie(rc, out) = Control({"fence", "test"});
  EXPECT_EQ(out, "refused a reboot is already under way\n");
  EXPECT_EQ(ReadAll(dir / "sysrq"), "b");
}

TEST_F(ControlSocketTest, LogOnlyFenceLogsTheRequestAsItsReason) {
  auto d = Start(ConfigWithAFailedTarget("log-only"));
  ASSERT_TRUE(WaitForLeaseExpiry(*d, "broken")) << d->Log();
  auto [rc, out] = Control({"fence", "drill"});
  EXPECT_EQ(out, "accepted log-only\n");
  EXPECT_TRUE(d->WaitForLog("hbfence would reboot system because it was unable to write the heartbeat to the storage "
                            "(targets broken); fence action is log-only: NOT fencing. requested over the control "
                            "socket: drill"))
      << d->Log();
}

TEST_F(ControlSocketTest, FenceOnAHealthyHostIsRefusedAndDoesNothing) {
  // "broken" never writes but is within its first lease: hbfence judges every target alive.
  lease_seconds = "60";
  auto d = Start(Config("hard-reboot"));
  ASSERT_TRUE(WaitForMetric(d->Port(), "hbfence_heartbeat_consecutive_failures{target=\"broken\"}",
                            [](double v) { return v >= 1; }));
  auto [rc, out] = Control({"fence", "cloudstack", "agent:", "heartbeat", "timeout"});
  EXPECT_EQ(rc, 1) << out;
  EXPECT_EQ(out, "refused every target is within its lease: hbfence fences on its own when one is not\n");
  EXPECT_EQ(ReadAll(dir / "sysrq"), "");
  EXPECT_FALSE(std::filesystem::exists(journal()));
  EXPECT_EQ(Metric(*d, "hbfence_fence_pending"), 0);
  EXPECT_EQ(Metric(*d, "hbfence_fence_decisions_total{action=\"hard-reboot\"}"), 0) << "no decision";
}

TEST_F(ControlSocketTest, FenceIsRefusedDuringTheStartupGrace) {
  heartbeat_extra = "startup_grace_seconds = 600\n";
  auto d = Start(ConfigWithAFailedTarget("hard-reboot"));
  ASSERT_TRUE(WaitForLeaseExpiry(*d, "broken")) << d->Log();
  auto [rc, out] = Control({"fence", "test"});
  EXPECT_EQ(rc, 1) << out;
  EXPECT_EQ(out.rfind("refused hbfence is in its startup grace for another ", 0), 0u) << out;
  EXPECT_EQ(ReadAll(dir / "sysrq"), "");
  EXPECT_FALSE(std::filesystem::exists(journal()));
}

// Policy "all": one failed target is enough for a control fence but not for the
// engine, so the fence must stand on its own until every target recovers.
TEST_F(ControlSocketTest, AcceptedFenceStandsForTheEpisodeAndEndsWithIt) {
  auto d = Start(ConfigWithAFailedTarget("log-only"));
  ASSERT_TRUE(WaitForLeaseExpiry(*d, "broken")) << d->Log();
  EXPECT_EQ(Metric(*d, "hbfence_fence_pending"), 0) << "the engine has not decided";
  auto [rc, out] = Control({"fence", "first"});
  EXPECT_EQ(out, "accepted log-only\n");
  EXPECT_EQ(WaitForMetric(d->Port(), "hbfence_fence_pending", [](double v) { return v == 1; }), 1);
  std::tie(rc, out) = Control({"fence", "second"});
  EXPECT_EQ(rc, 1) << out;
  EXPECT_EQ(out.rfind("refused a fence requested over the control socket already stands", 0), 0u) << out;

  // Now every target fails: the engine's own episode must not fence a second time.
  SwapWithAFile(dir / "pool");
  SwapWithAFile(dir / "mnt" / "KVMHA");
  ASSERT_TRUE(WaitForLeaseExpiry(*d, "pool")) << d->Log();
  ASSERT_TRUE(WaitForLeaseExpiry(*d, "cs")) << d->Log();
  // A fence request is answered after the scheduler's decision step for that pass.
  std::tie(rc, out) = Control({"fence", "third"});
  EXPECT_EQ(out.rfind("refused ", 0), 0u) << out;
  EXPECT_EQ(Metric(*d, "hbfence_fence_decisions_total{action=\"log-only\"}"), 1) << d->Log();
  ASSERT_EQ(ReadJournalEntries(journal()).size(), 1u);
  EXPECT_EQ(ReadJournalEntries(journal())[0].reason, "requested over the control socket: first");

  // Every target back within its lease: the episode ends and clears the standing fence.
  SwapWithAFile(dir / "pool");
  SwapWithAFile(dir / "mnt" / "KVMHA");
  std::filesystem::remove(dir / "blocked");
  ASSERT_TRUE(d->WaitForLog("the failure episode has ended")) << d->Log();
  EXPECT_EQ(WaitForMetric(d->Port(), "hbfence_fence_pending", [](double v) { return v == 0; }), 0);
  std::tie(rc, out) = Control({"fence", "after recovery"});
  EXPECT_EQ(out, "refused every target is within its lease: hbfence fences on its own when one is not\n");
  EXPECT_EQ(ReadJournalEntries(journal()).size(), 1u);
}

TEST_F(ControlSocketTest, GarbageIsAnErrorAndNothingHappens) {
  auto d = Start(Config("hard-reboot"));
  for (const std::string& request : std::vector<std::string>{"reboot\n", "fence\n", "fence \n", "status\n", "STATUS pool\n", "status pool\tx\n",
                                    "\n", std::string(600, 'f') + "\n"}) {
    const std::string reply = Ask(socket(), request);
    EXPECT_EQ(reply.rfind("error ", 0), 0u) << request << " -> " << reply;
  }
  EXPECT_EQ(Ask(socket(), "reboot\n"), "error unknown request\n");
  const int unterminated = ConnectRaw(socket(), "status nope");
  ::shutdown(unterminated, SHUT_WR);
  EXPECT_EQ(ReadReply(unterminated), "unknown nope\n") << "a request may end at the end of the stream";
  EXPECT_EQ(ReadAll(dir / "sysrq"), "");
  EXPECT_FALSE(std::filesystem::exists(journal()));
  auto [rc, out] = Control({"reboot"});
  EXPECT_EQ(rc, 2) << "usage errors are the CLI's: " << out;
}

// Runs `connect_as_nobody` in a child with uid/gid 65534; returns its reply over a pipe.
std::string AskAsNobody(const std::filesystem::path& socket, bool keep_dac_override) {
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) return "pipe failed";
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(pipe_fds[0]);
    // With CAP_DAC_OVERRIDE kept, the file mode lets us connect and the server's
    // SO_PEERCRED check is what refuses; without it, the 0600 mode refuses.
    if (keep_dac_override) ::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0);
    if (::setresgid(65534, 65534, 65534) != 0 || ::setresuid(65534, 65534, 65534) != 0) ::_exit(3);
    if (keep_dac_override) {
      __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
      __user_cap_data_struct data[2]{};
      data[0].effective = data[0].permitted = 1u << CAP_DAC_OVERRIDE;
      if (::syscall(SYS_capset, &header, data) != 0) ::_exit(4);
    }
    const int fd = ConnectRaw(socket, "fence as nobody\n");
    const std::string reply = fd < 0 ? "connect: " + std::string(std::strerror(errno)) : ReadReply(fd);
    (void)!::write(pipe_fds[1], reply.data(), reply.size());
    ::_exit(0);
  }
  ::close(pipe_fds[1]);
  std::string out;
  char buf[256];
  for (ssize_t n; (n = ::read(pipe_fds[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  ::close(pipe_fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? out : "child failed: " + std::to_string(status);
}

TEST_F(ControlSocketTest, OnlyRootMayUseIt) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to create the socket and to become another user";
  auto d = Start(Config("hard-reboot"));
  EXPECT_EQ(AskAsNobody(socket(), false), "connect: Permission denied");
  EXPECT_EQ(AskAsNobody(socket(), true), "error permission denied: the control socket serves root only\n");
  EXPECT_EQ(ReadAll(dir / "sysrq"), "");
  EXPECT_FALSE(std::filesystem::exists(journal()));
}

// An unprivileged process serving the control socket's path, as one that bound it
// first in a directory others can write would: a child that becomes uid/gid 65534
// before it listens (SO_PEERCRED reports the listener's credentials), accepts one
// connection and answers `reply` to whatever comes. Received() is what it was sent.
class ImpostorServer {
 public:
  ImpostorServer(const std::filesystem::path& socket, const std::string& reply) {
    int ready[2], received[2];
    if (::pipe(ready) != 0 || ::pipe(received) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::close(ready[0]);
      ::close(received[0]);
      if (::setresgid(65534, 65534, 65534) != 0 || ::setresuid(65534, 65534, 65534) != 0) ::_exit(3);
      const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
      sockaddr_un addr{};
      addr.sun_family = AF_UNIX;
      std::strncpy(addr.sun_path, socket.c_str(), sizeof addr.sun_path - 1);
      if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 4) != 0) {
        ::_exit(4);
      }
      (void)!::write(ready[1], "r", 1);
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 10000) != 1) ::_exit(5);
      const int client = ::accept(fd, nullptr, nullptr);
      const timeval tv{2, 0};
      setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      char buf[512];
      const ssize_t n = ::recv(client, buf, sizeof buf, 0);
      (void)!::send(client, reply.data(), reply.size(), MSG_NOSIGNAL);
      if (n > 0) (void)!::write(received[1], buf, static_cast<size_t>(n));
      ::_exit(0);
    }
    ::close(ready[1]);
    ::close(received[1]);
    received_fd_ = received[0];
    char c = 0;
    ready_ = pid_ > 0 && ::read(ready[0], &c, 1) == 1;
    ::close(ready[0]);
  }
  ~ImpostorServer() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (received_fd_ >= 0) ::close(received_fd_);
  }
  bool ready() const { return ready_; }
  // What the client sent, once the impostor has answered (or given up).
  std::string Received() {
    std::string out;
    char buf[512];
    for (ssize_t n; (n = ::read(received_fd_, buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
    return out;
  }

 private:
  pid_t pid_ = -1;
  int received_fd_ = -1;
  bool ready_ = false;
};

TEST(ControlClientTest, RefusesAServerThatIsNotRootAndSendsItNothing) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to become another user";
  TempDir dir;
  // A directory anyone can write, as /tmp is: the impostor binds the path first.
  ASSERT_EQ(::chmod(dir.path().c_str(), 0711), 0);
  std::filesystem::create_directories(dir / "shared");
  ASSERT_EQ(::chmod((dir / "shared").c_str(), 01777), 0);
  const auto socket = dir / "shared" / "control.sock";
  for (const std::vector<std::string>& request : {std::vector<std::string>{"status", "pool"},
                                                  std::vector<std::string>{"fence", "cloudstack", "agent"}}) {
    std::filesystem::remove(socket);
    ImpostorServer impostor(socket, request[0] == "status" ? "ok pool last success 1 s ago\n" : "accepted hard-reboot\n");
    ASSERT_TRUE(impostor.ready());
    std::vector<std::string> argv{HBFENCE_BIN, "control", "--socket", socket.string()};
    argv.insert(argv.end(), request.begin(), request.end());
    auto [rc, out] = RunCapture(argv);
    EXPECT_EQ(rc, 2) << "an impostor's answer must never count: " << out;
    EXPECT_EQ(out.find("ok pool"), std::string::npos) << out;
    EXPECT_EQ(out.find("accepted"), std::string::npos) << out;
    EXPECT_NE(out.find("hbfence: the control socket " + socket.string() + " is served by uid 65534 (pid "),
              std::string::npos)
        << out;
    EXPECT_NE(out.find("not by root; not trusting it"), std::string::npos) << out;
    EXPECT_EQ(impostor.Received(), "") << "the request is not even sent";
  }
}

TEST_F(ControlSocketTest, SocketIsPrivateAndRemovedAtExit) {
  auto d = Start(Config("log-only"));
  struct stat st {};
  ASSERT_EQ(::lstat(socket().c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  ASSERT_EQ(::stat(socket().parent_path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u) << "the daemon created its directory private";
  d->Signal(SIGTERM);
  ASSERT_TRUE(d->WaitExit(5s));
  EXPECT_FALSE(std::filesystem::exists(socket()));
}

// Whoever can create entries in the socket's directory (or rename one above it)
// can bind the path first: answer in hbfence's place, or keep it from starting.
TEST_F(ControlSocketTest, RefusesASocketDirectoryThatIsNotRootsAlone) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give a directory away";
  auto refused = [&](const std::filesystem::path& socket_directory, const std::string& why) {
    socket_dir = socket_directory;
    WriteFile(dir / "hbfence.toml", Config("log-only"));
    DaemonProcess d({"--config", (dir / "hbfence.toml").string()}, dir / "refused.log");
    const auto status = d.WaitExit(10s);
    EXPECT_TRUE(status && WIFEXITED(*status) && WEXITSTATUS(*status) == 1) << d.Log();
    EXPECT_NE(d.Log().find("control socket: " + why), std::string::npos) << d.Log();
    EXPECT_NE(d.Log().find("use a directory owned by root and writable only by root, such as /run/hbfence"),
              std::string::npos)
        << d.Log();
    EXPECT_FALSE(std::filesystem::exists(socket())) << "nothing bound there";
  };
  std::filesystem::create_directories(dir / "open");
  ASSERT_EQ(::chmod((dir / "open").c_str(), 0777), 0);
  refused(dir / "open", (dir / "open").string() + ", the directory of " + (dir / "open" / "control.sock").string() +
                            ", is writable by others (mode 0777)");

  std::filesystem::create_directories(dir / "sticky");
  ASSERT_EQ(::chmod((dir / "sticky").c_str(), 01777), 0);
  refused(dir / "sticky", (dir / "sticky").string() + ", the directory of " +
                              (dir / "sticky" / "control.sock").string() + ", is writable by others (mode 1777)");

  std::filesystem::create_directories(dir / "theirs");
  ASSERT_EQ(::chmod((dir / "theirs").c_str(), 0700), 0);
  ASSERT_EQ(::chown((dir / "theirs").c_str(), 65534, 65534), 0);
  refused(dir / "theirs", (dir / "theirs").string() + ", the directory of " +
                              (dir / "theirs" / "control.sock").string() + ", is owned by uid 65534, not root");

  // Private itself, but inside a directory where anyone may rename it away.
  std::filesystem::create_directories(dir / "shared" / "run");
  ASSERT_EQ(::chmod((dir / "shared").c_str(), 0777), 0);
  ASSERT_EQ(::chmod((dir / "shared" / "run").c_str(), 0700), 0);
  refused(dir / "shared" / "run", (dir / "shared").string() + ", above " + (dir / "shared" / "run" / "control.sock").string() +
                                      ", is writable by others (mode 0777)");

  // A symlink is judged by where it leads.
  std::filesystem::create_directory_symlink(dir / "open", dir / "link");
  refused(dir / "link", (dir / "open").string() + ", the directory of " + (dir / "link" / "control.sock").string() +
                            ", is writable by others (mode 0777)");
}

TEST_F(ControlSocketTest, AcceptsARootDirectoryInsideAStickyOne) {
  // As /tmp holds the test directories: a sticky directory above is fine, since
  // only an entry's owner may rename or remove it.
  std::filesystem::create_directories(dir / "sticky");
  ASSERT_EQ(::chmod((dir / "sticky").c_str(), 01777), 0);
  socket_dir = dir / "sticky" / "run";
  auto d = Start(Config("log-only"));
  EXPECT_EQ(Control({"status", "nope"}).second, "unknown nope\n") << d->Log();
}

TEST_F(ControlSocketTest, ASymlinkedDirectoryIsUsedWhereItLeads) {
  std::filesystem::create_directories(dir / "real");
  ASSERT_EQ(::chmod((dir / "real").c_str(), 0700), 0);
  std::filesystem::create_directory_symlink(dir / "real", dir / "link");
  socket_dir = dir / "link";
  auto d = Start(Config("log-only"));
  EXPECT_EQ(Control({"status", "nope"}).second, "unknown nope\n") << d->Log();
  struct stat st {};
  ASSERT_EQ(::lstat((dir / "real" / "control.sock").c_str(), &st), 0) << "bound in the directory the link leads to";
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  d->Signal(SIGTERM);
  ASSERT_TRUE(d->WaitExit(5s));
  EXPECT_FALSE(std::filesystem::exists(dir / "real" / "control.sock"));
}

TEST_F(ControlSocketTest, ReplacesAStaleSocketButNothingElse) {
  std::filesystem::create_directories(socket().parent_path());
  {  // a socket nobody listens on any more, as a killed daemon leaves it
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, socket().c_str(), sizeof addr.sun_path - 1);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ::close(fd);
  }
  auto d = Start(Config("log-only"));
  EXPECT_EQ(Control({"status", "nope"}).second, "unknown nope\n");
  d.reset();

  std::filesystem::remove(socket());
  WriteFile(socket(), "not a socket");
  WriteFile(dir / "hbfence.toml", Config("log-only"));
  DaemonProcess refused({"--config", (dir / "hbfence.toml").string()}, dir / "refused.log");
  const auto status = refused.WaitExit(10s);
  ASSERT_TRUE(status);
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 1);
  EXPECT_NE(refused.Log().find("exists and is not a socket"), std::string::npos) << refused.Log();
  EXPECT_EQ(ReadAll(socket()), "not a socket");
}

TEST_F(ControlSocketTest, ASilentClientDoesNotBlockAnother) {
  auto d = Start(Config("log-only"));
  const int silent = ConnectRaw(socket());
  ASSERT_GE(silent, 0);
  auto [rc, out] = Control({"status", "nope"});
  EXPECT_EQ(out, "unknown nope\n");
  char c;
  EXPECT_EQ(::recv(silent, &c, 1, MSG_DONTWAIT), -1) << "the silent client is still waiting";
  EXPECT_EQ(ReadReply(silent), "error no request within 2.0 s\n");
}

// The CloudStack drop-ins (packaging/cloudstack/) against the real daemon.
class CloudStackScriptsTest : public ControlSocketTest {
 protected:
  // Every fence path the scripts could take points into the temp dir: the
  // configuration's (sysrq stand-in, journal) and the fallback's sysrq stand-in, which
  // is written only when hbfence itself could not fence.
  std::pair<int, std::string> Script(const std::string& name, const std::vector<std::string>& flags,
                                     const std::string& bin = HBFENCE_BIN) const {
    ::setenv("HBFENCE_BIN", bin.c_str(), 1);
    ::setenv("HBFENCE_CONTROL_SOCKET", socket().c_str(), 1);
    ::setenv("HBFENCE_CONFIG", (dir / "hbfence.toml").c_str(), 1);
    ::setenv("HBFENCE_FALLBACK_SYSRQ", fallback_sysrq().c_str(), 1);
    if (!std::filesystem::exists(fallback_sysrq())) WriteFile(fallback_sysrq(), "");
    std::vector<std::string> argv{std::string(HBFENCE_SOURCE_DIR) + "/packaging/cloudstack/" + name};
    argv.insert(argv.end(), flags.begin(), flags.end());
    return RunCapture(argv);
  }
  // The configuration a daemon would run with, written without starting one.
  void WriteConfigOnly(const std::string& config) {
    WriteFile(dir / "blocked", "a regular file where the heartbeat directory should be");
    WriteFile(dir / "sysrq", "");
    WriteFile(dir / "hbfence.toml", config);
  }
  std::string mnt() const { return (dir / "mnt").string(); }
  std::filesystem::path fallback_sysrq() const { return dir / "fallback-sysrq"; }
};

TEST_F(CloudStackScriptsTest, WriteModeReportsTheDaemonsResultAndWritesNothing) {
  auto d = Start(Config("log-only"));
  ASSERT_EQ(WaitForStatus(mnt(), "ok cs ").first, 0) << d->Log();
  // KVMHAMonitor passes the host's private IP as -h; here hbfence's host.id, "h1", is that name.
  auto [rc, out] = Script("kvmheartbeat.sh", {"-i", "192.0.2.1", "-p", "/export", "-m", mnt(), "-h", "h1"});
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(out.rfind("ok cs last success ", 0), 0u) << out;
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(dir / "mnt" / "KVMHA")) files.push_back(e.path().filename());
  EXPECT_EQ(files, std::vector<std::string>{"hb-h1"}) << "the daemon's heartbeat only: the script writes none";
}

// KVMHAMonitor writes <mount>/KVMHA/hb-<-h>, and that is the file its neighbours read.
// hbfence writes hb-<host.id>: when the two differ, an "ok" would tell the agent its
// heartbeat exists while the neighbours find this host dead.
TEST_F(CloudStackScriptsTest, WriteModeFailsLoudlyWhenTheAgentNamesTheHostDifferently) {
  auto d = Start(Config("log-only"));
  ASSERT_EQ(WaitForStatus(mnt(), "ok cs ").first, 0) << d->Log();
  auto [rc, out] = Script("kvmheartbeat.sh", {"-i", "192.0.2.1", "-p", "/export", "-m", mnt(), "-h", "192.0.2.7"});
  EXPECT_NE(rc, 0) << out;
  EXPECT_EQ(out.find("ok "), std::string::npos) << out;
  EXPECT_NE(out.find("host.id \"h1\""), std::string::npos) << "names hbfence's id: " << out;
  EXPECT_NE(out.find("\"192.0.2.7\""), std::string::npos) << "names the agent's: " << out;
  EXPECT_NE(out.find(mnt() + "/KVMHA/hb-192.0.2.7"), std::string::npos) << "names the file neighbours read: " << out;
  EXPECT_NE(out.find("kvmheartbeat.sh: ERROR: "), std::string::npos) << out;
  EXPECT_FALSE(std::filesystem::exists(dir / "mnt" / "KVMHA" / "hb-192.0.2.7")) << "the script writes no heartbeat";

  // What the script asked, and the daemon's own reply.
  std::tie(rc, out) = Control({"status", mnt() + "/KVMHA/hb-192.0.2.7"});
  EXPECT_NE(rc, 0) << out;
  EXPECT_EQ(out.rfind("mismatch cs ", 0), 0u) << out;
}

TEST_F(CloudStackScriptsTest, WriteModeExitsZeroWithAWarningForAPoolHbfenceDoesNotWatch) {
  auto d = Start(Config("log-only"));
  const std::string pool = (dir / "not-watched").string();
  auto [rc, out] = Script("kvmsmpheartbeat.sh", {"-m", pool, "-h", "192.0.2.7"});
  EXPECT_EQ(rc, 0) << "hbfence cannot judge it, so the agent must not fence for it: " << out;
  EXPECT_EQ(out.rfind("unknown " + pool + "/KVMHA/hb-192.0.2.7\n", 0), 0u) << out;
  EXPECT_NE(out.find("kvmsmpheartbeat.sh: warning: hbfence does not watch the pool at " + pool), std::string::npos)
      << out;
  EXPECT_NE(out.find("the agent will not fence this host for that pool"), std::string::npos) << out;
}

TEST_F(CloudStackScriptsTest, WriteModeFailsWhenTheDaemonIsUnreachable) {
  // No daemon: the agent's own judgement applies, so the script must not answer healthy.
  auto [rc, out] = Script("kvmheartbeat.sh", {"-m", mnt(), "-h", "192.0.2.7"});
  EXPECT_NE(rc, 0) << out;
  EXPECT_NE(out.find("cannot connect to the hbfence control socket"), std::string::npos) << out;
  EXPECT_EQ(out.find("warning"), std::string::npos) << out;
}

TEST_F(CloudStackScriptsTest, WriteModeFailsWithTheDaemonsReason) {
  // The pool's KVMHA directory cannot be created: a regular file is in its way.
  WriteFile(dir / "mnt" / "KVMHA", "in the way");
  lease_seconds = "1";
  auto d = Start(Config("log-only"));
  ASSERT_EQ(WaitForStatus(mnt(), "failing cs ").first, 1) << d->Log();
  auto [rc, out] = Script("kvmspheartbeat.sh", {"-m", mnt(), "-h", "h1", "-t", "60"});
  EXPECT_NE(rc, 0) << out;
  EXPECT_EQ(out.rfind("failing cs ", 0), 0u) << out;
  EXPECT_EQ(ReadAll(dir / "mnt" / "KVMHA"), "in the way");
}

TEST_F(CloudStackScriptsTest, FenceFlagAsksTheDaemonWhichRunsItsConfiguredAction) {
  auto d = Start(ConfigWithAFailedTarget("hard-reboot"));
  ASSERT_TRUE(WaitForLeaseExpiry(*d, "broken")) << d->Log();
  auto [rc, out] = Script("kvmheartbeat.sh", {"-i", "192.0.2.1", "-p", "/export", "-m", mnt(), "-c"});
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(out, "accepted hard-reboot\n");
  ASSERT_EQ(WaitForMetric(d->Port(), "hbfence_fence_actions_total{action=\"hard-reboot\",result=\"success\"}",
                          [](double v) { return v == 1; }),
            1)
      << d->Log();
  EXPECT_EQ(ReadAll(dir / "sysrq"), "b");
  const auto last = ReadJournalTail(journal(), std::chrono::system_clock::now(), kJournalWindow, 1 << 20).last_fence;
  ASSERT_TRUE(last);
  EXPECT_EQ(last->reason, "requested over the control socket: cloudstack agent: kvmheartbeat.sh -c for " + mnt());
  std::tie(rc, out) = Script("kvmheartbeat.sh", {"-c"});
  EXPECT_EQ(rc, 1) << "a second fence is refused: " << out;
  EXPECT_EQ(ReadAll(fallback_sysrq()), "") << "the daemon answered: no fallback";
}

TEST_F(CloudStackScriptsTest, FenceFlagOnAHealthyHostIsRefusedByTheDaemonAndNothingElseHappens) {
  lease_seconds = "60";
  auto d = Start(Config("hard-reboot"));
  ASSERT_EQ(WaitForStatus(mnt(), "ok cs ").first, 0) << d->Log();
  auto [rc, out] = Script("kvmheartbeat.sh", {"-i", "192.0.2.1", "-p", "/export", "-m", mnt(), "-c"});
  EXPECT_EQ(rc, 1) << out;
  EXPECT_EQ(out, "refused every target is within its lease: hbfence fences on its own when one is not\n");
  EXPECT_EQ(ReadAll(dir / "sysrq"), "");
  EXPECT_EQ(ReadAll(fallback_sysrq()), "");
  EXPECT_FALSE(std::filesystem::exists(journal()));
}

// Upstream's -c always syncs and reboots. With hbfence down nothing writes this
// host's heartbeat, so its neighbours find it dead and its VMs may be started
// elsewhere: the configured action must still run, journaled, through the same code.
TEST_F(CloudStackScriptsTest, FenceFlagFencesWithoutTheDaemonWhenItIsDown) {
  WriteConfigOnly(Config("hard-reboot"));
  auto [rc, out] = Script("kvmheartbeat.sh", {"-i", "192.0.2.1", "-p", "/export", "-m", mnt(), "-c"});
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("fenced hard-reboot without the daemon"), std::string::npos) << out;
  EXPECT_NE(out.find("hbfence will reboot system because it was unable to write the heartbeat to the storage"),
            std::string::npos)
      << "CloudStack's wording, for existing log alerts: " << out;
  EXPECT_EQ(ReadAll(dir / "sysrq"), "b") << out;
  EXPECT_EQ(ReadAll(fallback_sysrq()), "") << "hbfence fenced: CloudStack's fallback did not run";
  const auto entries = ReadJournalEntries(journal());
  ASSERT_EQ(entries.size(), 1u) << out;
  EXPECT_EQ(entries[0].action, "hard-reboot");
  EXPECT_EQ(entries[0].host, "h1");
  EXPECT_EQ(entries[0].failed_targets, std::vector<std::string>{"cs"}) << "the pool -m names";
  EXPECT_EQ(entries[0].reason.rfind("fenced without the daemon (cannot connect to the hbfence control socket ", 0), 0u)
      << entries[0].reason;
  EXPECT_NE(entries[0].reason.find("): cloudstack agent: kvmheartbeat.sh -c for " + mnt()), std::string::npos)
      << entries[0].reason;
}

TEST_F(CloudStackScriptsTest, FenceFlagWithoutTheDaemonKeepsTheHourlyLimit) {
  // Three reboots in the past hour already: a fourth only logs, daemon or not.
  const auto now = std::chrono::system_clock::now();
  std::string history;
  for (int minutes : {50, 30, 10}) {
    history += ToJsonLine({now - std::chrono::minutes(minutes), "h1", "hard-reboot", "any", {"cs"}, "earlier"}) + "\n";
  }
  WriteFile(journal(), history);
  WriteConfigOnly(Config("hard-reboot"));
  auto [rc, out] = Script("kvmsmpheartbeat.sh", {"-m", mnt(), "-c"});
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(ReadAll(dir / "sysrq"), "") << out;
  EXPECT_EQ(ReadAll(fallback_sysrq()), "") << "a limited fence is not a failed one: " << out;
  const auto entries = ReadJournalEntries(journal());
  ASSERT_EQ(entries.size(), 4u) << out;
  EXPECT_EQ(entries[3].action, "log-only");
  EXPECT_NE(entries[3].reason.find("3 reboots in the past hour"), std::string::npos) << entries[3].reason;
}

// A daemon that holds its locks but does not answer (wedged, here stopped) is exactly
// when fencing matters: the locks must not keep the fence from running.
TEST_F(CloudStackScriptsTest, FenceFlagFencesWithoutTheDaemonWhenItIsWedged) {
  lease_seconds = "60";
  auto d = Start(Config("hard-reboot"));
  ASSERT_EQ(WaitForStatus(mnt(), "ok cs ").first, 0) << d->Log();
  d->Signal(SIGSTOP);
  auto [rc, out] = Script("kvmheartbeat.sh", {"-m", mnt(), "-c"});
  d->Signal(SIGCONT);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("holds the lock"), std::string::npos) << "says a daemon holds the state: " << out;
  EXPECT_EQ(ReadAll(dir / "sysrq"), "b") << out;
  EXPECT_EQ(ReadAll(fallback_sysrq()), "");
  const auto entries = ReadJournalEntries(journal());
  ASSERT_EQ(entries.size(), 1u) << out;
  EXPECT_EQ(entries[0].reason.rfind("fenced without the daemon (control socket: no reply within the timeout): ", 0), 0u)
      << entries[0].reason;
}

// Even hbfence cannot fence (its configuration is unreadable, its binary gone):
// CloudStack's own -c then runs, sync and sysrq 'b', at the stand-in the test names.
TEST_F(CloudStackScriptsTest, FenceFlagFallsBackToCloudStacksRebootWhenHbfenceCannotFence) {
  WriteConfigOnly("[host]\nid = \"h1\"\nnot toml at all\n");
  auto [rc, out] = Script("kvmheartbeat.sh", {"-m", mnt(), "-c"});
  EXPECT_EQ(ReadAll(fallback_sysrq()), "b\n") << "upstream's `echo b`: " << out;
  EXPECT_NE(out.find("kvmheartbeat.sh: hbfence could not fence"), std::string::npos) << out;
  EXPECT_NE(out.find("CloudStack's own reboot"), std::string::npos) << out;
  EXPECT_EQ(ReadAll(dir / "sysrq"), "");
  EXPECT_FALSE(std::filesystem::exists(journal()));

  WriteFile(fallback_sysrq(), "");
  std::tie(rc, out) = Script("kvmspheartbeat.sh", {"-c"}, (dir / "no-such-hbfence").string());
  EXPECT_EQ(ReadAll(fallback_sysrq()), "b\n") << out;
}

TEST_F(CloudStackScriptsTest, PeerCheckReadsTheOtherHostsFile) {
  // ALIVE for a file being written, DEAD for none. The window (-t) only has to
  // exceed the writer's interval plus the file's one-second resolution.
  auto d = Start(Config("log-only"));
  ASSERT_EQ(WaitForStatus(mnt(), "ok cs ").first, 0) << d->Log();
  // CloudStack's default -t 60: ALIVE is answered as soon as the file advances.
  const auto started = std::chrono::steady_clock::now();
  auto [rc, out] = Script("kvmsmpheartbeat.sh", {"-r", "-m", mnt(), "-h", "h1", "-t", "60"});
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(out.rfind("=====> ALIVE <=====\n", 0), 0u) << out;
  EXPECT_LT(took, 5s) << "ALIVE took " << std::chrono::duration<double>(took).count() << " s of a 60 s window";
  std::cout << "drop-in -r -t 60: ALIVE after " << std::chrono::duration<double>(took).count() << " s\n";
  std::tie(rc, out) = Script("kvmsmpheartbeat.sh", {"-r", "-m", mnt(), "-h", "192.0.2.99", "-t", "2"});
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(out.rfind("=====> DEAD <====== Considering host as DEAD because ", 0), 0u) << out;
}

TEST_F(CloudStackScriptsTest, FlagsAreCheckedLikeTheOriginals) {
  auto d = Start(Config("log-only"));
  for (const auto& flags : std::vector<std::vector<std::string>>{
           {"-x"},                                  // unknown flag
           {"-h", "h1"},                            // write mode without -m
           {"-r", "-m", mnt()},                     // peer check without -h
           {"-r", "-m", mnt(), "-h", "a/b"},        // a host that is a path
           {"-r", "-m", mnt(), "-h", "h1", "-t", "1m"},
           {"-m", mnt(), "-h", "a/b"},               // write mode: a host that is a path
           {"-m", mnt(), "extra"}}) {
    auto [rc, out] = Script("kvmheartbeat.sh", flags);
    EXPECT_EQ(rc, 2) << flags[0] << ": " << out;
  }
  // Reached through a symlink, as an operator may install it over CloudStack's file.
  std::filesystem::create_symlink(std::string(HBFENCE_SOURCE_DIR) + "/packaging/cloudstack/kvmspheartbeat.sh",
                                  dir / "kvmspheartbeat.sh");
  ::setenv("HBFENCE_BIN", HBFENCE_BIN, 1);
  ::setenv("HBFENCE_CONTROL_SOCKET", socket().c_str(), 1);
  auto [rc, out] = RunCapture({(dir / "kvmspheartbeat.sh").string(), "-m", "/no/such/pool"});
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(out.rfind("unknown /no/such/pool\n", 0), 0u) << out;
  EXPECT_FALSE(std::filesystem::exists(journal()));
}

}  // namespace
}  // namespace hbfence
