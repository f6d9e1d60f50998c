// SPDX-License-Identifier: Apache-2.0

#include "src/sys/process_runner.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

extern char** environ;

namespace hbfence {
namespace {

// A child that ignores SIGKILL cannot exist, but one stuck in the kernel on dead
// storage may take a while to die; we wait this long for it before giving up on
// reaping (it stays a zombie until the next Run or exit, which is harmless).
constexpr auto kReapAfterKill = std::chrono::seconds(2);

int PidfdOpen(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

// Waits until the child exits or the deadline passes. Returns true when it exited.
bool WaitReadable(int pidfd, Duration timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd p{pidfd, POLLIN, 0};
    const int n = ::poll(&p, 1, static_cast<int>(std::max<int64_t>(0, left.count())));
    if (n > 0) return true;
    if (n == 0) return false;
    if (errno != EINTR) return false;
  }
}

ProcessOutcome FromWaitStatus(int status) {
  if (WIFEXITED(status)) return {ProcessOutcome::Kind::kExited, WEXITSTATUS(status)};
  return {ProcessOutcome::Kind::kSignaled, WTERMSIG(status)};
}

}  // namespace

std::string ProcessOutcome::Describe() const {
  switch (kind) {
    case Kind::kExited: return "exit " + std::to_string(code);
    case Kind::kSignaled: return "signal " + std::to_string(code);
    case Kind::kTimedOut: return "timed out";
    case Kind::kFailedToStart: return std::string("failed to start: ") + std::strerror(code);
  }
  return "unknown";
}

ProcessOutcome PosixProcessRunner::Run(const std::vector<std::string>& argv, Duration timeout, ChildStdout out) {
  if (argv.empty()) return {ProcessOutcome::Kind::kFailedToStart, EINVAL};
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t empty, all;
  sigemptyset(&empty);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  if (out == ChildStdout::kDiscard) posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);

  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, args[0], &actions, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return {ProcessOutcome::Kind::kFailedToStart, rc};

  const int pidfd = PidfdOpen(pid);
  const bool exited = pidfd >= 0 ? WaitReadable(pidfd, timeout) : true;  // no pidfd: block in waitpid
  if (!exited) {
    ::kill(-pid, SIGKILL);
    const bool reaped = WaitReadable(pidfd, kReapAfterKill);
    ::close(pidfd);
    if (reaped) {
      int status = 0;
      ::waitpid(pid, &status, 0);
    }
    return {ProcessOutcome::Kind::kTimedOut, 0};
  }
  if (pidfd >= 0) ::close(pidfd);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return FromWaitStatus(status);
}

}  // namespace hbfence
