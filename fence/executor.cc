// SPDX-License-Identifier: Apache-2.0

#include "fence/executor.h"

#include <pthread.h>

#include <spdlog/spdlog.h>

namespace hbfence {
namespace {

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ",") + s;
  return out;
}

// Worded like CloudStack's kvmheartbeat.sh logger line, so operators' existing log
// alerts keep matching; the reason (which names a control-socket request) follows.
void LogDecision(const FenceConfig& cfg, FenceActionKind run, const JournalEntry& e) {
  const bool reboots = run != FenceActionKind::kLogOnly && run != FenceActionKind::kRestartAgent;
  const std::string what = run == FenceActionKind::kLogOnly       ? "would reboot system"
                           : run == FenceActionKind::kRestartAgent ? "will restart " + cfg.agent_unit
                                                                   : "will reboot system";
  const std::string log_only = run == FenceActionKind::kLogOnly ? "; fence action is log-only: NOT fencing" : "";
  spdlog::critical("hbfence {} because it was unable to write the heartbeat to the storage ({}targets {}){}. {}", what,
                   reboots ? "action " + std::string(Name(run)) + ", " : "", Join(e.failed_targets), log_only,
                   e.reason);
}

}  // namespace

FenceExecutor::FenceExecutor(ActionDeps deps, FenceJournal& journal, ExecutorCallbacks callbacks)
    : deps_(deps), journal_(journal), callbacks_(std::move(callbacks)), thread_([this] { Loop(); }) {}

FenceExecutor::~FenceExecutor() {
  if (thread_.joinable()) StopWithin(Duration::max());
}

void FenceExecutor::Submit(std::shared_ptr<const FenceConfig> cfg, ActionPlan plan, JournalEntry entry,
                           Decision decision) {
  std::lock_guard lock(state_.mu);
  queue_.push_back({std::move(cfg), std::move(plan), std::move(entry), std::move(decision)});
  state_.cv.notify_all();
}

bool FenceExecutor::StopWithin(Duration wait) { return StopWorker(state_, thread_, wait); }

void FenceExecutor::Loop() {
  pthread_setname_np(pthread_self(), "hbfence-fence");
  std::unique_lock lock(state_.mu);
  for (;;) {
    state_.cv.wait(lock, [&] { return state_.stopping || !queue_.empty(); });
    if (state_.stopping) return;
    Request r = std::move(queue_.front());
    queue_.pop_front();
    state_.busy = true;
    lock.unlock();
    Run(r);
    lock.lock();
    state_.busy = false;
    state_.cv.notify_all();
  }
}

void FenceExecutor::Run(const Request& r) {
  RunFencePlan(*r.cfg, r.plan, r.entry, r.decision, deps_, journal_, callbacks_);
}

std::vector<ActionStep> RunFencePlan(const FenceConfig& cfg, const ActionPlan& plan, const JournalEntry& entry,
                                     const Decision& decision, ActionDeps deps, FenceJournal& journal,
                                     const ExecutorCallbacks& callbacks) {
  LogDecision(cfg, plan.run, entry);
  // Durability before action, with a bound: the entry is on disk before anything
  // can reboot us, unless the journal's disk does not answer within the journal
  // timeout. Then the action runs anyway: an unfenced host whose VMs are restarted
  // elsewhere is worse than a lost record.
  const Status journaled = journal.Append(cfg.journal_path, entry, cfg.journal_rotate_bytes, cfg.journal_timeout);
  if (!journaled) spdlog::error("fence journal: {}; fencing anyway", journaled.error());
  if (callbacks.on_journal) callbacks.on_journal(journaled, entry);
  std::vector<ActionStep> steps;
  auto report = [&](const ActionStep& step) {
    const bool fine = step.result == "success" || step.result == "logged";
    spdlog::log(fine ? spdlog::level::warn : spdlog::level::err, "fence action {}: {} ({})", Name(step.action),
                step.result, step.detail);
    if (callbacks.on_step) callbacks.on_step(step);
    steps.push_back(step);
  };
  for (const auto& step : plan.limited) report(step);
  FenceConfig effective = cfg;
  effective.action = plan.run;
  effective.destroy_escalation = plan.escalation;
  // Records an action writes on its way (destroy-vms), as entries of this decision.
  deps.journal = [&](FenceActionKind as, const std::string& note, std::vector<std::string> domains,
                     std::vector<std::string> action_steps) {
    JournalEntry e = entry;
    e.time = deps.clock.WallNow();
    e.action = std::string(Name(as));
    e.reason = note;
    e.domains = std::move(domains);
    e.steps = std::move(action_steps);
    const Status st = journal.Append(cfg.journal_path, e, cfg.journal_rotate_bytes, cfg.journal_timeout);
    if (!st) spdlog::error("fence journal: {}; going on", st.error());
    if (callbacks.on_journal) callbacks.on_journal(st, e);
    return st;
  };
  auto action = MakeFenceAction(effective, deps);
  for (const auto& step : action->Execute(decision)) report(step);
  return steps;
}

}  // namespace hbfence
