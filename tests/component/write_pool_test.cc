// SPDX-License-Identifier: Apache-2.0

// The write pool and the scheduler's mailbox, driven the way the scheduler drives
// them: runs of writes, Spread() when a run is late, and stopping with a write
// stuck.
#include "storage/write_pool.h"

#include <future>

#include <gtest/gtest.h>

#include "storage/file_target.h"
#include "tests/support/temp_dir.h"

namespace hbfence {
namespace {

using namespace std::chrono_literals;
using testing::ReadAll;
using testing::TempDir;

const WallTime kT0 = WallTime(std::chrono::seconds(1795000000));

std::shared_ptr<HeartbeatTarget> File(const std::filesystem::path& path) {
  return std::make_shared<FileTarget>(TargetConfig{.name = path.filename().string(), .path = path});
}

// A write that blocks, as one stuck in the kernel would, until the test lets it go.
class HeldTarget final : public HeartbeatTarget {
 public:
  WriteResult Write(WallTime) override {
    entered_.set_value();
    release_.wait();
    return {};
  }
  void WaitEntered() { entered_future_.wait(); }
  void Release() { release_promise_.set_value(); }

 private:
  std::promise<void> entered_;
  std::future<void> entered_future_ = entered_.get_future();
  std::promise<void> release_promise_;
  std::shared_future<void> release_ = release_promise_.get_future().share();
};

// Completions until `n` arrived or `bound` passed.
std::vector<WriteCompletion> Collect(CompletionQueue& queue, size_t n, Duration bound) {
  const auto deadline = std::chrono::steady_clock::now() + bound;
  std::vector<WriteCompletion> got;
  while (got.size() < n && std::chrono::steady_clock::now() < deadline) {
    for (auto& c : queue.WaitUntil(deadline)) got.push_back(std::move(c));
  }
  return got;
}

TEST(WritePoolTest, AWriteSubmittedRightAfterACompletionIsNeverLost) {
  TempDir dir;
  SystemClock clock;
  auto queue = std::make_shared<CompletionQueue>();
  WritePool pool(clock, queue);
  const auto target = File(dir / "hb");
  for (int i = 0; i < 2000; ++i) {
    pool.Submit({{7, target, kT0 + std::chrono::seconds(i), clock.Now()}});
    const auto done = Collect(*queue, 1, 10s);
    ASSERT_EQ(done.size(), 1u) << "write " << i << " was dropped";
    EXPECT_EQ(done[0].target_id, 7u);
    EXPECT_TRUE(done[0].result.ok()) << done[0].result.detail;
    EXPECT_LE(done[0].started, done[0].began);
    EXPECT_LE(done[0].began, done[0].finished);
  }
  EXPECT_EQ(ReadAll(dir / "hb"), "1795001999\n");
  EXPECT_EQ(pool.threads(), 1u) << "one thread serves writes that never overlap";
  EXPECT_TRUE(pool.StopWithin(5s));
}

TEST(WritePoolTest, ARunIsWrittenInOrderByOneThreadAndWakesTheSchedulerOnce) {
  TempDir dir;
  SystemClock clock;
  auto queue = std::make_shared<CompletionQueue>();
  WritePool pool(clock, queue);
  std::vector<WriteRequest> run;
  for (uint64_t id = 1; id <= 64; ++id) run.push_back({id, File(dir / ("hb" + std::to_string(id))), kT0, clock.Now()});
  pool.Submit(std::move(run));

  // Woken once, by the run's last write: everything is there at that moment.
  std::vector<WriteCompletion> done;
  const auto deadline = clock.Now() + 10s;
  while (done.empty() && clock.Now() < deadline) done = queue->WaitUntil(deadline);
  ASSERT_EQ(done.size(), 64u);
  for (size_t i = 0; i < done.size(); ++i) {
    EXPECT_EQ(done[i].target_id, i + 1);
    EXPECT_TRUE(done[i].result.ok()) << done[i].result.detail;
    if (i > 0) {
      EXPECT_LE(done[i - 1].finished, done[i].began) << "one after the other";
    }
  }
  EXPECT_EQ(pool.threads(), 1u);
  EXPECT_TRUE(pool.StopWithin(5s));
}

TEST(WritePoolTest, SpreadFreesTheWritesQueuedBehindAStuckOne) {
  TempDir dir;
  SystemClock clock;  // outlives the pool's threads: the held write is released before the test ends
  auto queue = std::make_shared<CompletionQueue>();
  constexpr Duration kSlow = std::chrono::hours(1);  // slow only when the test says so
  WritePool pool(clock, queue, kSlow);
  auto held = std::make_shared<HeldTarget>();
  pool.Submit({{1, held, kT0, clock.Now()}, {2, File(dir / "a"), kT0, clock.Now()}, {3, File(dir / "b"), kT0, clock.Now()}});
  held->WaitEntered();

  // Not slow yet: nothing moves, and the pool says when the write will be.
  const MonoTime now = clock.Now();
  const auto look_again = pool.Spread(now);
  ASSERT_TRUE(look_again);
  EXPECT_GT(*look_again, now);
  EXPECT_LE(*look_again, now + kSlow);
  EXPECT_EQ(pool.threads(), 1u) << "the writes behind stay in their run";

  EXPECT_FALSE(pool.Spread(*look_again)) << "once slow, nothing is left waiting";
  auto freed = Collect(*queue, 2, 10s);
  ASSERT_EQ(freed.size(), 2u) << "the writes behind the stuck one ran on threads of their own";
  std::sort(freed.begin(), freed.end(), [](const auto& a, const auto& b) { return a.target_id < b.target_id; });
  EXPECT_EQ(freed[0].target_id, 2u);
  EXPECT_EQ(freed[1].target_id, 3u);
  EXPECT_EQ(ReadAll(dir / "a"), "1795000000\n");
  EXPECT_LE(pool.threads(), 3u);

  // The next tick's run goes to a thread that is free, not behind the stuck one.
  const size_t threads = pool.threads();
  pool.Submit({{2, File(dir / "a"), kT0 + 1s, clock.Now()}});
  const auto next = Collect(*queue, 1, 10s);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].target_id, 2u);
  EXPECT_EQ(pool.threads(), threads) << "an idle thread is reused";

