// SPDX-License-Identifier: Apache-2.0

#include "storage/heartbeat_state.h"

namespace hbfence {
namespace {

void Fail(HeartbeatState& s, std::string reason) {
  ++s.consecutive_failures;
  s.last_error = std::move(reason);
}

}  // namespace

TickAction OnTick(HeartbeatState& s, MonoTime now) {
  if (!s.outstanding_since) {
    s.outstanding_since = now;
    s.outstanding_timed_out = false;
    return TickAction::kStartWrite;
  }
  if (!s.outstanding_timed_out) return TickAction::kCoalesce;
  Fail(s, "timeout");
  return TickAction::kFailStuck;
}

bool OnTimeoutCheck(HeartbeatState& s, MonoTime now, Duration timeout) {
  if (!s.outstanding_since || s.outstanding_timed_out || now - *s.outstanding_since < timeout) return false;
  s.outstanding_timed_out = true;
  Fail(s, "timeout");
  return true;
}

std::optional<MonoTime> TimeoutDeadline(const HeartbeatState& s, Duration timeout) {
  if (!s.outstanding_since || s.outstanding_timed_out) return std::nullopt;
  return *s.outstanding_since + timeout;
}

CompletionEffect OnCompletion(HeartbeatState& s, const WriteResult& r, MonoTime started, MonoTime finished,
                              WallTime content_time, Duration timeout) {
  CompletionEffect effect;
  // The scheduler may see a completion before its timeout check ran: judge by the
  // write's own duration so a late success can never refresh the lease.
  effect.newly_timed_out = OnTimeoutCheck(s, finished, timeout);
  const bool late = s.outstanding_timed_out;
  s.outstanding_since.reset();
  s.outstanding_timed_out = false;
  if (late) return effect;
  if (!r.ok()) {
    effect.error = r.error;
    Fail(s, std::string(ReasonName(r.error)));
    return effect;
  }
  effect.success = true;
  s.last_success = started;
  s.last_success_wall = content_time;
  s.consecutive_failures = 0;
  s.last_error.clear();
  return effect;
}

}  // namespace hbfence
