// SPDX-License-Identifier: Apache-2.0

// ExecTarget with the real PosixProcessRunner and real probe scripts, run by argv
// from a temp dir: exit codes, signals, a probe that hangs with a grandchild in its
// process group, lots of output (discarded), and a probe that cannot start.
#include "storage/exec_target.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "tests/support/fd_to_file.h"
#include "tests/support/temp_dir.h"

namespace hbfence {
namespace {

using namespace std::chrono_literals;
using testing::FdToFile;
using testing::ReadAll;
using testing::TempDir;
using testing::WriteFile;

const WallTime kT = WallTime(std::chrono::seconds(1795000000));

std::filesystem::path Script(const TempDir& dir, const std::string& name, const std::string& body) {
  const auto path = dir / name;
  WriteFile(path, "#!/bin/sh\n" + body + "\n", 0755);
  return path;
}

ExecTarget Target(std::vector<std::string> command, ProcessRunner& runner, Duration timeout = 10s) {
  return ExecTarget(TargetConfig{.name = "probe", .kind = "exec", .command = std::move(command)}, timeout, runner);
}

TEST(ExecTargetTest, ExitZeroIsAHeartbeatAndArgumentsReachTheProbeVerbatim) {
  TempDir dir;
  const auto args = dir / "args";
  const auto probe = Script(dir, "probe", "printf '%s\\n' \"$@\" > '" + args.string() + "'");
  PosixProcessRunner runner;
  const auto r = Target({probe, "status", "--json", "two words", "$(touch pwned)"}, runner).Write(kT);
  EXPECT_TRUE(r.ok()) << r.detail;
  EXPECT_EQ(ReadAll(args), "status\n--json\ntwo words\n$(touch pwned)\n") << "argv, no shell in between";
  EXPECT_FALSE(std::filesystem::exists(dir / "pwned"));
}

TEST(ExecTargetTest, NonZeroExitIsAnIoErrorNamingTheCommand) {
  TempDir dir;
  const auto probe = Script(dir, "drbdsetup", "exit 3");
  PosixProcessRunner runner;
  const auto r = Target({probe, "status", "--json"}, runner).Write(kT);
  EXPECT_EQ(r.error, WriteError::kIoError);
  EXPECT_EQ(r.detail, probe.string() + " status --json: exit 3");
}

TEST(ExecTargetTest, DeathBySignalIsOther) {
  TempDir dir;
  const auto probe = Script(dir, "probe", "kill -KILL $$");
  PosixProcessRunner runner;
  const auto r = Target({probe}, runner).Write(kT);
  EXPECT_EQ(r.error, WriteError::kOther);
  EXPECT_EQ(r.detail, probe.string() + ": signal 9");
}

TEST(ExecTargetTest, MissingOrNonExecutableProgramFailsToStart) {
  TempDir dir;
  PosixProcessRunner runner;
  const auto missing = Target({(dir / "absent").string(), "-j"}, runner).Write(kT);
  EXPECT_EQ(missing.error, WriteError::kOther);
  EXPECT_EQ(missing.detail, (dir / "absent").string() + " -j: failed to start: No such file or directory");

  WriteFile(dir / "plain", "#!/bin/sh\nexit 0\n", 0644);
  const auto plain = Target({(dir / "plain").string()}, runner).Write(kT);
  EXPECT_EQ(plain.error, WriteError::kOther);
  EXPECT_EQ(plain.detail, (dir / "plain").string() + ": failed to start: Permission denied");
}

int PidFromFile(const std::filesystem::path& path) {
  const std::string text = ReadAll(path);
  return text.empty() ? -1 : std::stoi(text);
}

// True once `pid` has exited (or no longer exists at all), waiting up to `bound`.
// A pidfd becomes readable when the process exits, so there is nothing to poll for.
bool ExitsWithin(pid_t pid, std::chrono::milliseconds bound) {
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) return errno == ESRCH;
  pollfd p{pidfd, POLLIN, 0};
  const int n = ::poll(&p, 1, static_cast<int>(bound.count()));
  ::close(pidfd);
  return n == 1;
}

TEST(ExecTargetTest, AHangingProbeIsKilledWithItsGrandchildrenAtTheTimeout) {
  TempDir dir;
  const auto probe = Script(dir, "probe",
                            "/bin/sleep 1000 &\n"
                            "echo $! > '" + (dir / "grandchild").string() + "'\n"
                            "echo $$ > '" + (dir / "probe.pid").string() + "'\n"
                            "wait");
  PosixProcessRunner runner;
  const auto start = std::chrono::steady_clock::now();
  const auto r = Target({probe, "service", "list"}, runner, 300ms).Write(kT);
  const auto took = std::chrono::steady_clock::now() - start;

  EXPECT_EQ(r.error, WriteError::kIoError);
  EXPECT_EQ(r.detail, probe.string() + " service list: timed out after 300ms");
  EXPECT_GE(took, 300ms);
  EXPECT_LT(took, 10s);
  const pid_t child = PidFromFile(dir / "probe.pid"), grandchild = PidFromFile(dir / "grandchild");
  ASSERT_GT(child, 0) << "the probe did not record its pid within the timeout";
  ASSERT_GT(grandchild, 0) << "the probe did not record its grandchild's pid within the timeout";
  EXPECT_FALSE(std::filesystem::exists("/proc/" + std::to_string(child))) << "the probe was reaped, not a zombie";
  EXPECT_TRUE(ExitsWithin(grandchild, 5000ms)) << "the grandchild in the probe's process group was killed too";
  int status = 0;
  EXPECT_EQ(::waitpid(-1, &status, WNOHANG), -1) << "no child of ours is left, running or zombie";
  EXPECT_EQ(errno, ECHILD);
}

// `drbdsetup status --json` every 5 s would flood the journal; its error message is worth keeping.
TEST(ExecTargetTest, ProbeStdoutIsDiscardedAndItsStderrKeptWithoutBlockingTheProbe) {
  TempDir dir;
  constexpr size_t kOutput = 8 << 20;  // far more than a pipe buffer holds
  const auto probe = Script(dir, "chatty",
                            "/usr/bin/head -c " + std::to_string(kOutput) + " /dev/zero\n"
                            "echo 'probe: pool degraded' >&2\n"
                            "exit 1");
  PosixProcessRunner runner;
  WriteResult r;
  {
    FdToFile stdout_file(STDOUT_FILENO, dir / "stdout");
    FdToFile stderr_file(STDERR_FILENO, dir / "stderr");
    r = Target({probe}, runner).Write(kT);
  }
  EXPECT_EQ(r.detail, probe.string() + ": exit 1") << "the probe ran to its end";
  EXPECT_EQ(ReadAll(dir / "stdout"), "");
  EXPECT_EQ(ReadAll(dir / "stderr"), "probe: pool degraded\n");
}

// Records what the factory wired in, without running anything.
class RecordingRunner final : public ProcessRunner {
 public:
  using ProcessRunner::Run;
  ProcessOutcome Run(const std::vector<std::string>& argv, Duration timeout, ChildStdout out) override {
    argv_ = argv;
    timeout_ = timeout;
    stdout_ = out;
    return {ProcessOutcome::Kind::kExited, 0};
  }
  std::vector<std::string> argv_;
  Duration timeout_{};
  ChildStdout stdout_ = ChildStdout::kInherit;
};

TEST(ExecTargetTest, TheFactoryMakesOneWithTheEnvRunnerAndWriteTimeout) {
  RecordingRunner runner;
  const TargetConfig cfg{.name = "rbd", .kind = "exec", .command = {"/usr/bin/rbd", "status", "pool/hb"}};
  const auto target = MakeHeartbeatTarget(cfg, TargetEnv{"h1", 7s, &runner});
  EXPECT_TRUE(target->Write(kT).ok());
  EXPECT_EQ(runner.argv_, cfg.command);
  EXPECT_EQ(runner.timeout_, 7s);
  EXPECT_EQ(runner.stdout_, ChildStdout::kDiscard);
}

}  // namespace
}  // namespace hbfence