  held->Release();
  const auto late = Collect(*queue, 1, 10s);
  ASSERT_EQ(late.size(), 1u);
  EXPECT_EQ(late[0].target_id, 1u);
  EXPECT_TRUE(pool.StopWithin(5s));
}

TEST(WritePoolTest, SpreadRightAfterSubmitAlwaysSaysWhenToLookAgain) {
  TempDir dir;
  SystemClock clock;
  auto queue = std::make_shared<CompletionQueue>();
  WritePool pool(clock, queue, std::chrono::hours(1));
  for (int round = 0; round < 200; ++round) {
    auto held = std::make_shared<HeldTarget>();
    pool.Submit({{1, held, kT0, clock.Now()}, {2, File(dir / "a"), kT0, clock.Now()}});
    // Taken by its thread or not yet: either way the held write may hang, and the
    // scheduler must come back to free the write behind it.
    EXPECT_TRUE(pool.Spread(clock.Now())) << "round " << round;
    held->WaitEntered();
    held->Release();
    ASSERT_EQ(Collect(*queue, 2, 10s).size(), 2u);
  }
  EXPECT_TRUE(pool.StopWithin(5s));
}

TEST(WritePoolTest, SpreadAtAnyMomentLosesAndRepeatsNoWrite) {
  TempDir dir;
  SystemClock clock;
  auto queue = std::make_shared<CompletionQueue>();
  WritePool pool(clock, queue);
  std::vector<std::shared_ptr<HeartbeatTarget>> targets;
  for (int i = 0; i < 8; ++i) targets.push_back(File(dir / ("hb" + std::to_string(i))));
  for (int round = 0; round < 500; ++round) {
    std::vector<WriteRequest> run;
    for (uint64_t id = 0; id < targets.size(); ++id) run.push_back({id, targets[id], kT0, clock.Now()});
    pool.Submit(std::move(run));
    // Racing the thread that works through the run: before it starts, between two
    // of its writes, during one, after the last.
    std::vector<WriteCompletion> done;
    const auto deadline = clock.Now() + 10s;
    while (done.size() < targets.size() && clock.Now() < deadline) {
      if (round % 2) pool.Spread(clock.Now() + 1h);  // every write under way counts as slow
      for (auto& c : queue->WaitUntil(clock.Now())) done.push_back(std::move(c));
    }
    ASSERT_EQ(done.size(), targets.size()) << "round " << round;
    std::vector<uint64_t> ids;
    for (const auto& c : done) ids.push_back(c.target_id);
    std::sort(ids.begin(), ids.end());
    EXPECT_EQ(std::adjacent_find(ids.begin(), ids.end()), ids.end()) << "a write ran twice in round " << round;
  }
  EXPECT_LE(pool.threads(), targets.size());
  EXPECT_TRUE(pool.StopWithin(5s));
}

TEST(WritePoolTest, ThreadsStartedForAHangRetireOnceIdleExceptOne) {
  TempDir dir;
  SystemClock clock;
  auto queue = std::make_shared<CompletionQueue>();
  // Retiring after 200 ms, well inside the 10 s this test waits (the default, 10 s,
  // made it a race with the wait).
  WritePool pool(clock, queue, 20ms, 200ms);
  auto held = std::make_shared<HeldTarget>();
  pool.Submit({{1, held, kT0, clock.Now()}, {2, File(dir / "a"), kT0, clock.Now()}, {3, File(dir / "b"), kT0, clock.Now()}});
  held->WaitEntered();
  pool.Spread(clock.Now() + 1h);
  ASSERT_EQ(Collect(*queue, 2, 10s).size(), 2u);
  held->Release();
  ASSERT_EQ(Collect(*queue, 1, 10s).size(), 1u);

  const auto deadline = clock.Now() + 10s;
  while (pool.threads() > 1 && clock.Now() < deadline) queue->WaitUntil(clock.Now() + 5ms);
  EXPECT_EQ(pool.threads(), 1u) << "idle threads retire; one is kept";
  pool.Submit({{2, File(dir / "a"), kT0 + 1s, clock.Now()}});
  ASSERT_EQ(Collect(*queue, 1, 10s).size(), 1u);
  EXPECT_EQ(pool.threads(), 1u);
  EXPECT_TRUE(pool.StopWithin(5s));
}

TEST(WritePoolTest, StoppingDetachesAThreadStuckInAWriteAndItFinishesSafelyLater) {
  SystemClock clock;
  auto queue = std::make_shared<CompletionQueue>();
  auto held = std::make_shared<HeldTarget>();
  {
    WritePool pool(clock, queue);
    pool.Submit({{1, held, kT0, clock.Now()}});
    held->WaitEntered();
    EXPECT_FALSE(pool.StopWithin(10ms)) << "a stuck write is abandoned, not waited for";
  }
  // The pool is gone; its abandoned thread still holds the shared state and the queue.
  held->Release();
  const auto late = Collect(*queue, 1, 10s);
  ASSERT_EQ(late.size(), 1u);
  EXPECT_EQ(late[0].target_id, 1u);
}

}  // namespace
}  // namespace hbfence
