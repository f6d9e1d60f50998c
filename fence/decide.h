// The decision engine: a pure step function of (config, state, observations, now).
// No clock, no I/O, no logging, so every lease edge is a unit test with plain numbers.
#pragma once

#include <algorithm>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fence/fence_config.h"
#include "src/sys/time.h"

namespace hbfence {

struct DecisionConfig {
  Duration lease;
  Duration startup_grace;
  Policy policy;
};

struct TargetObservation {
  std::string_view name;
  MonoTime last_success;        // daemon start until the first successful write
  std::string_view last_error;  // "timeout", "io_error", …; empty when none
  // A longer lease for this target alone, while timings changed by a reload take
  // over (see Daemon::ApplyConfig); zero: none. The target's lease is the longer one.
  Duration lease_floor = Duration::zero();
};

struct Decision {
  std::vector<std::string> failed_targets;
  std::string reason;  // one human line: which targets, for how long, why
};

// One failure episode runs from the moment the host fails (per policy) until it
// recovers; it yields at most one decision.
struct EngineState {
  MonoTime started;
  bool host_failing = false;
  bool decided = false;  // this episode's decision has been made

  static EngineState Start(MonoTime t0) {
    EngineState s;
    s.started = t0;
    return s;
  }
};

struct Step {
  EngineState next;
  std::optional<Decision> decision;  // set on the one step that decides
  bool episode_ended = false;        // the host recovered on this step
};

// A target fails when now - last_success >= lease.
bool TargetFailed(Duration lease, MonoTime last_success, MonoTime now);
// The lease that applies to one observed target.
inline Duration LeaseOf(const DecisionConfig& cfg, const TargetObservation& t) {
  return std::max(cfg.lease, t.lease_floor);
}

Step Decide(const DecisionConfig& cfg, const EngineState& state, std::span<const TargetObservation> obs,
            MonoTime now);

// The earliest instant after `now` at which Decide() could answer differently with
// unchanged observations: a lease expiry or the end of the startup grace.
std::optional<MonoTime> NextDecisionDeadline(const DecisionConfig& cfg, const EngineState& state,
                                             std::span<const TargetObservation> obs, MonoTime now);

}  // namespace hbfence
