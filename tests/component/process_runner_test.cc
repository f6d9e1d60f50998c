#include "src/sys/process_runner.h"

#include <gtest/gtest.h>

namespace hbfence {
namespace {

using namespace std::chrono_literals;
using Kind = ProcessOutcome::Kind;

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

}  // namespace
}  // namespace hbfence
