// Fence actions. Each is a real implementation behind one interface, "do nothing"
// (log-only) included, so the executor never asks which mode it is in.
// Actions run on the fence executor thread and may block (sync grace, scripts,
// graceful escalation); they never run on the scheduler thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "fence/decide.h"
#include "fence/fence_config.h"
#include "src/sys/clock.h"
#include "src/sys/fence_io.h"
#include "src/sys/process_runner.h"

namespace hbfence {

// What one action did. `result` is a metric label from a fixed set:
// success | failed | timeout | refused | escalated | logged.
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

struct ActionDeps {
  FenceIo& io;
  ProcessRunner& runner;
  const Clock& clock;
};

std::unique_ptr<FenceAction> MakeFenceAction(const FenceConfig& cfg, ActionDeps deps);

// Why a custom fence script would be refused (missing, not a regular executable
// file, not owned by root, group/world-writable); empty when it may run.
std::string CustomScriptProblem(const std::filesystem::path& script);

}  // namespace hbfence
