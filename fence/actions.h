// SPDX-License-Identifier: Apache-2.0

// Fence actions. Each is a real implementation behind one interface, "do nothing"
// (log-only) included, so the executor never asks which mode it is in.
// Actions run on the fence executor thread and may block (sync grace, scripts,
// graceful escalation); they never run on the scheduler thread.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fence/decide.h"
#include "fence/fence_config.h"
#include "fence/journal.h"
#include "fence/vm_selection.h"
#include "src/sys/clock.h"
#include "src/sys/fence_io.h"
#include "src/sys/hypervisor.h"
#include "src/sys/process_runner.h"

namespace hbfence {

// What one action did. `result` is a metric label from a fixed set:
// success | failed | timeout | refused | escalated | logged | rate_limited.
struct ActionStep {
  FenceActionKind action;
  std::string result;
  std::string detail;
};

class FenceAction {
 public:
  virtual ~FenceAction() = default;
  // Every step taken, in order: a fallback or escalation appends the hard-reboot step.
  virtual std::vector<ActionStep> Execute(const Decision& decision) = 0;
};

// What destroy-vms did on one pool, for metrics. `escalation` is a label from a fixed
// set (kVmFenceEscalations), empty when the pool was fenced without the host.
struct VmFenceReport {
  std::string target;
  int destroyed = 0;
  std::string escalation;
  Duration select{}, destroy{}, unmount{};  // how long each step took (zero: not reached)
};

inline constexpr std::string_view kVmFenceEscalations[] = {
    "no_mount", "libvirt_error", "host_page_cache", "unknown_source", "processes_survived", "unmount_failed",
};

// An extra journal record written during an action (destroy-vms: the domains before
// the first destructive step, the results after), durable within the journal timeout.
using ActionJournal = std::function<Status(FenceActionKind as, const std::string& note,
                                           std::vector<std::string> domains, std::vector<std::string> steps)>;

struct ActionDeps {
  FenceIo& io;
  ProcessRunner& runner;
  const Clock& clock;
  // destroy-vms only:
  HypervisorFactory connect = {};
  std::function<Result<MountOf, std::string>()> mounts = {};  // the mount table, now
  ActionJournal journal = {};
  std::function<void(const VmFenceReport&)> report = {};
};

std::unique_ptr<FenceAction> MakeFenceAction(const FenceConfig& cfg, ActionDeps deps);

// Which action actually runs for a decision at `now`, after the hourly limits,
// given the journal entries written before this decision. `limited` holds a
// "rate_limited" step for each limit that applied (restart-agent escalates; a
// reboot beyond max_fences_per_hour degrades to log-only, so a host whose storage
// stays dead does not reboot forever).
struct ActionPlan {
  FenceActionKind run;
  std::vector<ActionStep> limited;
  // destroy-vms: what runs when the VMs cannot be fenced safely (destroy_escalation,
  // or log-only beyond max_fences_per_hour, with its step in `limited`).
  FenceActionKind escalation = FenceActionKind::kHardReboot;
};
ActionPlan PlanAction(const FenceConfig& cfg, std::span<const JournalEntry> history, WallTime now);

// Every (action, result) pair a decision under `cfg` can report: the configured
// action's results, those of the hard-reboot it falls back or escalates to, the
// restart-agent escalation's, and the rate_limited steps of the hourly limits that
// are set (with the log-only step a capped reboot degrades to). At most 12 pairs;
// hbfence_fence_actions_total starts each of them at 0.
std::vector<std::pair<FenceActionKind, std::string_view>> PossibleSteps(const FenceConfig& cfg);

// Why a custom fence script would be refused (missing, not a regular executable
// file, not owned by root, group/world-writable); empty when it may run.
std::string CustomScriptProblem(const std::filesystem::path& script);

}  // namespace hbfence
