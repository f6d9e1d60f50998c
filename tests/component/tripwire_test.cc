// SPDX-License-Identifier: Apache-2.0

// The tripwire itself: a child process under LD_PRELOAD must abort when it calls
// reboot(2) or opens the real sysrq trigger. The reboot call uses an invalid
// command, so even without the tripwire the kernel would refuse it (EINVAL).
#include <fcntl.h>
#include <sys/reboot.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include <gtest/gtest.h>

namespace {

int ChildStatus(void (*body)()) {
  const pid_t pid = fork();
  if (pid == 0) {
    body();
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}

bool TripwireLoaded() {
  const char* preload = std::getenv("LD_PRELOAD");
  return preload != nullptr && std::strstr(preload, "nofence_preload") != nullptr;
}

TEST(TripwireTest, IsLoaded) { EXPECT_TRUE(TripwireLoaded()); }

// The probes below touch the real fence entry points, so they refuse to run at all
// when the binary is started by hand without the preload.
TEST(TripwireTest, AbortsOnReboot) {
  ASSERT_TRUE(TripwireLoaded()) << "refusing to call reboot(2) without the tripwire";
  const int status = ChildStatus([] { reboot(0x12345678); });
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGABRT);
}

TEST(TripwireTest, AbortsOnOpeningTheRealSysrqTrigger) {
  ASSERT_TRUE(TripwireLoaded()) << "refusing to open the real sysrq trigger without the tripwire";
  const int status = ChildStatus([] { open("/proc/sysrq-trigger", O_WRONLY); });
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGABRT);
}

// Built with -D_FORTIFY_SOURCE (cmake/DebianBuildFlags.cmake), an open() whose flags
// the compiler cannot see calls glibc's __open_2 instead: the tripwire wraps it too.
TEST(TripwireTest, AbortsOnAFortifiedOpenOfTheRealSysrqTrigger) {
  ASSERT_TRUE(TripwireLoaded()) << "refusing to open the real sysrq trigger without the tripwire";
  const int status = ChildStatus([] {
    volatile int flags = O_WRONLY;  // not a compile-time constant: __open_2 when fortified
    open("/proc/sysrq-trigger", flags);
  });
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGABRT);
}

// The CloudStack drop-ins are shell scripts whose last resort is CloudStack's own
// `echo b > /proc/sysrq-trigger`: a shell they run under inherits the preload, and its
// redirection goes through the interposed open(). The probe only opens the file
// (`exec 3>`), writing nothing, so it would be harmless even if the tripwire missed it.
TEST(TripwireTest, AbortsAShellThatRedirectsToTheRealSysrqTrigger) {
  ASSERT_TRUE(TripwireLoaded()) << "refusing to open the real sysrq trigger without the tripwire";
  const int status = ChildStatus([] {
    execl("/bin/sh", "sh", "-c", "exec 3> /proc/sysrq-trigger", static_cast<char*>(nullptr));
    _exit(127);
  });
  ASSERT_TRUE(WIFSIGNALED(status)) << "exit status " << WEXITSTATUS(status);
  EXPECT_EQ(WTERMSIG(status), SIGABRT);
}

TEST(TripwireTest, LetsOtherFilesThrough) {
  const int status = ChildStatus([] {
    const int fd = open("/proc/self/stat", O_RDONLY);
    _exit(fd >= 0 ? 0 : 1);
  });
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
