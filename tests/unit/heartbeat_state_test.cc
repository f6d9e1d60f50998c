// SPDX-License-Identifier: Apache-2.0

// storage/heartbeat_state.h: per-target bookkeeping as pure transitions.
#include "storage/heartbeat_state.h"

#include <chrono>

#include <gtest/gtest.h>

#include "fence/timings.h"

namespace hbfence {
namespace {

using namespace std::chrono_literals;

const MonoTime t0{};
const WallTime w0{std::chrono::seconds(1700000000)};
constexpr Duration kTimeout = 10s;

WriteResult Ok() { return WriteResult{}; }
WriteResult Error(WriteError e, std::string detail = "fdatasync /mnt/x/hb: Input/output error") {
  return WriteResult{e, std::move(detail)};
}

TEST(HeartbeatStateTest, StartIsIdle) {
  const HeartbeatState s = HeartbeatState::Start(t0 + 3s);
  EXPECT_EQ(s.last_success, t0 + 3s);
  EXPECT_FALSE(s.last_success_wall.has_value());
  EXPECT_FALSE(s.outstanding_since.has_value());
  EXPECT_FALSE(s.outstanding_timed_out);
  EXPECT_EQ(s.consecutive_failures, 0);
  EXPECT_TRUE(s.last_error.empty());
  EXPECT_FALSE(s.stuck());
  EXPECT_EQ(TimeoutDeadline(s, kTimeout), std::nullopt);
}

TEST(HeartbeatStateTest, FirstTickStartsAWrite) {
  HeartbeatState s = HeartbeatState::Start(t0);
  EXPECT_EQ(OnTick(s, t0 + 1s), TickAction::kStartWrite);
  ASSERT_TRUE(s.outstanding_since.has_value());
  EXPECT_EQ(*s.outstanding_since, t0 + 1s);
  EXPECT_FALSE(s.outstanding_timed_out);
  EXPECT_EQ(s.consecutive_failures, 0);
  EXPECT_EQ(TimeoutDeadline(s, kTimeout), t0 + 11s);
}

TEST(HeartbeatStateTest, TickWhileOutstandingAndYoungCoalesces) {
  HeartbeatState s = HeartbeatState::Start(t0);
  ASSERT_EQ(OnTick(s, t0), TickAction::kStartWrite);
  EXPECT_EQ(OnTick(s, t0 + 5s), TickAction::kCoalesce);
  EXPECT_EQ(OnTick(s, t0 + 10s), TickAction::kCoalesce);  // the timeout check has not run: still not late
  EXPECT_EQ(*s.outstanding_since, t0);  // the original write stands
  EXPECT_EQ(s.consecutive_failures, 0);
  EXPECT_TRUE(s.last_error.empty());
}

TEST(HeartbeatStateTest, TimeoutCheckFiresExactlyOnceAtTheTimeout) {
  HeartbeatState s = HeartbeatState::Start(t0);
  ASSERT_EQ(OnTick(s, t0), TickAction::kStartWrite);
  EXPECT_FALSE(OnTimeoutCheck(s, t0 + 5s, kTimeout));
  EXPECT_FALSE(OnTimeoutCheck(s, t0 + kTimeout - 1ns, kTimeout));
  EXPECT_FALSE(s.stuck());
  EXPECT_EQ(s.consecutive_failures, 0);

  EXPECT_TRUE(OnTimeoutCheck(s, t0 + kTimeout, kTimeout));
  EXPECT_TRUE(s.stuck());
  EXPECT_TRUE(s.outstanding_timed_out);
  EXPECT_EQ(s.consecutive_failures, 1);
  EXPECT_EQ(s.last_error, "timeout");
  EXPECT_EQ(TimeoutDeadline(s, kTimeout), std::nullopt);  // already counted

  EXPECT_FALSE(OnTimeoutCheck(s, t0 + kTimeout, kTimeout));
  EXPECT_FALSE(OnTimeoutCheck(s, t0 + 60s, kTimeout));
  EXPECT_EQ(s.consecutive_failures, 1);
}

TEST(HeartbeatStateTest, TimeoutCheckWithoutAWriteDoesNothing) {
  HeartbeatState s = HeartbeatState::Start(t0);
  EXPECT_FALSE(OnTimeoutCheck(s, t0 + 100s, kTimeout));
  EXPECT_FALSE(s.stuck());
  EXPECT_EQ(s.consecutive_failures, 0);
}

TEST(HeartbeatStateTest, TicksWhileStuckAreFailedAttempts) {
  HeartbeatState s = HeartbeatState::Start(t0);
  ASSERT_EQ(OnTick(s, t0 + 5s), TickAction::kStartWrite);
  ASSERT_TRUE(OnTimeoutCheck(s, t0 + 15s, kTimeout));
  EXPECT_EQ(s.consecutive_failures, 1);
  EXPECT_EQ(OnTick(s, t0 + 15s), TickAction::kFailStuck);
  EXPECT_EQ(s.consecutive_failures, 2);
  EXPECT_EQ(OnTick(s, t0 + 20s), TickAction::kFailStuck);
  EXPECT_EQ(s.consecutive_failures, 3);
  EXPECT_EQ(s.last_error, "timeout");
  EXPECT_EQ(*s.outstanding_since, t0 + 5s);  // no new write while one is stuck
  EXPECT_EQ(s.last_success, t0);
}

TEST(HeartbeatStateTest, TimeoutDeadlineFollowsTheOutstandingWrite) {
  HeartbeatState s = HeartbeatState::Start(t0);
  EXPECT_EQ(TimeoutDeadline(s, kTimeout), std::nullopt);
  OnTick(s, t0 + 5s);
  EXPECT_EQ(TimeoutDeadline(s, kTimeout), t0 + 15s);
  EXPECT_EQ(TimeoutDeadline(s, 2500ms), t0 + 7500ms);
  OnCompletion(s, Ok(), t0 + 5s, t0 + 6s, w0, kTimeout);
  EXPECT_EQ(TimeoutDeadline(s, kTimeout), std::nullopt);
  OnTick(s, t0 + 10s);
  EXPECT_EQ(TimeoutDeadline(s, kTimeout), t0 + 20s);
}

TEST(HeartbeatStateTest, SuccessRefreshesLastSuccessWithTheStartTime) {
  HeartbeatState s = HeartbeatState::Start(t0);
  ASSERT_EQ(OnTick(s, t0 + 5s), TickAction::kStartWrite);
  const CompletionEffect e = OnCompletion(s, Ok(), t0 + 5s, t0 + 5s + 2ms, w0 + 5s, kTimeout);
  EXPECT_TRUE(e.success);
  EXPECT_FALSE(e.newly_timed_out);
  EXPECT_EQ(e.error, WriteError::kNone);
  EXPECT_EQ(s.last_success, t0 + 5s);  // started, not finished
  ASSERT_TRUE(s.last_success_wall.has_value());
  EXPECT_EQ(*s.last_success_wall, w0 + 5s);  // the time written into the file
  EXPECT_FALSE(s.outstanding_since.has_value());
  EXPECT_FALSE(s.stuck());
  EXPECT_EQ(OnTick(s, t0 + 10s), TickAction::kStartWrite);
}

TEST(HeartbeatStateTest, SuccessResetsFailures) {
  HeartbeatState s = HeartbeatState::Start(t0);
  OnTick(s, t0);
  OnCompletion(s, Error(WriteError::kIoError), t0, t0 + 1ms, w0, kTimeout);
  OnTick(s, t0 + 5s);
  OnCompletion(s, Error(WriteError::kNoSpace), t0 + 5s, t0 + 5001ms, w0, kTimeout);
  ASSERT_EQ(s.consecutive_failures, 2);
  ASSERT_EQ(s.last_error, "no_space");

  OnTick(s, t0 + 10s);
  const CompletionEffect e = OnCompletion(s, Ok(), t0 + 10s, t0 + 10s + 9999ms, w0 + 10s, kTimeout);
  EXPECT_TRUE(e.success);
  EXPECT_EQ(s.consecutive_failures, 0);
  EXPECT_TRUE(s.last_error.empty());
  EXPECT_EQ(s.last_success, t0 + 10s);
}

TEST(HeartbeatStateTest, ErrorCompletionCountsTheError) {
  HeartbeatState s = HeartbeatState::Start(t0);
  OnTick(s, t0 + 5s);
  const CompletionEffect e = OnCompletion(s, Error(WriteError::kIoError), t0 + 5s, t0 + 5s + 3ms, w0, kTimeout);
  EXPECT_FALSE(e.success);
  EXPECT_FALSE(e.newly_timed_out);
  EXPECT_EQ(e.error, WriteError::kIoError);
  EXPECT_EQ(s.consecutive_failures, 1);
  EXPECT_EQ(s.last_error, "io_error");
  EXPECT_EQ(s.last_success, t0);  // unchanged
  EXPECT_FALSE(s.last_success_wall.has_value());
  EXPECT_FALSE(s.outstanding_since.has_value());
  EXPECT_EQ(OnTick(s, t0 + 10s), TickAction::kStartWrite);
}

TEST(HeartbeatStateTest, EveryErrorReasonIsRecorded) {
  const std::pair<WriteError, const char*> reasons[] = {
      {WriteError::kIoError, "io_error"},         {WriteError::kNoSpace, "no_space"},
      {WriteError::kReadOnly, "read_only"},       {WriteError::kStaleHandle, "stale_handle"},
      {WriteError::kNotMounted, "not_mounted"},   {WriteError::kOther, "other"}};
  HeartbeatState s = HeartbeatState::Start(t0);
  int n = 0;
  MonoTime now = t0;
  for (const auto& [err, name] : reasons) {
    OnTick(s, now);
    const CompletionEffect e = OnCompletion(s, Error(err), now, now + 1ms, w0, kTimeout);
    EXPECT_EQ(e.error, err);
    EXPECT_EQ(s.last_error, name);
    EXPECT_EQ(s.consecutive_failures, ++n);
    now += 5s;
  }
}

TEST(HeartbeatStateTest, LateCompletionAfterTheTimeoutIsNotASuccess) {
  HeartbeatState s = HeartbeatState::Start(t0);
  ASSERT_EQ(OnTick(s, t0 + 5s), TickAction::kStartWrite);
  ASSERT_TRUE(OnTimeoutCheck(s, t0 + 15s, kTimeout));
  ASSERT_EQ(OnTick(s, t0 + 20s), TickAction::kFailStuck);
  ASSERT_EQ(s.consecutive_failures, 2);

  const CompletionEffect e = OnCompletion(s, Ok(), t0 + 5s, t0 + 22s, w0 + 5s, kTimeout);
  EXPECT_FALSE(e.success);
  EXPECT_FALSE(e.newly_timed_out);  // already counted by the timeout check
  EXPECT_EQ(e.error, WriteError::kNone);
  EXPECT_EQ(s.last_success, t0);  // NOT refreshed
  EXPECT_FALSE(s.last_success_wall.has_value());
  EXPECT_EQ(s.consecutive_failures, 2);  // the late write is not counted twice
  EXPECT_EQ(s.last_error, "timeout");
  EXPECT_FALSE(s.outstanding_since.has_value());
  EXPECT_FALSE(s.stuck());
  EXPECT_EQ(OnTick(s, t0 + 25s), TickAction::kStartWrite);
  EXPECT_EQ(*s.outstanding_since, t0 + 25s);
}

TEST(HeartbeatStateTest, LateErrorIsNotCountedAsAnError) {
  HeartbeatState s = HeartbeatState::Start(t0);
  OnTick(s, t0);
  ASSERT_TRUE(OnTimeoutCheck(s, t0 + kTimeout, kTimeout));
  const CompletionEffect e = OnCompletion(s, Error(WriteError::kIoError), t0, t0 + 30s, w0, kTimeout);
  EXPECT_FALSE(e.success);
  EXPECT_EQ(e.error, WriteError::kNone);
  EXPECT_EQ(s.consecutive_failures, 1);
  EXPECT_EQ(s.last_error, "timeout");
}

TEST(HeartbeatStateTest, CompletionPastTheTimeoutBeforeTheCheckRanIsNewlyTimedOut) {
  HeartbeatState s = HeartbeatState::Start(t0);
  ASSERT_EQ(OnTick(s, t0 + 5s), TickAction::kStartWrite);
  // The write took 10.5 s; the scheduler sees the completion before its timeout check.
  const CompletionEffect e = OnCompletion(s, Ok(), t0 + 5s, t0 + 15500ms, w0 + 5s, kTimeout);
  EXPECT_TRUE(e.newly_timed_out);
  EXPECT_FALSE(e.success);
  EXPECT_EQ(e.error, WriteError::kNone);
  EXPECT_EQ(s.last_success, t0);
  EXPECT_FALSE(s.last_success_wall.has_value());
  EXPECT_EQ(s.consecutive_failures, 1);
  EXPECT_EQ(s.last_error, "timeout");
  EXPECT_FALSE(s.outstanding_since.has_value());
  EXPECT_FALSE(s.stuck());
  // The timeout is not counted again by a check that runs afterwards.
  EXPECT_FALSE(OnTimeoutCheck(s, t0 + 16s, kTimeout));
  EXPECT_EQ(s.consecutive_failures, 1);
}

TEST(HeartbeatStateTest, ErrorPastTheTimeoutBeforeTheCheckRanCountsAsTimeoutOnly) {
  HeartbeatState s = HeartbeatState::Start(t0);
  OnTick(s, t0);
  const CompletionEffect e = OnCompletion(s, Error(WriteError::kStaleHandle), t0, t0 + 12s, w0, kTimeout);
  EXPECT_TRUE(e.newly_timed_out);
  EXPECT_FALSE(e.success);
  EXPECT_EQ(e.error, WriteError::kNone);  // a late write is a timeout, not also an error
  EXPECT_EQ(s.consecutive_failures, 1);
  EXPECT_EQ(s.last_error, "timeout");
  EXPECT_FALSE(s.outstanding_since.has_value());
}

TEST(HeartbeatStateTest, CompletionExactlyAtTheTimeoutIsLate) {
  HeartbeatState s = HeartbeatState::Start(t0);
  OnTick(s, t0);
  const CompletionEffect e = OnCompletion(s, Ok(), t0, t0 + kTimeout, w0, kTimeout);
  EXPECT_TRUE(e.newly_timed_out);
  EXPECT_FALSE(e.success);
}

TEST(HeartbeatStateTest, CompletionJustInsideTheTimeoutIsASuccess) {
  HeartbeatState s = HeartbeatState::Start(t0);
  OnTick(s, t0);
  const CompletionEffect e = OnCompletion(s, Ok(), t0, t0 + kTimeout - 1ns, w0, kTimeout);
  EXPECT_FALSE(e.newly_timed_out);
  EXPECT_TRUE(e.success);
  EXPECT_EQ(s.last_success, t0);
  EXPECT_EQ(s.consecutive_failures, 0);
}

// The worked timeline from fence/timings.h: storage dies at T3 (defaults 5/10/60). The
// scheduler checks outstanding writes at Timings::stuck_after (timeout + allowance).
TEST(HeartbeatStateTest, WorkedTimelineFromTimingsHeader) {
  const Duration stuck_after = Derive(HeartbeatConfig{}).stuck_after;
  ASSERT_EQ(stuck_after, 10100ms);
  HeartbeatState s = HeartbeatState::Start(t0);
  ASSERT_EQ(OnTick(s, t0), TickAction::kStartWrite);
  ASSERT_TRUE(OnCompletion(s, Ok(), t0, t0 + 2ms, w0, kTimeout).success);
  ASSERT_EQ(OnTick(s, t0 + 5s), TickAction::kStartWrite);   // #2 blocks in the kernel
  ASSERT_EQ(OnTick(s, t0 + 10s), TickAction::kCoalesce);    // younger than the timeout
  ASSERT_FALSE(OnTimeoutCheck(s, t0 + 15s, stuck_after));   // #2 has run for `timeout`: its completion may be on its way
  ASSERT_EQ(OnTick(s, t0 + 15s), TickAction::kCoalesce);
  ASSERT_EQ(s.consecutive_failures, 0);
  ASSERT_TRUE(OnTimeoutCheck(s, t0 + 15100ms, stuck_after));  // none came: a timeout
  for (auto t = t0 + 20s; t <= t0 + 55s; t += 5s) ASSERT_EQ(OnTick(s, t), TickAction::kFailStuck);
  EXPECT_EQ(s.consecutive_failures, 9);  // the timeout + ticks at 20, 25, …, 55
  EXPECT_EQ(s.last_success, t0);         // so the lease expires at T60
}

}  // namespace
}  // namespace hbfence
