// SPDX-License-Identifier: Apache-2.0

// The decision engine: a pure step function of (config, state, observations, now).
// No clock, no I/O, no logging, so every lease edge is a unit test with plain numbers.
#pragma once

#include <algorithm>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fence/fence_config.h"
#include "src/sys/time.h"

namespace hbfence {

// kHost: the failed targets together decide for the host, per the policy, once per
// failure episode. kTarget (destroy-vms): each target's lease failure is a decision
// of its own, once per that target's failure, whatever the policy.
enum class Scope { kHost, kTarget };

// destroy-vms fences what one pool holds: each target's failure is its own decision.
inline Scope ScopeOf(FenceActionKind action) {
  return action == FenceActionKind::kDestroyVms ? Scope::kTarget : Scope::kHost;
}

struct DecisionConfig {
  Duration lease;
  Duration startup_grace;
  Policy policy;
  Scope scope = Scope::kHost;
};

struct TargetObservation {
  std::string_view name;
  MonoTime last_success;        // daemon start until the first successful write
  std::string_view last_error;  // "timeout", "io_error", …; empty when none
  // A longer lease for this target alone, while timings changed by a reload take
  // over (see Daemon::ApplyConfig); zero: none. The target's lease is the longer one.
  Duration lease_floor = Duration::zero();
};

// Where a failed target's storage is. The engine knows targets by name only: the
// daemon fills these in for actions that fence what one pool holds (destroy-vms).
struct TargetPlace {
  std::string target;
  std::string kind;                            // "file", "block", "exec"
  std::optional<std::filesystem::path> mount;  // file targets with a mount
};

struct Decision {
  std::vector<std::string> failed_targets;
  std::string reason;  // one human line: which targets, for how long, why
  std::vector<TargetPlace> places;  // one per failed target, when the daemon filled them in
};

// One failure episode runs from the moment the host fails (per policy) until it
// recovers; it yields at most one decision. In target scope an episode runs while
// any target's own decision stands, and yields one decision per failed target.
struct EngineState {
  MonoTime started;
  bool host_failing = false;
  bool decided = false;  // a decision stands: this episode's (host scope), any target's (target scope)
  std::vector<std::string> decided_targets;  // target scope: targets whose own decision stands

  static EngineState Start(MonoTime t0) {
    EngineState s;
    s.started = t0;
    return s;
  }
};

struct Step {
  EngineState next;
  // Set on a step that decides. Target scope may owe several decisions at one
  // instant: each call yields one, so call again with `next` until none comes.
  std::optional<Decision> decision;
  bool episode_ended = false;  // the host recovered on this step (every decision ended)
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
