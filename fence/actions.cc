// SPDX-License-Identifier: Apache-2.0

#include "fence/actions.h"

#include <sys/stat.h>

#include <algorithm>

#include <spdlog/spdlog.h>

#include "fence/destroy_vms.h"
#include "src/sys/io_worker.h"

namespace hbfence {
namespace {

// sync(2) can block forever on dead storage: wait at most the grace for it.
bool SyncWithin(FenceIo& io, Duration grace) {
  return CallWithin<bool>("hbfence-sync", [&io] {
           io.SyncFilesystems();
           return true;
         }, grace)
      .has_value();
}

class HardReboot final : public FenceAction {
 public:
  HardReboot(const FenceConfig& cfg, ActionDeps deps) : cfg_(cfg), deps_(deps) {}

  std::vector<ActionStep> Execute(const Decision&) override {
    const bool synced = SyncWithin(deps_.io, cfg_.sync_grace);
    if (!synced) spdlog::warn("sync did not finish within {}s; rebooting without it", ToSeconds(cfg_.sync_grace));
    auto sysrq = deps_.io.WriteSysrq(cfg_.sysrq_trigger_path, 'b');
    if (sysrq) return {{FenceActionKind::kHardReboot, "success", "sysrq b written to " + cfg_.sysrq_trigger_path.string()}};
    spdlog::critical("FENCE: sysrq reboot failed ({}); falling back to reboot(2)", sysrq.error());
    auto reboot = deps_.io.Reboot();
    return {{FenceActionKind::kHardReboot, "failed", sysrq.error() + "; " + reboot.error()}};
  }

 private:
  const FenceConfig& cfg_;
  ActionDeps deps_;
};

class GracefulReboot final : public FenceAction {
 public:
  GracefulReboot(const FenceConfig& cfg, ActionDeps deps) : cfg_(cfg), deps_(deps), hard_(cfg, deps) {}

  std::vector<ActionStep> Execute(const Decision& d) override {
    const MonoTime started = deps_.clock.Now();
    const auto outcome =
        deps_.runner.Run({cfg_.systemctl_path.string(), "reboot"}, std::min(cfg_.systemctl_timeout, cfg_.graceful_escalation));
    // A clean shutdown stops us long before the escalation: still running means it
    // is stuck (typically on a stale NFS mount) and only a hard reboot will do.
    const Duration left = cfg_.graceful_escalation - (deps_.clock.Now() - started);
    if (left > Duration::zero()) deps_.clock.SleepFor(left);
    std::vector<ActionStep> steps{{FenceActionKind::kGracefulReboot, "escalated",
                                   "systemctl reboot: " + outcome.Describe() + "; still running after " +
                                       std::to_string(ToSeconds(cfg_.graceful_escalation)) + "s"}};
    for (auto& s : hard_.Execute(d)) steps.push_back(std::move(s));
    return steps;
  }

 private:
  const FenceConfig& cfg_;
  ActionDeps deps_;
  HardReboot hard_;
};

class RestartAgent final : public FenceAction {
 public:
  RestartAgent(const FenceConfig& cfg, ActionDeps deps) : cfg_(cfg), deps_(deps) {}

  std::vector<ActionStep> Execute(const Decision&) override {
    const auto outcome = deps_.runner.Run({cfg_.systemctl_path.string(), "restart", cfg_.agent_unit}, cfg_.systemctl_timeout);
    const std::string result = outcome.Succeeded()                                        ? "success"
                               : outcome.kind == ProcessOutcome::Kind::kTimedOut ? "timeout"
                                                                                          : "failed";
    return {{FenceActionKind::kRestartAgent, result, "systemctl restart " + cfg_.agent_unit + ": " + outcome.Describe()}};
  }

 private:
  const FenceConfig& cfg_;
  ActionDeps deps_;
};

class LogOnly final : public FenceAction {
 public:
  std::vector<ActionStep> Execute(const Decision&) override {
    return {{FenceActionKind::kLogOnly, "logged", "log-only: the host stays up"}};
  }
};

class CustomScript final : public FenceAction {
 public:
  CustomScript(const FenceConfig& cfg, ActionDeps deps) : cfg_(cfg), deps_(deps), hard_(cfg, deps) {}

  std::vector<ActionStep> Execute(const Decision& d) override {
    ActionStep step{FenceActionKind::kCustom, "", ""};
    if (auto problem = CustomScriptProblem(cfg_.custom_script); !problem.empty()) {
      step.result = "refused";
      step.detail = problem;
    } else {
      // The first failed target names the pool, as CloudStack's scripts pass it.
      std::vector<std::string> argv{cfg_.custom_script.string()};
      if (!d.failed_targets.empty()) argv.push_back(d.failed_targets.front());
      const auto outcome = deps_.runner.Run(argv, cfg_.custom_timeout);
      step.detail = cfg_.custom_script.string() + ": " + outcome.Describe();
      if (outcome.Succeeded()) {
        step.result = "success";
        return {step};
      }
      step.result = outcome.kind == ProcessOutcome::Kind::kTimedOut ? "timeout" : "failed";
    }
    // The host is still up and unfenced: split-brain risk. Fall back.
    std::vector<ActionStep> steps{step};
    for (auto& s : hard_.Execute(d)) steps.push_back(std::move(s));
    return steps;
  }

