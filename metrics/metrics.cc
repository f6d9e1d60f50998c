// SPDX-License-Identifier: Apache-2.0

#include "metrics/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "metrics/process_collector.h"

namespace hbfence {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;
using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;
using prometheus::Histogram;

struct Metrics::Families {
  explicit Families(prometheus::Registry& r)
      : write_duration(BuildHistogram()
                           .Name("hbfence_heartbeat_write_duration_seconds")
                           .Help("Duration of completed heartbeat writes (open, write, fdatasync, close).")
                           .Register(r)),
        writes(BuildCounter()
                   .Name("hbfence_heartbeat_writes_total")
                   .Help("Heartbeat write attempts, including intervals skipped because a write was stuck.")
                   .Register(r)),
        timeouts(BuildCounter()
                     .Name("hbfence_heartbeat_write_timeouts_total")
                     .Help("Heartbeat write attempts that did not complete within the timeout.")
                     .Register(r)),
        errors(BuildCounter()
                   .Name("hbfence_heartbeat_write_errors_total")
                   .Help("Heartbeat writes that failed with an error, by reason.")
                   .Register(r)),
        last_success(BuildGauge()
                         .Name("hbfence_heartbeat_last_success_timestamp_seconds")
                         .Help("Unix time written by the last successful heartbeat write; 0 before the first.")
                         .Register(r)),
        consecutive(BuildGauge()
                        .Name("hbfence_heartbeat_consecutive_failures")
                        .Help("Failed heartbeat attempts since the last success.")
                        .Register(r)),
        stuck(BuildGauge()
                  .Name("hbfence_heartbeat_stuck_writes")
                  .Help("Heartbeat writes still outstanding past the timeout.")
                  .Register(r)),
        gap_max(BuildGauge()
                    .Name("hbfence_heartbeat_gap_max_seconds")
                    .Help("Longest time without a successful heartbeat write over the last 15 minutes, the "
                          "current gap included: the lease margin used.")
                    .Register(r)),
        history_dropped(BuildCounter()
                            .Name("hbfence_history_records_dropped_total")
                            .Help("Write history records not kept, by reason: queue_full (the history disk is slow "
                                  "or hung), write_error (full disk, I/O error).")
                            .Register(r)),
        up(BuildGauge()
               .Name("hbfence_target_up")
               .Help("1 while the target has had a successful write within the lease, else 0.")
               .Register(r)),
        decisions(BuildCounter()
                      .Name("hbfence_fence_decisions_total")
                      .Help("Fence decisions, by configured action.")
                      .Register(r)),
        actions(BuildCounter()
                    .Name("hbfence_fence_actions_total")
                    .Help("Fence action steps taken, by action and result.")
                    .Register(r)),
        journal_errors(BuildCounter()
                           .Name("hbfence_fence_journal_errors_total")
                           .Help("Fence journal appends that failed (the action ran anyway).")
                           .Register(r)),
        pending(BuildGauge()
                    .Name("hbfence_fence_pending")
                    .Help("1 while a fence decision stands and the host is still up.")
                    .Register(r)),
        armed(BuildGauge()
                  .Name("hbfence_fence_armed")
                  .Help("1 when a fence decision would act on the host, 0 in log-only mode.")
                  .Register(r)),
        last_fence(BuildGauge()
                       .Name("hbfence_last_fence_timestamp_seconds")
                       .Help("Unix time of the newest journal entry that acted on the host (log-only entries excluded); 0 if none.")
                       .Register(r)),
        config_info(BuildGauge()
                        .Name("hbfence_config_info")
                        .Help("The effective fence configuration.")
                        .Register(r)),
        build_info(BuildGauge().Name("hbfence_build_info").Help("hbfence version and git revision.").Register(r)),
        interval(BuildGauge()
                     .Name("hbfence_heartbeat_interval_seconds")
                     .Help("Configured heartbeat interval.")
                     .Register(r)),
        timeout(BuildGauge()
                    .Name("hbfence_heartbeat_timeout_seconds")
                    .Help("Configured heartbeat write timeout.")
                    .Register(r)),
        lease(BuildGauge()
                  .Name("hbfence_heartbeat_lease_seconds")
                  .Help("Configured lease: a target without success for this long fails.")
                  .Register(r)),
        reloads(BuildCounter()
                    .Name("hbfence_config_reloads_total")
                    .Help("Configuration reloads (SIGHUP), by result.")
                    .Register(r)),
        last_reload_ok(BuildGauge()
                           .Name("hbfence_config_last_reload_successful")
                           .Help("1 if the last reload succeeded (or none was attempted), else 0.")
                           .Register(r)),
        unknown_fence_action(BuildGauge()
                                 .Name("hbfence_config_unknown_fence_action")
                                 .Help("1 when agent.properties names a fence action hbfence does not know and "
                                       "hbfence.toml sets none: hard-reboot is used, as CloudStack's helper does.")
                                 .Register(r)),
        peer_age(BuildGauge()
                     .Name("hbfence_peer_heartbeat_age_seconds")
                     .Help("Seconds since another host's hb-* file on this target last advanced, on the local "
                           "monotonic clock (peer_watch).")
                     .Register(r)),
        vm_destroyed(BuildCounter()
                         .Name("hbfence_fence_vm_domains_destroyed_total")
                         .Help("Domains (VMs) destroy-vms destroyed, by the target whose pool failed.")
                         .Register(r)),
        vm_escalations(BuildCounter()
                           .Name("hbfence_fence_vm_escalations_total")
                           .Help("destroy-vms fences that could not be done safely and escalated to the host, by "
                                 "reason.")
                           .Register(r)),
        vm_step_duration(BuildHistogram()
                             .Name("hbfence_fence_vm_step_duration_seconds")
                             .Help("destroy-vms steps: select (find the pool's domains), unmount (force-unmount the "
                                   "pool), destroy (from the kill until every QEMU process is gone).")
                             .Register(r)) {}

