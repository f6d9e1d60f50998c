// SPDX-License-Identifier: Apache-2.0

// IoWorker: calls that block in the kernel cost one thread and never the caller's
// deadline; ReadRegularFile: anything but a regular file is refused before a read.
#include "src/sys/io_worker.h"

#include <sys/stat.h>

#include <future>

#include <gtest/gtest.h>

#include "src/sys/fs_util.h"
#include "tests/support/temp_dir.h"

namespace hbfence {
namespace {

using namespace std::chrono_literals;
using testing::TempDir;
using testing::WriteFile;

// A call that blocks until the test opens the gate, as a call stuck in the kernel does.
struct Gate {
  std::promise<void> open;
  std::shared_future<void> opened = open.get_future().share();
  std::function<int()> BlockedCall(int value) {
    return [f = opened, value] {
      f.wait();
      return value;
    };
  }
};

TEST(IoWorkerTest, CallReturnsTheResult) {
  IoWorker worker("test");
  EXPECT_EQ(worker.Call<int>([] { return 7; }, Duration::max()), 7);
}

TEST(IoWorkerTest, StuckCallGivesUpAtTheDeadlineAndLaterCallsWaitTheirTurn) {
  Gate gate;
  IoWorker worker("test");
  EXPECT_EQ(worker.Call<int>(gate.BlockedCall(1), 20ms), std::nullopt);
  std::promise<int> later;
  ASSERT_TRUE(worker.Post([&later] { later.set_value(2); }));
  auto later_result = later.get_future();
  EXPECT_EQ(later_result.wait_for(0s), std::future_status::timeout) << "ran while the first call was stuck";
  gate.open.set_value();
  EXPECT_EQ(later_result.get(), 2);
}

TEST(IoWorkerTest, AStuckWorkerRefusesMoreThanItsQueue) {
  Gate gate;
  std::promise<void> started;
  IoWorker worker("test", 2);
  ASSERT_TRUE(worker.Post([f = gate.opened, &started] {
    started.set_value();
    f.wait();
  }));
  started.get_future().wait();
  // The stuck call has left the queue: two more fit, the third is refused.
  ASSERT_TRUE(worker.Post([] {}));
  ASSERT_TRUE(worker.Post([] {}));
  EXPECT_FALSE(worker.Post([] {}));
  EXPECT_EQ(worker.Call<int>([] { return 1; }, Duration::max()), std::nullopt) << "a full queue answers at once";
  gate.open.set_value();
}

TEST(IoWorkerTest, DestroyingAWorkerWithAStuckCallDoesNotWait) {
  Gate gate;
  std::promise<void> started, finished;
  {
    IoWorker worker("test");
    ASSERT_TRUE(worker.Post([f = gate.opened, &started, &finished] {
      started.set_value();
      f.wait();
      finished.set_value();
    }));
    started.get_future().wait();
    EXPECT_FALSE(worker.StopWithin(0s)) << "the call is still running: the thread is abandoned";
  }
  // The abandoned thread still finishes its call once the kernel lets it go.
  gate.open.set_value();
  finished.get_future().wait();
}

TEST(IoWorkerTest, CallWithinAbandonsAStuckCall) {
  Gate gate;
  EXPECT_EQ(CallWithin<int>("test", gate.BlockedCall(3), 10ms), std::nullopt);
  EXPECT_EQ(CallWithin<int>("test", [] { return 4; }, Duration::max()), 4);
  gate.open.set_value();
}

TEST(ReadRegularFileTest, ReadsARegularFile) {
  TempDir dir;
  WriteFile(dir / "f", "content\n");
  auto text = ReadRegularFile(dir / "f", 100);
  ASSERT_TRUE(text) << text.error();
  EXPECT_EQ(text.value(), "content\n");
}

TEST(ReadRegularFileTest, ReadsProcFilesThatReportSizeZero) {
  auto text = ReadRegularFile("/proc/self/mountinfo", 1 << 20);
  ASSERT_TRUE(text) << text.error();
  EXPECT_NE(text.value().find(" / "), std::string::npos);
}

TEST(ReadRegularFileTest, FifoIsRefusedWithoutBlocking) {
  TempDir dir;
  ASSERT_EQ(::mkfifo((dir / "fifo").c_str(), 0600), 0);
  // No writer ever opens it: a blocking open or read would hang this test.
  auto text = ReadRegularFile(dir / "fifo", 100);
  ASSERT_FALSE(text);
  EXPECT_EQ(text.error(), (dir / "fifo").string() + " is a FIFO, not a regular file");
}

TEST(ReadRegularFileTest, DirectoryIsRefused) {
  TempDir dir;
  auto text = ReadRegularFile(dir.path(), 100);
  ASSERT_FALSE(text);
  EXPECT_EQ(text.error(), dir.path().string() + " is a directory, not a regular file");
}

TEST(ReadRegularFileTest, FileLargerThanTheBoundIsRefused) {
  TempDir dir;
  WriteFile(dir / "big", std::string(101, 'x'));
  auto text = ReadRegularFile(dir / "big", 100);
  ASSERT_FALSE(text);
  EXPECT_EQ(text.error(), (dir / "big").string() + " is larger than 100 bytes");
  EXPECT_TRUE(ReadRegularFile(dir / "big", 101));
}

TEST(ReadRegularFileTest, MissingFileNamesTheErrno) {
  TempDir dir;
  auto text = ReadRegularFile(dir / "missing", 100);
  ASSERT_FALSE(text);
  EXPECT_EQ(text.error(), "cannot open " + (dir / "missing").string() + ": No such file or directory");
}

}  // namespace
}  // namespace hbfence
