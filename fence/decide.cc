// SPDX-License-Identifier: Apache-2.0

#include "fence/decide.h"

#include <algorithm>
#include <sstream>

namespace hbfence {
namespace {

bool HostFails(Policy policy, size_t failed, size_t total) {
  if (total == 0) return false;
  switch (policy) {
    case Policy::kAny: return failed >= 1;
    case Policy::kAll: return failed == total;
    case Policy::kQuorum: return failed * 2 > total;
  }
  return false;
}

std::string Reason(const DecisionConfig& cfg, std::span<const TargetObservation> obs,
                   const std::vector<const TargetObservation*>& failed, MonoTime now) {
  std::ostringstream out;
  if (cfg.scope == Scope::kTarget) {
    out << "target scope (each pool its own decision): " << failed.size() << " of " << obs.size();
  } else {
    out << "policy " << Name(cfg.policy) << ": " << failed.size() << " of " << obs.size();
  }
  out << " targets without a successful heartbeat write for at least " << ToSeconds(cfg.lease) << "s (";
  for (size_t i = 0; i < failed.size(); ++i) {
    const auto& t = *failed[i];
    out << (i ? ", " : "") << t.name << ": " << ToSeconds(now - t.last_success) << "s";
    if (!t.last_error.empty()) out << ", last error " << t.last_error;
  }
  out << ")";
  return out.str();
}

}  // namespace

bool TargetFailed(Duration lease, MonoTime last_success, MonoTime now) { return now - last_success >= lease; }

Step Decide(const DecisionConfig& cfg, const EngineState& state, std::span<const TargetObservation> obs,
            MonoTime now) {
  std::vector<const TargetObservation*> failed;
  for (const auto& t : obs) {
    if (TargetFailed(LeaseOf(cfg, t), t.last_success, now)) failed.push_back(&t);
  }
  Step step{state, std::nullopt, false};
  const bool in_grace = now - state.started < cfg.startup_grace;
  if (cfg.scope == Scope::kTarget) {
    auto& decided = step.next.decided_targets;
    // A target's own episode ends when it is back within its lease (or gone).
    std::erase_if(decided, [&](const std::string& name) {
      return std::none_of(failed.begin(), failed.end(), [&](const TargetObservation* t) { return t->name == name; });
    });
    step.next.host_failing = !failed.empty();
    if (!in_grace) {
      for (const auto* t : failed) {
        if (std::find(decided.begin(), decided.end(), t->name) != decided.end()) continue;
        decided.emplace_back(t->name);
        Decision d;
        d.failed_targets.emplace_back(t->name);
        d.reason = Reason(cfg, obs, {t}, now);
        step.decision = std::move(d);
        break;
      }
    }
    step.next.decided = !decided.empty();
    step.episode_ended = state.decided && !step.next.decided;
    return step;
  }
  const bool failing = HostFails(cfg.policy, failed.size(), obs.size());
  if (!failing) {
    step.episode_ended = state.host_failing;
    step.next.host_failing = false;
    step.next.decided = false;
    return step;
  }
  step.next.host_failing = true;
  if (state.decided || in_grace) return step;
  step.next.decided = true;
  Decision d;
  for (const auto* t : failed) d.failed_targets.emplace_back(t->name);
  d.reason = Reason(cfg, obs, failed, now);
  step.decision = std::move(d);
  return step;
}

std::optional<MonoTime> NextDecisionDeadline(const DecisionConfig& cfg, const EngineState& state,
                                             std::span<const TargetObservation> obs, MonoTime now) {
  std::optional<MonoTime> next;
  auto consider = [&](MonoTime t) {
    if (t > now && (!next || t < *next)) next = t;
  };
  for (const auto& t : obs) consider(t.last_success + LeaseOf(cfg, t));
  consider(state.started + cfg.startup_grace);
  return next;
}

}  // namespace hbfence
