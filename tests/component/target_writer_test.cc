// The writer thread and the scheduler's mailbox, driven the way the scheduler
// drives them: the next write starts the moment the previous completion is seen.
#include "storage/target_writer.h"

#include "storage/file_target.h"

#include <gtest/gtest.h>

#include "tests/support/temp_dir.h"

namespace hbfence {
namespace {

using namespace std::chrono_literals;
using testing::ReadAll;
using testing::TempDir;

TEST(TargetWriterTest, AWriteStartedRightAfterACompletionIsNeverLost) {
  TempDir dir;
  SystemClock clock;
  auto queue = std::make_shared<CompletionQueue>();
  TargetWriter writer(7, std::make_unique<FileTarget>(TargetConfig{.name = "t", .path = dir / "hb"}), clock, queue);
  const WallTime t0 = WallTime(std::chrono::seconds(1795000000));
  for (int i = 0; i < 2000; ++i) {
    writer.Start(t0 + std::chrono::seconds(i), clock.Now());
    std::vector<WriteCompletion> done;
    const auto deadline = clock.Now() + 10s;
    while (done.empty() && clock.Now() < deadline) done = queue->WaitUntil(deadline);
    ASSERT_EQ(done.size(), 1u) << "write " << i << " was dropped";
    EXPECT_EQ(done[0].target_id, 7u);
    EXPECT_TRUE(done[0].result.ok()) << done[0].result.detail;
    EXPECT_LE(done[0].started, done[0].began);
    EXPECT_LE(done[0].began, done[0].finished);
  }
  EXPECT_EQ(ReadAll(dir / "hb"), "1795001999\n");
  EXPECT_TRUE(writer.StopWithin(5s));
}

}  // namespace
}  // namespace hbfence
