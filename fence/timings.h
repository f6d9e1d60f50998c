// SPDX-License-Identifier: Apache-2.0

// Every heartbeat timing is derived here, from the four values the operator sets.
//
// Worked timeline with the defaults (interval 5 s, timeout 10 s, lease 60 s, no grace),
// storage dies at T3:
//
//   T0     write #1 starts and completes in 2 ms        last_success = T0
//   T5     write #2 starts and blocks in the kernel     (one outstanding write per target)
//   T10    tick: #2 is outstanding but younger than the timeout: no new write, nothing counted
//   T15    #2 has run for `timeout`; tick: its completion could still be on its way
//          (up to the allowance A, below), so the tick coalesces
//   T15.1  still no completion at timeout + A: writes_timeouts +1, stuck_writes = 1
//   T20…T55  every tick is another failed attempt (consecutive_failures climbs)
//   T60    now - last_success = lease: target_up = 0, the target FAILS.
//          policy "any": the host fails; one decision for this episode; journal, then action.
//
// A write that completes after its timeout stays a failure and does not refresh
// last_success: the timeout is the operator's bound on acceptable latency, the lease
// is the slack. The scheduler wakes exactly at each target's lease expiry, so a
// decision lands at lease time, not at the next tick.
//
// THE LEASE RULE: healthy storage never fails the lease. "Healthy" means every write
// completes within the timeout, so the lease must outlast the longest gap between two
// renewals that such writes can produce. How the scheduler (src/daemon.cc, Run) works:
//   - ticks lie on a fixed grid, `interval` apart; the scheduler handles a tick up to A
//     late, and an idle target then starts a write: last_success will be that start S;
//   - a tick that finds the target's write outstanding coalesces (no new write);
//   - a write renews the lease when its completion reaches the scheduler, P: up to A
//     after it finished, so P < S + timeout + A. The scheduler takes every completion
//     queued before it judges the leases, so a target fails only if P' - S >= lease,
//     where P' is the next write's completion.
// Write n: tick g, start S = g + s (0 <= s <= A), completion P < g + s + timeout + A.
// Ticks before P coalesce, including one that meets P (it may be handled first), so
// write n+1 starts from the first tick after P: g' <= g + interval × ceil((s + timeout + A) / interval),
// S' <= g' + A, P' < S' + timeout + A. The gap P' - S is therefore below
//
//   worst_renewal_gap = W + timeout + 2A,  W = max over s of (g' - g - s)
//
// W = interval × ceil((timeout + A) / interval), the first tick a write started on time
// can miss, unless that tick falls before timeout + 2A: then a write started just late
// enough finishes just past it (the edge where a tick meets a completion) and waits a
// whole interval more, W = interval + timeout + A. The bound is tight: writes a hair
// inside the timeout and the delays above reach it (tests/unit/timings_test.cc).
//
// With the defaults: ceil(10.1 / 5) × 5 = 15 >= 10.2, W = 15 s, gap 15 + 10 + 0.2 = 25.2 s.
//   T0       write #1 starts on time, takes 9.999 s, reaches the scheduler at T10.099;
//            the ticks at T5 and T10 found it outstanding
//   T15.1    the T15 tick, handled 0.1 s late, starts #2; it takes 9.999 s
//   T25.199  #2 reaches the scheduler: 25.199 s since last_success = T0
//   lease 60 >= 25.2: a margin of 34.8 s (check-config prints both).
// Interval 1 s, timeout 0.85 s: ceil(0.95) = 1 < 1.05, the edge: W = 1 + 0.85 + 0.1 = 1.95.
//   T0.05+   #1 starts just over 0.05 s late, takes 0.85, reaches the scheduler just after
//            the T1 tick coalesced; #2 starts at T2 + 0.1 and reaches it at T3.05: 3.0 s.
// The reported false fences: interval 1 / timeout 0.5 needs a lease of at least 1.7 s
// (W = 1, not 1.001), interval 0.5 / timeout 1 at least 2.7 s (W = 1.5, not 1.2).
// Everything is computed in integer nanoseconds: no 0.4 / 0.1 = 4.000000000000001.
#pragma once

#include <string>
#include <vector>

#include "src/sys/time.h"

namespace hbfence {

// A, the scheduling allowance: how late the scheduler thread may handle a due tick
// (so a write starts late; last_success is its start), and how late a finished write's
// completion may reach the scheduler's queue (the pool thread must wake and lock).
// Thread wake-ups on a loaded host take microseconds to a few milliseconds; 100 ms is
// far beyond that. A stall longer than A is not a false fence: a host whose heartbeat
// threads cannot run for that long cannot keep its promise to write every interval,
// and its neighbours reading the heartbeat file see the same delay. Leases above the
// minimum (the defaults leave 34.8 s) absorb longer stalls; the minimum absorbs none.
inline constexpr Duration kSchedulingAllowance = std::chrono::milliseconds(100);

struct HeartbeatConfig {
  Duration interval = std::chrono::seconds(5);   // one write per target per interval
  Duration timeout = std::chrono::seconds(10);   // a write running longer is a timeout
  Duration lease = std::chrono::seconds(60);     // no success for this long: target fails
  Duration startup_grace = Duration::zero();     // no decision before start + grace
};

// The lease rule above, for one interval and timeout.
struct LeaseRule {
  Duration next_write_within;  // W: from a write's start to the tick that starts the next, at worst
  Duration minimum;            // worst_renewal_gap = W + timeout + 2A: the smallest valid lease
  bool satisfied = false;      // lease >= minimum
};

// The one check of the rule; config rejects a HeartbeatConfig whose rule is not
// satisfied, naming `minimum`. interval and timeout must be > 0.
LeaseRule CheckLease(const HeartbeatConfig& heartbeat);

struct Timings {
  Duration interval, timeout, lease, startup_grace;
  Duration earliest_decision;     // after start: max(lease, startup_grace)
  int attempts_per_lease;         // writes attempted inside one lease
  Duration latency_warning;       // 80% of the timeout: the early warning for alerts
  std::vector<double> histogram_buckets_seconds;  // 1 ms … ≥ timeout, timeout itself included
  // An outstanding write with no completion after timeout + A is a timeout: its
  // completion, had it finished within the timeout, would have reached the scheduler.
  Duration stuck_after;
  Duration worst_renewal_gap;     // the longest healthy storage goes between renewals: the minimum lease
  Duration lease_margin;          // lease - worst_renewal_gap; never negative in a valid config
};

Timings Derive(const HeartbeatConfig& heartbeat);

// One "name = value" line per derived value, for check-config.
std::vector<std::string> Describe(const Timings& t);

// Exact decimal seconds of a whole number of nanoseconds, without trailing zeros
// ("25.2", "0.0005", "180"): a printed minimum lease, typed back in, is accepted.
std::string ExactSeconds(Duration d);

}  // namespace hbfence
