// SPDX-License-Identifier: Apache-2.0

// `hbfence fence`: a fence request (CloudStack's `kvmheartbeat.sh -c`) that must be
// carried out whether or not the daemon answers.
//
// The daemon is asked first, over its control socket: it judges the request by its
// own leases (src/daemon.h, ControlFence) and its answer stands. When it does not
// answer (not running, wedged, stopping), nothing is writing this host's heartbeat,
// the neighbours find the host dead and its VMs may be started elsewhere: the
// configured action then runs in this process, through the daemon's own pieces,
// not a copy of them. The hourly limits are counted from the journal's tail (read
// with a bound), the decision is journaled (bounded) and the action run by
// RunFencePlan (fence/executor.h) through the real seams.
//
// The daemon's instance locks are taken when free and held until exit, so a daemon
// starting meanwhile does not journal the same outage; a lock another process holds
// does not stop the fence: a daemon that holds its locks but does not answer is a
// wedged one, exactly when fencing matters. The hardware watchdog is not touched
// (opening it would arm it; a wedged daemon stops petting it anyway).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "fence/actions.h"
#include "fence/fence_journal.h"
#include "src/config.h"

namespace hbfence {

// Exit statuses of `hbfence fence`. The drop-ins fall back to CloudStack's own
// reboot (sync, sysrq 'b') for anything but kFenceDone and kFenceNotRebooting.
inline constexpr int kFenceDone = 0;          // the daemon accepted, or the planned action ran as planned
inline constexpr int kFenceNotRebooting = 1;  // the daemon refused (its judgement), or restart-agent failed
inline constexpr int kFenceUnusable = 2;      // usage error, or no configuration to fence with: nothing done
inline constexpr int kFenceRebootFailed = 3;  // a reboot was planned and the host is still up

// The targets a request names: the configured target whose name, heartbeat file or
// mount `target` is; `target` itself when none is (or nothing when it is empty).
std::vector<std::string> RequestedTargets(const Config& cfg, std::string_view target);

struct LocalFence {
  ActionPlan plan;
  JournalEntry entry;
  std::vector<ActionStep> steps;  // the limits' first, then the action's
  std::string journal_problem;    // the tail could not be read in time: the limits counted nothing
};

// Plans (hourly limits over the journal's tail, read within cfg.fence.journal_timeout),
// journals and runs the configured action for `reason`, as the daemon does for its own
// decisions. Blocks for as long as the action does.
LocalFence FenceWithoutDaemon(const Config& cfg, const std::string& reason, std::vector<std::string> failed_targets,
                              ActionDeps deps, FenceJournal& journal);

// kFenceDone when the last step succeeded or only logged; kFenceRebootFailed when a
// reboot-type action did not take the host down; kFenceNotRebooting otherwise.
int LocalFenceExitCode(const LocalFence& fence);

}  // namespace hbfence
