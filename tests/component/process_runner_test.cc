// SPDX-License-Identifier: Apache-2.0

#include "src/sys/process_runner.h"

#include <unistd.h>

#include <gtest/gtest.h>

#include "tests/support/fd_to_file.h"
#include "tests/support/temp_dir.h"

namespace hbfence {
namespace {

using namespace std::chrono_literals;
using Kind = ProcessOutcome::Kind;
using testing::FdToFile;
using testing::ReadAll;
using testing::TempDir;

// What a child printing to both streams left on this process's stdout and stderr.
struct Printed {
  ProcessOutcome outcome;
  std::string out, err;
};

template <typename RunFn>
Printed RunPrinting(RunFn run) {
  TempDir dir;
  Printed p;
  {
    FdToFile out(STDOUT_FILENO, dir / "stdout");
    FdToFile err(STDERR_FILENO, dir / "stderr");
    p.outcome = run(std::vector<std::string>{"/bin/sh", "-c", "echo to-stdout; echo to-stderr >&2"});
  }
  p.out = ReadAll(dir / "stdout");
  p.err = ReadAll(dir / "stderr");
  return p;
}

TEST(PosixProcessRunnerTest, ReportsExitStatus) {
  PosixProcessRunner r;
  EXPECT_TRUE(r.Run({"/bin/true"}, 5s).Succeeded());
  const auto out = r.Run({"/bin/sh", "-c", "exit 7"}, 5s);
  EXPECT_EQ(out.kind, Kind::kExited);
  EXPECT_EQ(out.code, 7);
  EXPECT_EQ(out.Describe(), "exit 7");
}

TEST(PosixProcessRunnerTest, ReportsDeathBySignal) {
  PosixProcessRunner r;
  const auto out = r.Run({"/bin/sh", "-c", "kill -TERM $$"}, 5s);
  EXPECT_EQ(out.kind, Kind::kSignaled);
  EXPECT_EQ(out.code, SIGTERM);
}

TEST(PosixProcessRunnerTest, TimesOutAndKillsTheProcessGroup) {
  PosixProcessRunner r;
  const auto start = std::chrono::steady_clock::now();
  const auto out = r.Run({"/bin/sh", "-c", "sleep 1000 & sleep 1000"}, 200ms);
  EXPECT_EQ(out.kind, Kind::kTimedOut);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

TEST(PosixProcessRunnerTest, MissingProgramFailsToStart) {
  PosixProcessRunner r;
  const auto out = r.Run({"/nonexistent/hbfence-test"}, 1s);
  EXPECT_EQ(out.kind, Kind::kFailedToStart);
  EXPECT_FALSE(out.Succeeded());
}

TEST(PosixProcessRunnerTest, ChildStartsWithSignalsUnblocked) {
  // The daemon blocks SIGTERM for sigwait(); children must not inherit that.
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &block, &old);
  PosixProcessRunner r;
  const auto out = r.Run({"/bin/sh", "-c", "kill -TERM $$; sleep 5"}, 10s);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  EXPECT_EQ(out.kind, Kind::kSignaled);
}

TEST(PosixProcessRunnerTest, ChildInheritsStdoutAndStderrByDefault) {
  PosixProcessRunner r;
  const Printed p = RunPrinting([&](const std::vector<std::string>& argv) { return r.Run(argv, 5s); });
  EXPECT_TRUE(p.outcome.Succeeded()) << p.outcome.Describe();
  EXPECT_EQ(p.out, "to-stdout\n");
  EXPECT_EQ(p.err, "to-stderr\n");
}

TEST(PosixProcessRunnerTest, DiscardedStdoutReachesNobodyButStderrStillDoes) {
  PosixProcessRunner r;
  const Printed p =
      RunPrinting([&](const std::vector<std::string>& argv) { return r.Run(argv, 5s, ChildStdout::kDiscard); });
  EXPECT_TRUE(p.outcome.Succeeded()) << p.outcome.Describe();
  EXPECT_EQ(p.out, "");
  EXPECT_EQ(p.err, "to-stderr\n");
}

}  // namespace
}  // namespace hbfence