  Family<Histogram>& write_duration;
  Family<Counter>& writes;
  Family<Counter>& timeouts;
  Family<Counter>& errors;
  Family<Gauge>& last_success;
  Family<Gauge>& consecutive;
  Family<Gauge>& stuck;
  Family<Gauge>& gap_max;
  Family<Counter>& history_dropped;
  Family<Gauge>& up;
  Family<Counter>& decisions;
  Family<Counter>& actions;
  Family<Counter>& journal_errors;
  Family<Gauge>& pending;
  Family<Gauge>& armed;
  Family<Gauge>& last_fence;
  Family<Gauge>& config_info;
  Family<Gauge>& build_info;
  Family<Gauge>& interval;
  Family<Gauge>& timeout;
  Family<Gauge>& lease;
  Family<Counter>& reloads;
  Family<Gauge>& last_reload_ok;
  Family<Gauge>& unknown_fence_action;
  Family<Gauge>& peer_age;
  Family<Counter>& vm_destroyed;
  Family<Counter>& vm_escalations;
  Family<Histogram>& vm_step_duration;
  Gauge* current_config_info = nullptr;
};

void TargetMetrics::ObserveWriteDuration(Duration d) { duration_->Observe(ToSeconds(d)); }
void TargetMetrics::CountAttempt() { writes_->Increment(); }
void TargetMetrics::CountTimeout() { timeouts_->Increment(); }
void TargetMetrics::CountError(std::string_view reason) {
  if (auto it = errors_.find(reason); it != errors_.end()) it->second->Increment();
}
void TargetMetrics::SetLastSuccess(WallTime t) { last_success_->Set(ToUnixSeconds(t)); }
// The scheduler restates these on every wake-up; storing only changes keeps it off
// the gauges' cache lines, which scrapes share.
void TargetMetrics::SetIfChanged(prometheus::Gauge* gauge, double& shown, double value) {
  if (shown == value) return;
  gauge->Set(value);
  shown = value;
}
void TargetMetrics::SetConsecutiveFailures(int n) { SetIfChanged(consecutive_, consecutive_shown_, n); }
void TargetMetrics::SetStuckWrites(int n) { SetIfChanged(stuck_, stuck_shown_, n); }
void TargetMetrics::SetUp(bool up) { SetIfChanged(up_, up_shown_, up ? 1 : 0); }

void TargetMetrics::SetGapMax(Duration gap) { gap_max_->Set(ToSeconds(gap)); }

void TargetMetrics::CountHistoryDropped(uint64_t queue_full, uint64_t write_error) {
  if (queue_full) history_queue_full_->Increment(static_cast<double>(queue_full));
  if (write_error) history_write_error_->Increment(static_cast<double>(write_error));
}

void TargetMetrics::SetPeerAges(const std::vector<PeerAgeSample>& ages) {
  std::map<std::string, prometheus::Gauge*, std::less<>> current;
  for (const auto& a : ages) {
    auto it = peer_ages_.find(a.peer);
    Gauge* g = it != peer_ages_.end() ? it->second
                                      : &peer_age_family_->Add({{"target", name_}, {"peer", a.peer}});
    g->Set(a.age_seconds);
    current[a.peer] = g;
  }
  for (auto& [peer, gauge] : peer_ages_) {
    if (!current.contains(peer)) peer_age_family_->Remove(gauge);
  }
  peer_ages_ = std::move(current);
}

Metrics::Metrics(const BuildInfo& build)
    : registry_(std::make_shared<prometheus::Registry>()),
      process_(std::make_shared<ProcessCollector>("/proc")),
      f_(std::make_unique<Families>(*registry_)) {
  f_->build_info.Add({{"version", build.version}, {"revision", build.revision}}).Set(1);
  f_->pending.Add({}).Set(0);
  f_->last_fence.Add({}).Set(0);
  f_->journal_errors.Add({});
  f_->last_reload_ok.Add({}).Set(1);
  f_->reloads.Add({{"result", "success"}});
  f_->reloads.Add({{"result", "failure"}});
}

Metrics::~Metrics() = default;

TargetMetrics& Metrics::AddTarget(const std::string& name, const std::vector<double>& buckets,
                                  const std::vector<std::string_view>& reasons) {
  RemoveTarget(name);
  const prometheus::Labels labels{{"target", name}};
  TargetMetrics& t = targets_[name];
  t.duration_ = &f_->write_duration.Add(labels, buckets);
  t.writes_ = &f_->writes.Add(labels);
  t.timeouts_ = &f_->timeouts.Add(labels);
  for (auto reason : reasons) {
    t.errors_[std::string(reason)] = &f_->errors.Add({{"target", name}, {"reason", std::string(reason)}});
  }
  t.last_success_ = &f_->last_success.Add(labels);
  t.consecutive_ = &f_->consecutive.Add(labels);
  t.stuck_ = &f_->stuck.Add(labels);
  t.up_ = &f_->up.Add(labels);
  t.up_->Set(t.up_shown_);
  t.gap_max_ = &f_->gap_max.Add(labels);
  t.history_queue_full_ = &f_->history_dropped.Add({{"target", name}, {"reason", "queue_full"}});
  t.history_write_error_ = &f_->history_dropped.Add({{"target", name}, {"reason", "write_error"}});
  t.vm_destroyed_ = &f_->vm_destroyed.Add(labels);
  t.name_ = name;
  t.peer_age_family_ = &f_->peer_age;
  return t;
}

void Metrics::RemoveTarget(const std::string& name) {
  auto it = targets_.find(name);
  if (it == targets_.end()) return;
  TargetMetrics& t = it->second;
  f_->write_duration.Remove(t.duration_);
  f_->writes.Remove(t.writes_);
  f_->timeouts.Remove(t.timeouts_);
  for (auto& [reason, counter] : t.errors_) f_->errors.Remove(counter);
  f_->last_success.Remove(t.last_success_);
  f_->consecutive.Remove(t.consecutive_);
  f_->stuck.Remove(t.stuck_);
  f_->up.Remove(t.up_);
  f_->gap_max.Remove(t.gap_max_);
  f_->history_dropped.Remove(t.history_queue_full_);
  f_->history_dropped.Remove(t.history_write_error_);
  for (auto& [peer, gauge] : t.peer_ages_) f_->peer_age.Remove(gauge);
  f_->vm_destroyed.Remove(t.vm_destroyed_);
  targets_.erase(it);
}

void Metrics::SetConfig(std::string_view fence_action, std::string_view policy, bool armed,
                        const HeartbeatSettings& hb, bool unknown_fence_action) {
  f_->unknown_fence_action.Add({}).Set(unknown_fence_action ? 1 : 0);
  if (f_->current_config_info) f_->config_info.Remove(f_->current_config_info);
  f_->current_config_info =
      &f_->config_info.Add({{"fence_action", std::string(fence_action)}, {"policy", std::string(policy)}});
  f_->current_config_info->Set(1);
  f_->armed.Add({}).Set(armed ? 1 : 0);
  f_->decisions.Add({{"action", std::string(fence_action)}});
  f_->interval.Add({}).Set(ToSeconds(hb.interval));
  f_->timeout.Add({}).Set(ToSeconds(hb.timeout));
  f_->lease.Add({}).Set(ToSeconds(hb.lease));
}

void Metrics::CountDecision(std::string_view action) { f_->decisions.Add({{"action", std::string(action)}}).Increment(); }

void Metrics::StartActionSteps(const std::vector<std::pair<std::string_view, std::string_view>>& steps) {
  for (const auto& [action, result] : steps) {
    f_->actions.Add({{"action", std::string(action)}, {"result", std::string(result)}});
  }
}

void Metrics::CountAction(std::string_view action, std::string_view result) {
  f_->actions.Add({{"action", std::string(action)}, {"result", std::string(result)}}).Increment();
}

void Metrics::CountJournalError() { f_->journal_errors.Add({}).Increment(); }
void Metrics::SetFencePending(bool pending) { f_->pending.Add({}).Set(pending ? 1 : 0); }
void Metrics::SetLastFence(WallTime t) { f_->last_fence.Add({}).Set(ToUnixSeconds(t)); }

void Metrics::CountReload(bool ok) {
  f_->reloads.Add({{"result", ok ? "success" : "failure"}}).Increment();
  f_->last_reload_ok.Add({}).Set(ok ? 1 : 0);
}

void Metrics::InitVmFence(const std::vector<std::string_view>& escalation_reasons,
                          const std::vector<std::string_view>& steps) {
  for (auto reason : escalation_reasons) f_->vm_escalations.Add({{"reason", std::string(reason)}});
  for (auto step : steps) f_->vm_step_duration.Add({{"step", std::string(step)}}, VmStepBuckets());
}

void Metrics::CountVmsDestroyed(const std::string& target, int n) {
  if (auto it = targets_.find(target); it != targets_.end()) it->second.vm_destroyed_->Increment(n);
}

void Metrics::CountVmFenceEscalation(std::string_view reason) {
  f_->vm_escalations.Add({{"reason", std::string(reason)}}).Increment();
}

void Metrics::ObserveVmFenceStep(std::string_view step, Duration d) {
  f_->vm_step_duration.Add({{"step", std::string(step)}}, VmStepBuckets()).Observe(ToSeconds(d));
}

std::vector<double> Metrics::VmStepBuckets() {
  // From a kill that takes effect at once to the 30 s destroy timeout and beyond.
  return {0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60};
}

std::vector<std::weak_ptr<prometheus::Collectable>> Metrics::Collectables() const { return {registry_, process_}; }

}  // namespace hbfence