 private:
  const FenceConfig& cfg_;
  ActionDeps deps_;
  HardReboot hard_;
};

}  // namespace

std::string CustomScriptProblem(const std::filesystem::path& script) {
  struct stat st{};
  if (::stat(script.c_str(), &st) != 0) return "custom script " + script.string() + " is missing";
  if (!S_ISREG(st.st_mode)) return "custom script " + script.string() + " is not a regular file";
  if ((st.st_mode & S_IXUSR) == 0) return "custom script " + script.string() + " is not executable";
  if (st.st_uid != 0) return "custom script " + script.string() + " is not owned by root";
  if (st.st_mode & (S_IWGRP | S_IWOTH)) return "custom script " + script.string() + " is group- or world-writable";
  return "";
}

ActionPlan PlanAction(const FenceConfig& cfg, std::span<const JournalEntry> history, WallTime now) {
  // An entry dated after now never counts: the clock was stepped back after it was
  // written, and a clock step must never keep the host from being fenced.
  auto in_last_hour = [&](auto&& pred) {
    return std::count_if(history.begin(), history.end(), [&](const JournalEntry& e) {
      return e.time <= now && now - e.time < kJournalWindow && pred(e.action);
    });
  };
  ActionPlan plan{cfg.action, {}};
  if (plan.run == FenceActionKind::kRestartAgent && cfg.restart_agent_max_per_hour > 0 &&
      in_last_hour([](const std::string& a) { return a == Name(FenceActionKind::kRestartAgent); }) >=
          cfg.restart_agent_max_per_hour) {
    plan.limited.push_back({FenceActionKind::kRestartAgent, "rate_limited",
                            std::to_string(cfg.restart_agent_max_per_hour) + " agent restarts in the past hour; escalating to " +
                                std::string(Name(cfg.restart_agent_escalation))});
    plan.run = cfg.restart_agent_escalation;
  }
  const bool reboots_capped =
      cfg.max_fences_per_hour > 0 && in_last_hour([](const std::string& a) {
        const auto kind = ParseFenceAction(a);
        return kind && RebootsHost(*kind);
      }) >= cfg.max_fences_per_hour;
  const std::string capped = std::to_string(cfg.max_fences_per_hour) + " reboots in the past hour: ";
  if (RebootsHost(plan.run) && reboots_capped) {
    plan.limited.push_back({plan.run, "rate_limited", capped + "not rebooting again (log-only); the host needs a human"});
    plan.run = FenceActionKind::kLogOnly;
  }
  // destroy-vms is no reboot and has no cap (each pool's failure is real); the reboot
  // it escalates to has the reboots' cap.
  plan.escalation = cfg.destroy_escalation;
  if (plan.run == FenceActionKind::kDestroyVms && RebootsHost(plan.escalation) && reboots_capped) {
    plan.limited.push_back({plan.escalation, "rate_limited",
                            capped + "should destroy-vms have to escalate, it will only log; the host needs a human"});
    plan.escalation = FenceActionKind::kLogOnly;
  }
  return plan;
}

namespace {

using Steps = std::vector<std::pair<FenceActionKind, std::string_view>>;

void AddStep(Steps& out, FenceActionKind action, std::string_view result) {
  if (std::find(out.begin(), out.end(), std::pair{action, result}) == out.end()) out.emplace_back(action, result);
}

// What Execute() of `action` can report; mirrors the classes above.
void AddResults(Steps& out, FenceActionKind action) {
  switch (action) {
    case FenceActionKind::kHardReboot:
      for (auto r : {"success", "failed"}) AddStep(out, action, r);
      return;
    case FenceActionKind::kGracefulReboot:
      AddStep(out, action, "escalated");
      AddResults(out, FenceActionKind::kHardReboot);
      return;
    case FenceActionKind::kRestartAgent:
      for (auto r : {"success", "failed", "timeout"}) AddStep(out, action, r);
      return;
    case FenceActionKind::kLogOnly:
      AddStep(out, action, "logged");
      return;
    case FenceActionKind::kCustom:
      for (auto r : {"success", "failed", "timeout", "refused"}) AddStep(out, action, r);
      AddResults(out, FenceActionKind::kHardReboot);
      return;
    case FenceActionKind::kDestroyVms:  // its escalation: PossibleSteps
      for (auto r : {"success", "escalated"}) AddStep(out, action, r);
      return;
  }
}

// `run` as PlanAction's reboot cap leaves it: itself, or rate_limited and log-only.
void AddCapped(Steps& out, const FenceConfig& cfg, FenceActionKind run) {
  AddResults(out, run);
  if (RebootsHost(run) && cfg.max_fences_per_hour > 0) {
    AddStep(out, run, "rate_limited");
    AddResults(out, FenceActionKind::kLogOnly);
  }
}

}  // namespace

std::vector<std::pair<FenceActionKind, std::string_view>> PossibleSteps(const FenceConfig& cfg) {
  Steps out;
  AddCapped(out, cfg, cfg.action);
  if (cfg.action == FenceActionKind::kRestartAgent && cfg.restart_agent_max_per_hour > 0) {
    AddStep(out, FenceActionKind::kRestartAgent, "rate_limited");
    AddCapped(out, cfg, cfg.restart_agent_escalation);
  }
  if (cfg.action == FenceActionKind::kDestroyVms) AddCapped(out, cfg, cfg.destroy_escalation);
  return out;
}

std::unique_ptr<FenceAction> MakeFenceAction(const FenceConfig& cfg, ActionDeps deps) {
  switch (cfg.action) {
    case FenceActionKind::kHardReboot: return std::make_unique<HardReboot>(cfg, deps);
    case FenceActionKind::kGracefulReboot: return std::make_unique<GracefulReboot>(cfg, deps);
    case FenceActionKind::kRestartAgent: return std::make_unique<RestartAgent>(cfg, deps);
    case FenceActionKind::kLogOnly: return std::make_unique<LogOnly>();
    case FenceActionKind::kCustom: return std::make_unique<CustomScript>(cfg, deps);
    case FenceActionKind::kDestroyVms: return MakeDestroyVms(cfg, deps);
  }
  return std::make_unique<LogOnly>();
}

}  // namespace hbfence
