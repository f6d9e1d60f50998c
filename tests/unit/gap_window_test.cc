// SPDX-License-Identifier: Apache-2.0

// GapWindow: the longest lease gap over a sliding window, the open one included.
#include "storage/gap_window.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace hbfence {
namespace {

using namespace std::chrono_literals;

const MonoTime t0 = MonoTime(1000s);

TEST(GapWindowTest, WithNoRenewalTheOpenGapIsTheMax) {
  GapWindow w(15min);
  EXPECT_EQ(w.Max(t0, t0), Duration::zero());
  EXPECT_EQ(w.Max(t0 + 7s, t0), 7s);
  EXPECT_EQ(w.Max(t0, t0 + 1s), Duration::zero()) << "a last success after now is no negative gap";
}

TEST(GapWindowTest, AnOpenGapLongerThanEveryClosedOneIsReported) {
  GapWindow w(15min);
  w.OnRenewal(t0 + 5s, 5s);
  w.OnRenewal(t0 + 10s, 5s);
  EXPECT_EQ(w.Max(t0 + 11s, t0 + 10s), 5s);
  EXPECT_EQ(w.Max(t0 + 40s, t0 + 10s), 30s) << "storage hung since the last renewal";
}

TEST(GapWindowTest, APeakIsReportedUntilItLeavesTheWindow) {
  GapWindow w(60s);
  w.OnRenewal(t0 + 20s, 20s);  // the peak
  w.OnRenewal(t0 + 25s, 5s);
  w.OnRenewal(t0 + 30s, 5s);
  EXPECT_EQ(w.Max(t0 + 31s, t0 + 30s), 20s);
  EXPECT_EQ(w.Max(t0 + 80s, t0 + 79s), 20s) << "exactly the window after the peak: still inside";
  EXPECT_EQ(w.Max(t0 + 80s + 1ns, t0 + 80s), 5s) << "the peak left; the next largest that is still inside remains";
  EXPECT_EQ(w.Max(t0 + 95s, t0 + 94s), 1s) << "all renewals left: only the open gap is left";
}

// Renewals are kept in a deque of strictly decreasing gaps: a later gap at least
// as long replaces the earlier ones, so a burst of short gaps after a long one
// costs nothing, and the long one still ages out at its own time.
TEST(GapWindowTest, ALaterLongerGapReplacesEarlierShorterOnes) {
  GapWindow w(60s);
  w.OnRenewal(t0 + 3s, 3s);
  w.OnRenewal(t0 + 6s, 3s);
  w.OnRenewal(t0 + 16s, 10s);  // replaces both
  w.OnRenewal(t0 + 18s, 2s);
  w.OnRenewal(t0 + 21s, 3s);  // replaces the 2 s gap, stays behind the 10 s one
  EXPECT_EQ(w.Max(t0 + 22s, t0 + 21s), 10s);
  EXPECT_EQ(w.Max(t0 + 76s + 1ns, t0 + 76s), 3s) << "the 10 s gap left; the 3 s one ending at +21 s is next";
  EXPECT_EQ(w.Max(t0 + 82s, t0 + 81s), 1s);
}

TEST(GapWindowTest, ManyRenewalsKeepTheMaxCorrect) {
  GapWindow w(100s);
  MonoTime at = t0;
  Duration longest{};
  // A sawtooth of gaps, checked against a brute force over the same window.
  std::vector<std::pair<MonoTime, Duration>> all;
  for (int i = 0; i < 2000; ++i) {
    const Duration gap = std::chrono::milliseconds(100 + (i * 7919) % 4000);
    at += gap;
    w.OnRenewal(at, gap);
    all.emplace_back(at, gap);
    longest = Duration::zero();
    for (const auto& [when, g] : all) {
      if (at - when <= 100s) longest = std::max(longest, g);
    }
    ASSERT_EQ(w.Max(at, at), longest) << "after renewal " << i;
  }
}

}  // namespace
}  // namespace hbfence
