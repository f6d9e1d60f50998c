// SPDX-License-Identifier: Apache-2.0

// The fence executor: one thread that turns planned decisions into journal entries
// and then actions. Actions may block for minutes (scripts, graceful escalation), so
// they never run on the scheduler thread. The journal append is waited for at most
// the configured journal timeout: the action runs after it, or after that bound.
// Owned by the daemon; Submit() is safe from any thread, callbacks run on the
// executor thread.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <thread>

#include "fence/actions.h"
#include "fence/fence_journal.h"
#include "src/sys/worker_state.h"

namespace hbfence {

struct ExecutorCallbacks {
  std::function<void(const Status&, const JournalEntry&)> on_journal;  // after the append, before the action
  std::function<void(const ActionStep&)> on_step;                      // after each action step
};

// The one way from a planned decision to an action, for the daemon's executor thread
// and for `hbfence fence` without a daemon alike: logs the decision in CloudStack's
// wording, appends `entry` (its action is plan.run) to the journal waiting at most
// cfg.journal_timeout, then reports the limits that applied and runs plan.run.
// Blocks for as long as the action does. Returns every step, the limits' first.
std::vector<ActionStep> RunFencePlan(const FenceConfig& cfg, const ActionPlan& plan, const JournalEntry& entry,
                                     const Decision& decision, ActionDeps deps, FenceJournal& journal,
                                     const ExecutorCallbacks& callbacks);

class FenceExecutor {
 public:
  FenceExecutor(ActionDeps deps, FenceJournal& journal, ExecutorCallbacks callbacks);
  ~FenceExecutor();
  FenceExecutor(const FenceExecutor&) = delete;
  FenceExecutor& operator=(const FenceExecutor&) = delete;

  // Journals `entry` (its action is plan.run), then runs plan.run. The snapshot
  // keeps the config alive for the whole action even if a reload swaps it meanwhile.
  void Submit(std::shared_ptr<const FenceConfig> cfg, ActionPlan plan, JournalEntry entry, Decision decision);

  // Waits up to `wait` for the current action to finish, then stops the thread.
  // Returns false when an action is still running: the thread is then detached and
  // the caller must leave the process without destroying this object's deps.
  bool StopWithin(Duration wait);

 private:
  struct Request {
    std::shared_ptr<const FenceConfig> cfg;
    ActionPlan plan;
    JournalEntry entry;
    Decision decision;
  };
  void Loop();
  void Run(const Request& r);

  ActionDeps deps_;
  FenceJournal& journal_;
  ExecutorCallbacks callbacks_;
  WorkerState state_;  // its mutex also guards queue_
  std::deque<Request> queue_;
  std::thread thread_;
};

}  // namespace hbfence
