// Every heartbeat timing is derived here, from the four values the operator sets.
//
// Worked timeline with the defaults (interval 5 s, timeout 10 s, lease 60 s, no grace),
// storage dies at T3:
//
//   T0   write #1 starts and completes in 2 ms        last_success = T0
//   T5   write #2 starts and blocks in the kernel     (one outstanding write per target)
//   T10  tick: #2 is outstanding but younger than the timeout: no new write, nothing counted
//   T15  #2 has run for `timeout`: writes_timeouts +1, stuck_writes = 1
//        tick: the writer is stuck, so this attempt fails at once: attempts +1, timeouts +1
//   T20…T55  every tick is another failed attempt (consecutive_failures climbs)
//   T60  now - last_success = lease: target_up = 0, the target FAILS.
//        policy "any": the host fails; one decision for this episode; journal, then action.
//
// A write that completes after its timeout stays a failure and does not refresh
// last_success: the timeout is the operator's bound on acceptable latency, the lease
// is the slack. The scheduler wakes exactly at each target's lease expiry, so a
// decision lands at lease time, not at the next tick.
#pragma once

#include <string>
#include <vector>

#include "src/sys/time.h"

namespace hbfence {

struct HeartbeatConfig {
  Duration interval = std::chrono::seconds(5);   // one write per target per interval
  Duration timeout = std::chrono::seconds(10);   // a write running longer is a timeout
  Duration lease = std::chrono::seconds(60);     // no success for this long: target fails
  Duration startup_grace = Duration::zero();     // no decision before start + grace
};

struct Timings {
  Duration interval, timeout, lease, startup_grace;
  Duration earliest_decision;     // after start: max(lease, startup_grace)
  int attempts_per_lease;         // writes attempted inside one lease
  Duration latency_warning;       // 80% of the timeout: the early warning for alerts
  std::vector<double> histogram_buckets_seconds;  // 1 ms … ≥ timeout, timeout itself included
};

Timings Derive(const HeartbeatConfig& heartbeat);

// One "name = value" line per derived value, for check-config.
std::vector<std::string> Describe(const Timings& t);

}  // namespace hbfence
