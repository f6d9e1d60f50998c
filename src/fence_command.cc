// SPDX-License-Identifier: Apache-2.0

#include "src/fence_command.h"

#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>

#include "fence/executor.h"

namespace hbfence {
namespace {

// As much of the journal as the daemon reads at start: the hourly limits need only
// the past hour.
constexpr uint64_t kJournalTailBytes = 1 << 20;

}  // namespace

std::vector<std::string> RequestedTargets(const Config& cfg, std::string_view target) {
  if (target.empty()) return {};
  const auto wanted = WithoutTrailingSlash(target);
  for (const auto& t : cfg.targets) {
    if (t.name == target || t.path == wanted || (t.mount && *t.mount == wanted)) return {t.name};
  }
  return {std::string(target)};
}

LocalFence FenceWithoutDaemon(const Config& cfg, const std::string& reason, std::vector<std::string> failed_targets,
                              ActionDeps deps, FenceJournal& journal) {
  const auto& f = cfg.fence;
  const WallTime now = deps.clock.WallNow();
  LocalFence out;
  // The limits count what the daemon counts: the journal's entries of the past hour.
  // A journal that does not answer in time must not hold the fence back; then they
  // count nothing, as a freshly started daemon's do until its read comes in.
  std::vector<JournalEntry> history;
  if (auto tail = journal.ReadTail(f.journal_path, now, kJournalTailBytes, f.journal_timeout)) {
    history = std::move(tail->recent);
    out.journal_problem = tail->problem;
  } else {
    out.journal_problem = fmt::format(
        "its tail could not be read within {:g} s: the hourly limits count no earlier fence", ToSeconds(f.journal_timeout));
  }
  if (!out.journal_problem.empty()) spdlog::error("fence journal {}: {}", f.journal_path.string(), out.journal_problem);
  out.plan = PlanAction(f, history, now);
  out.entry = JournalEntry{now, cfg.host.id, std::string(Name(out.plan.run)), std::string(Name(f.policy)),
                           failed_targets, reason};
  for (const auto& step : out.plan.limited) out.entry.reason += "; " + step.detail;
  Decision decision{std::move(failed_targets), reason, {}};
  decision.places = PlacesOf(cfg.targets, decision.failed_targets);
  // A pool the agent names by its mount point that no target covers (a discovered
  // pool unmounted after destroy-vms fenced it, one discovery skipped) is scoped by
  // that mount: its VMs are the domains with storage under it. The agent asks again
  // every round while libvirt still lists the pool; with nothing on it, that must
  // not reboot the host.
  for (const auto& name : decision.failed_targets) {
    const bool placed = std::any_of(decision.places.begin(), decision.places.end(),
                                    [&](const TargetPlace& p) { return p.target == name; });
    if (!placed && !name.empty() && name.front() == '/') {
      decision.places.push_back({name, "file", std::filesystem::path(WithoutTrailingSlash(name))});
    }
  }
  out.steps = RunFencePlan(f, out.plan, out.entry, decision, deps, journal, {});
  return out;
}

int LocalFenceExitCode(const LocalFence& fence) {
  if (fence.steps.empty()) return kFenceDone;
  const ActionStep& last = fence.steps.back();
  if (last.result == "success" || last.result == "logged" || last.result == "rate_limited") return kFenceDone;
  return RebootsHost(last.action) ? kFenceRebootFailed : kFenceNotRebooting;
}

}  // namespace hbfence
