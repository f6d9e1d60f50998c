// SPDX-License-Identifier: Apache-2.0

// The sd_notify(3) protocol spoken without libsystemd, against a stand-in manager
// socket, and the WATCHDOG_USEC/WATCHDOG_PID rules of sd_watchdog_enabled(3).
#include "src/sys/service_notifier.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include <gtest/gtest.h>

namespace hbfence {
namespace {

// A datagram socket in the abstract namespace, as systemd uses in containers.
class StandInManager {
 public:
  StandInManager() : name_("@hbfence-notify-test-" + std::to_string(::getpid())) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, name_.data(), name_.size());
    addr.sun_path[0] = '\0';
    bound_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&addr),
                    static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name_.size())) == 0;
    ::setenv("NOTIFY_SOCKET", name_.c_str(), 1);
  }
  ~StandInManager() {
    ::unsetenv("NOTIFY_SOCKET");
    ::close(fd_);
  }
  bool bound() const { return bound_; }
  std::string Receive() {
    char buf[512];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);  // blocks: the message is already queued
    return n < 0 ? std::string() : std::string(buf, static_cast<size_t>(n));
  }

 private:
  std::string name_;
  int fd_ = -1;
  bool bound_ = false;
};

TEST(SystemdNotifierTest, SendsEachMessageAsOneDatagram) {
  StandInManager manager;
  ASSERT_TRUE(manager.bound());
  SystemdNotifier notifier;
  notifier.Ready();
  EXPECT_EQ(manager.Receive(), "READY=1");
  notifier.Status("3/3 targets healthy");
  EXPECT_EQ(manager.Receive(), "STATUS=3/3 targets healthy");
  notifier.WatchdogAlive();
  EXPECT_EQ(manager.Receive(), "WATCHDOG=1");
  notifier.Stopping();
  EXPECT_EQ(manager.Receive(), "STOPPING=1");
}

TEST(SystemdNotifierTest, WithoutAManagerNothingHappens) {
  ::unsetenv("NOTIFY_SOCKET");
  SystemdNotifier notifier;
  notifier.Ready();  // must neither block nor fail
  ::setenv("NOTIFY_SOCKET", "relative/path", 1);
  notifier.Ready();
  ::unsetenv("NOTIFY_SOCKET");
}

std::optional<Duration> PeriodWith(const char* usec, const char* pid) {
  usec ? ::setenv("WATCHDOG_USEC", usec, 1) : ::unsetenv("WATCHDOG_USEC");
  pid ? ::setenv("WATCHDOG_PID", pid, 1) : ::unsetenv("WATCHDOG_PID");
  const auto period = SystemdNotifier().WatchdogPeriod();
  ::unsetenv("WATCHDOG_USEC");
  ::unsetenv("WATCHDOG_PID");
  return period;
}

TEST(SystemdNotifierTest, WatchdogPeriodIsHalfOfWatchdogSecWhenMeantForUs) {
  const std::string self = std::to_string(::getpid());
  EXPECT_EQ(PeriodWith("30000000", nullptr), Duration(std::chrono::seconds(15)));
  EXPECT_EQ(PeriodWith("30000000", self.c_str()), Duration(std::chrono::seconds(15)));
  EXPECT_EQ(PeriodWith("30000000", "1"), std::nullopt) << "meant for another process";
  EXPECT_EQ(PeriodWith(nullptr, nullptr), std::nullopt);
  EXPECT_EQ(PeriodWith("0", nullptr), std::nullopt);
  EXPECT_EQ(PeriodWith("30s", nullptr), std::nullopt);
}

}  // namespace
}  // namespace hbfence
