// SPDX-License-Identifier: Apache-2.0

// Per-target heartbeat bookkeeping as a value with pure transitions, so the rules
// (one outstanding write, stuck intervals count as failures, late writes stay
// failures) are unit-tested with plain time points. Owned by the scheduler thread.
#pragma once

#include <optional>
#include <string>

#include "src/sys/time.h"
#include "storage/write_result.h"

namespace hbfence {

struct HeartbeatState {
  MonoTime last_success;                // daemon start until the first success
  std::optional<WallTime> last_success_wall;
  std::optional<MonoTime> outstanding_since;
  bool outstanding_timed_out = false;   // the outstanding write passed the timeout
  int consecutive_failures = 0;
  std::string last_error;               // "timeout" or a ReasonName(); empty after a success

  static HeartbeatState Start(MonoTime t0) {
    HeartbeatState s;
    s.last_success = t0;
    return s;
  }
  bool stuck() const { return outstanding_since && outstanding_timed_out; }
};

enum class TickAction {
  kStartWrite,  // idle: start a write now (an attempt)
  kCoalesce,    // a write is outstanding but not yet late: it stands for this tick
  kFailStuck,   // the outstanding write is stuck: this tick is a failed attempt (a timeout)
};
TickAction OnTick(HeartbeatState& s, MonoTime now);

// True exactly once per write, when it passes the timeout while outstanding.
bool OnTimeoutCheck(HeartbeatState& s, MonoTime now, Duration timeout);

// When the outstanding write times out, if it has not yet.
std::optional<MonoTime> TimeoutDeadline(const HeartbeatState& s, Duration timeout);

struct CompletionEffect {
  bool success = false;          // refreshed last_success
  bool newly_timed_out = false;  // late, and the timeout had not been counted yet
  WriteError error = WriteError::kNone;  // counted as an error (not for late writes)
};
CompletionEffect OnCompletion(HeartbeatState& s, const WriteResult& r, MonoTime started, MonoTime finished,
                              WallTime content_time, Duration timeout);

}  // namespace hbfence
