// SPDX-License-Identifier: Apache-2.0

#include "src/daemon.h"

#include <algorithm>
#include <map>
#include <sstream>

#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>

#include "src/sys/fs_util.h"
#include "storage/mountinfo.h"

namespace hbfence {
namespace {

std::vector<std::string_view> ErrorReasons() {
  std::vector<std::string_view> out;
  for (auto e : kWriteErrorReasons) out.push_back(ReasonName(e));
  return out;
}

// A write this long makes the writes waiting behind it on its pool thread get
// threads of their own. Healthy storage writes a heartbeat in microseconds; a slow
// or hung write then delays the rest of its run by this much, a small fraction of
// any write timeout.
constexpr Duration kSlowWrite = std::chrono::milliseconds(2);

// At start the journal is read from its end, this much at most (and as much of the
// rotated one): the hourly limits need only the past hour.
constexpr uint64_t kJournalTailBytes = 1 << 20;
// The lease record lives on tmpfs: reading it takes microseconds. A runtime
// directory that does not answer within this is broken, and the start goes on.
constexpr Duration kLeaseRecordWait = std::chrono::seconds(1);
// Decisions kept in memory for the hourly limits, newest kept: far more than any
// limit counts.
constexpr size_t kMaxFenceHistory = 4096;

bool LastWriteOk(const HeartbeatState& s) {
  return s.last_success_wall && s.consecutive_failures == 0 && !s.outstanding_timed_out;
}

std::string HtmlEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

// Where a target's heartbeat goes, for log lines: "to FILE", "to DEVICE at offset N",
// "by PROGRAM".
std::string WhereItWrites(const TargetConfig& t) {
  if (t.kind == "exec") return "by " + (t.command.empty() ? std::string("its command") : t.command.front());
  if (t.kind == "block") return "to " + t.path.string() + " at offset " + std::to_string(t.offset);
  return "to " + t.path.string();
}

}  // namespace

// mountinfo never blocks on storage.
Result<MountOf, std::string> ReadMountTable() {
  auto text = ReadRegularFile("/proc/self/mountinfo", 16 << 20);
  if (!text) return Err{text.error()};
  return MountOf([mounts = ParseMountInfo(text.value())](const std::filesystem::path& p) {
    const MountEntry* m = MountContaining(mounts, p);
    return m ? m->mount_point : std::filesystem::path();
  });
}

Daemon::Daemon(std::shared_ptr<const Config> cfg, Metrics& metrics, DaemonDeps deps)
    : telemetry_path_(cfg->web.telemetry_path),
      metrics_(metrics),
      deps_(deps),
      pool_(deps.clock, queue_, kSlowWrite),
      engine_(EngineState::Start(deps.clock.Now())),
      leases_(cfg->fence.runtime_directory),
      history_(cfg->history.enabled ? cfg->history.path : std::filesystem::path(), cfg->history.max_bytes),
      executor_(ActionDeps{.io = deps.io,
                           .runner = deps.runner,
                           .clock = deps.clock,
                           .connect = deps.connect_hypervisor,
                           .mounts = ReadMountTable,
                           .report = [this](const VmFenceReport& r) { QueueVmFenceReport(r); }},
                journal_,
                ExecutorCallbacks{
                    [this](const Status& journaled, const JournalEntry& e) {
                      if (!journaled) {
                        metrics_.CountJournalError();
                      } else if (e.action != Name(FenceActionKind::kLogOnly)) {
                        metrics_.SetLastFence(e.time);
                      }
                    },
                    [this](const ActionStep& step) {
                      metrics_.CountAction(Name(step.action), step.result);
                      if (step.action == FenceActionKind::kHardReboot) StopPettingWatchdog();
                    }}) {
  const MonoTime now = deps_.clock.Now();
  metrics_.InitVmFence(std::vector<std::string_view>(std::begin(kVmFenceEscalations), std::end(kVmFenceEscalations)),
                       {"select", "destroy", "unmount"});
  ApplyConfig(std::move(cfg), now);
  RestoreLeases(now);
  PublishStatus(now);  // `/` is served before the main loop's first pass
  // The journal's tail comes in on the journal thread: a journal on a hung disk must
  // not keep the heartbeats, /metrics or the signals from starting.
  journal_tail_deadline_ = now + cfg_->fence.journal_timeout;
  const bool queued = journal_.ReadTailAsync(cfg_->fence.journal_path, deps_.clock.WallNow(), kJournalTailBytes,
                                             [this](JournalTail tail) {
                                               {
                                                 std::lock_guard lock(mu_);
                                                 journal_tail_ = std::move(tail);
                                               }
                                               journal_tail_ready_ = true;
                                               queue_->Wake();
                                             });
  if (!queued) {
    journal_tail_ = JournalTail{};
    journal_tail_->problem = "the journal thread did not take the read";
    journal_tail_ready_ = true;
  }
  last_loop_ns_ = now.time_since_epoch().count();
}

// A crash restart continues each target's lease where the dead instance left it,
// and its startup grace: otherwise a daemon restarted faster than its lease would
// never fence. A record from another boot, or none, is a fresh start.
void Daemon::RestoreLeases(MonoTime now) {
  auto boot = ReadBootId();
  if (!boot) {
    spdlog::error("cannot read this boot's id ({}): a crash restart would start a fresh lease", boot.error());
    return;
  }
  boot_id_ = boot.value();
  auto loaded = leases_.Load(boot_id_, kLeaseRecordWait);
  if (!loaded) {
    spdlog::error("lease record: {}; starting with a fresh lease", loaded.error());
  } else if (const auto& record = loaded.value()) {
    engine_.started = std::min(record->started, now);
    int continued = 0;
    for (auto& t : targets_) {
      auto it = std::find_if(record->targets.begin(), record->targets.end(),
                             [&](const LeaseRecord::Target& r) { return r.identity == t.identity; });
      if (it == record->targets.end()) continue;
      t.state.last_success = std::min(it->last_success, now);
      t.state.last_success_wall = it->last_success_wall;
      if (it->last_success_wall) t.metrics->SetLastSuccess(*it->last_success_wall);
      ++continued;
      spdlog::warn("target {}: continuing the lease of the previous instance: last success {:.3f} s ago{}", t.cfg.name,
                   ToSeconds(now - t.state.last_success),
                   Down(t, now) ? ", the lease has EXPIRED" : "");
    }
    spdlog::warn("restarted within this boot: {} of {} target(s) continue their lease, first started {:.3f} s ago",
                 continued, targets_.size(), ToSeconds(now - engine_.started));
  }
  leases_.Update(CurrentLeaseRecord());
}

LeaseRecord Daemon::CurrentLeaseRecord() const {
  LeaseRecord record{boot_id_, engine_.started, {}};
  record.targets.reserve(targets_.size());
  for (const auto& t : targets_) record.targets.push_back({t.identity, t.state.last_success, t.state.last_success_wall});
  return record;
}

// The journal's tail, read at start, joins the decisions made since.
void Daemon::TakeJournalTail(MonoTime now) {
  if (journal_tail_taken_) return;
  if (!journal_tail_ready_) {
    if (!journal_tail_overdue_reported_ && now >= journal_tail_deadline_) {
      journal_tail_overdue_reported_ = true;
      metrics_.CountJournalError();
      spdlog::error("fence journal {} could not be read within {:g} s; until it is, the hourly limits count only "
                    "this process's decisions",
                    cfg_->fence.journal_path.string(), ToSeconds(cfg_->fence.journal_timeout));
    }
    return;
  }
  journal_tail_taken_ = true;
  JournalTail tail;
  {
    std::lock_guard lock(mu_);
    tail = std::move(*journal_tail_);
    journal_tail_.reset();
  }
  if (!tail.problem.empty()) {
    metrics_.CountJournalError();
    spdlog::error("fence journal: {}; the hourly limits count only what could be read", tail.problem);
  } else if (journal_tail_overdue_reported_) {
    spdlog::info("fence journal {} read after all", cfg_->fence.journal_path.string());
  }
  if (tail.future_entries > 0) {
    spdlog::warn("fence journal {}: {} entries are dated after now (was the clock stepped back?); they do not count "
                 "toward the hourly limits",
                 cfg_->fence.journal_path.string(), tail.future_entries);
  }
  if (tail.last_fence) {
    // A decision of this process is newer than anything read.
    if (std::none_of(fence_history_.begin(), fence_history_.end(), [](const JournalEntry& e) {
          return e.action != Name(FenceActionKind::kLogOnly);
        })) {
      metrics_.SetLastFence(tail.last_fence->time);
    }
    spdlog::warn("last fence on record in {}: {}", cfg_->fence.journal_path.string(), ToJsonLine(*tail.last_fence));
  }
  fence_history_.insert(fence_history_.begin(), std::make_move_iterator(tail.recent.begin()),
                        std::make_move_iterator(tail.recent.end()));
}

Daemon::~Daemon() = default;

// On the executor thread: queued for the scheduler thread, which owns the targets'
// series (a reload may remove one meanwhile).
void Daemon::QueueVmFenceReport(const VmFenceReport& r) {
  {
    std::lock_guard lock(mu_);
    vm_reports_.push_back(r);
  }
  queue_->Wake();
}

void Daemon::ReportVmFences() {
  std::vector<VmFenceReport> reports;
  {
    std::lock_guard lock(mu_);
    if (vm_reports_.empty()) return;
    reports.swap(vm_reports_);
  }
  for (const auto& r : reports) ReportVmFence(r);
}

void Daemon::ReportVmFence(const VmFenceReport& r) {
  if (r.destroyed > 0) metrics_.CountVmsDestroyed(r.target, r.destroyed);
  if (!r.escalation.empty()) metrics_.CountVmFenceEscalation(r.escalation);
  for (const auto& [step, took] : {std::pair{"select", r.select}, std::pair{"destroy", r.destroy},
                                   std::pair{"unmount", r.unmount}}) {
    if (took > Duration::zero()) metrics_.ObserveVmFenceStep(step, took);
  }
  spdlog::log(r.escalation.empty() ? spdlog::level::warn : spdlog::level::critical,
              "event=vm_fence target={} destroyed={} escalation={} select_s={:.3f} destroy_s={:.3f} unmount_s={:.3f}",
              r.target, r.destroyed, r.escalation.empty() ? "none" : r.escalation, ToSeconds(r.select),
              ToSeconds(r.destroy), ToSeconds(r.unmount));
}

void Daemon::StopPettingWatchdog() {
  if (!reboot_standing_.exchange(true)) {
    spdlog::critical("a reboot is under way: no longer petting the hardware watchdog");
  }
}

void Daemon::RequestStop() {
  stop_ = true;
  queue_->Wake();
  std::lock_guard lock(mu_);
  fence_answered_.notify_all();
}

void Daemon::RequestReload(std::shared_ptr<const Config> cfg) {
  {
    std::lock_guard lock(mu_);
    pending_reload_ = std::move(cfg);
  }
  queue_->Wake();
}

bool Daemon::Healthy() const {
  const auto now = deps_.clock.Now().time_since_epoch().count();
  return now - last_loop_ns_.load() <= health_budget_ns_.load();
}

std::string Daemon::StatusHtml() const {
  std::lock_guard lock(mu_);
  return status_html_;
}

DecisionConfig Daemon::DecisionCfg() const {
  return {cfg_->heartbeat.lease, cfg_->heartbeat.startup_grace, cfg_->fence.policy, ScopeOf(cfg_->fence.action)};
}

void Daemon::AddTarget(const TargetConfig& cfg, MonoTime now) {
  const uint64_t id = next_target_id_++;
  targets_.push_back(Target{id, cfg, HeartbeatIdentity(cfg), nullptr, HeartbeatState::Start(now), now,
                            &metrics_.AddTarget(cfg.name, timings_.histogram_buckets_seconds, ErrorReasons())});
  StartWorkers(targets_.back());
}

void Daemon::StartWorkers(Target& t) {
  t.heartbeat = MakeHeartbeatTarget(t.cfg, TargetEnv{cfg_->host.id, cfg_->heartbeat.timeout, &deps_.runner});
  t.peer_watcher.reset();
  if (t.cfg.peer_watch) {
    t.peer_watcher = std::make_unique<PeerWatcher>(t.id, t.cfg.path.parent_path(), t.cfg.path.filename().string(), queue_);
  }
}

void Daemon::StopWorkers(Target& t) {
  if (t.peer_watcher && !t.peer_watcher->StopWithin(Duration::zero())) ++abandoned_peer_watchers_;
  t.peer_watcher.reset();
}

void Daemon::ApplyConfig(std::shared_ptr<const Config> cfg, MonoTime now) {
  const bool timeout_changed = !cfg_ || cfg_->heartbeat.timeout != cfg->heartbeat.timeout;
  if (cfg_ && cfg_->web.listen_address != cfg->web.listen_address) {
    spdlog::warn("web.listen_address changed to {}; it takes effect at the next restart", cfg->web.listen_address);
  }
  if (cfg_ && cfg_->web.telemetry_path != cfg->web.telemetry_path) {
    spdlog::warn("web.telemetry_path changed to {}; it takes effect at the next restart", cfg->web.telemetry_path);
  }
  if (cfg_ && cfg_->web.basic_auth_users != cfg->web.basic_auth_users) {
    spdlog::warn("web.basic_auth_users changed; the new users and hashes take effect at the next restart");
  }
  if (!cfg_ && !cfg->watchdog.device.empty()) {
    // Pet three times per watchdog timeout: one late wake-up must not reset the host.
    watchdog_period_ = cfg->watchdog.timeout / 3;
  } else if (cfg_ && (cfg_->watchdog.device != cfg->watchdog.device || cfg_->watchdog.timeout != cfg->watchdog.timeout)) {
    spdlog::warn("[watchdog] changes take effect at the next restart");
  }
  if (cfg_ && cfg_->control.socket_path != cfg->control.socket_path) {
    spdlog::warn("control.socket_path changed to {}; it takes effect at the next restart", cfg->control.socket_path.string());
  }
  const std::string previous_host_id = cfg_ ? cfg_->host.id : cfg->host.id;
  const bool timings_changed =
      cfg_ && (cfg_->heartbeat.interval != cfg->heartbeat.interval ||
               cfg_->heartbeat.timeout != cfg->heartbeat.timeout || cfg_->heartbeat.lease != cfg->heartbeat.lease);
  const Duration lease_before = cfg_ ? cfg_->heartbeat.lease : Duration::zero();
  const bool interval_changed = cfg_ && cfg_->heartbeat.interval != cfg->heartbeat.interval;
  cfg_ = std::move(cfg);
  timings_ = Derive(cfg_->heartbeat);
  history_.Configure(cfg_->history.enabled ? cfg_->history.path : std::filesystem::path(), cfg_->history.max_bytes);
  // A replay holds one interval per run: a new interval starts a new one.
  if (interval_changed) history_.StartRun(deps_.clock.WallNow(), now, timings_.interval, HistoryBootTag(boot_id_));
  target_snapshot_stale_ = true;
  target_snapshot_names_stale_ = true;
  // Health: the loop wakes at least once per interval; allow two plus slack.
  health_budget_ns_ = (2 * timings_.interval + std::chrono::seconds(2)).count();

  // Exec probes are killed after the write timeout and block sectors carry the host
  // id: those heartbeats are rebuilt when what they were built with changes.
  const bool host_changed = previous_host_id != cfg_->host.id;
  auto built_with_old_settings = [&](const TargetConfig& c) {
    return (c.kind == "exec" && timeout_changed) || (c.kind == "block" && host_changed);
  };
  // The same heartbeat (what is written where) keeps its state whatever it is
  // called, so a reload in the middle of an outage never hands a failing target a
  // fresh lease; a change of its flags or name only rebuilds what acts on them.
  std::map<std::string, std::vector<size_t>> wanted;  // identity -> indexes into cfg_->targets
  for (size_t i = 0; i < cfg_->targets.size(); ++i) wanted[HeartbeatIdentity(cfg_->targets[i])].push_back(i);
  std::vector<bool> claimed(cfg_->targets.size(), false);
  std::vector<std::optional<size_t>> match(targets_.size());
  for (size_t k = 0; k < targets_.size(); ++k) {
    auto it = wanted.find(targets_[k].identity);
    if (it == wanted.end()) continue;
    // Prefer the entry that kept its name, should one heartbeat be configured twice.
    std::optional<size_t> pick;
    for (size_t i : it->second) {
      if (claimed[i]) continue;
      if (!pick || cfg_->targets[i].name == targets_[k].cfg.name) pick = i;
    }
    if (pick) {
      claimed[*pick] = true;
      match[k] = pick;
    }
  }
  // Series of removed and renamed targets go first: two targets may swap names.
  for (size_t k = 0; k < targets_.size(); ++k) {
    Target& t = targets_[k];
    if (!match[k]) {
      spdlog::info("target {} stopped (removed from the configuration)", t.cfg.name);
      StopWorkers(t);
      if (t.state.outstanding_since) {
        t.metrics = nullptr;
        parked_.push_back(std::move(t));
      }
    }
    if (!match[k] || cfg_->targets[*match[k]].name != t.cfg.name) metrics_.RemoveTarget(t.cfg.name);
  }
  std::vector<Target> kept;
  for (size_t k = 0; k < targets_.size(); ++k) {
    if (!match[k]) continue;
    Target& t = targets_[k];
    const TargetConfig& c = cfg_->targets[*match[k]];
    const bool renamed = c.name != t.cfg.name;
    if (renamed) spdlog::warn("target {} is now called {}: it keeps its heartbeat state and lease", t.cfg.name, c.name);
    if (renamed || timeout_changed) {  // a new label, or new histogram buckets
      t.metrics = &metrics_.AddTarget(c.name, timings_.histogram_buckets_seconds, ErrorReasons());
      // The re-created series must not read as a heartbeat last written in 1970.
      if (t.state.last_success_wall) t.metrics->SetLastSuccess(*t.state.last_success_wall);
    }
    // New timings are only proven for writes started under them. Until a target's
    // first such write succeeds, its last success may be as old as the old timings
    // allowed, so it keeps the old lease and the new one together (the longest gap
    // across the change), and writes at once rather than at the old grid's next tick.
    // So a shorter lease cannot fence a healthy target. A target already down under
    // the old lease gets no floor: the new lease alone judges it.
    if (timings_changed) {
      const Duration old_lease = std::max(lease_before, t.lease_floor);
      if (!TargetFailed(old_lease, t.state.last_success, now)) {
        t.lease_floor = old_lease + timings_.lease;
        t.lease_floor_since = now;
      } else {
        t.lease_floor = Duration::zero();
      }
      t.next_tick = std::min(t.next_tick, now);
    }
    if (c != t.cfg || built_with_old_settings(c)) {
      StopWorkers(t);
      t.cfg = c;
      t.peers.reset();
      t.peer_ages = PeerAgeTracker{};
      t.metrics->SetPeerAges({});
      StartWorkers(t);
    }
    kept.push_back(std::move(t));
  }
  targets_ = std::move(kept);
  bool adopted = false;
  for (size_t i = 0; i < cfg_->targets.size(); ++i) {
    if (claimed[i]) continue;
    const TargetConfig& c = cfg_->targets[i];
    auto parked = std::find_if(parked_.begin(), parked_.end(),
                               [&](const Target& p) { return p.identity == HeartbeatIdentity(c); });
    if (parked == parked_.end()) {
      AddTarget(c, now);
      continue;
    }
    spdlog::warn("target {} is back while its last write is still stuck in the kernel: it waits for that write "
                 "instead of starting another",
                 c.name);
    Target t = std::move(*parked);
    parked_.erase(parked);
    t.cfg = c;
    t.metrics = &metrics_.AddTarget(c.name, timings_.histogram_buckets_seconds, ErrorReasons());
    if (t.state.last_success_wall) t.metrics->SetLastSuccess(*t.state.last_success_wall);
    t.next_tick = now;
    StartWorkers(t);
    targets_.push_back(std::move(t));
    adopted = true;
  }
  // FindTarget() looks ids up by bisection.
  if (adopted) std::sort(targets_.begin(), targets_.end(), [](const Target& a, const Target& b) { return a.id < b.id; });
  leases_.Update(CurrentLeaseRecord());
  const auto& f = cfg_->fence;
  metrics_.SetConfig(Name(f.action), Name(f.policy), f.action != FenceActionKind::kLogOnly,
                     {timings_.interval, timings_.timeout, timings_.lease}, cfg_->unknown_fence_action);
  std::vector<std::pair<std::string_view, std::string_view>> steps;
  for (const auto& [action, result] : PossibleSteps(f)) steps.emplace_back(Name(action), result);
  metrics_.StartActionSteps(steps);
  for (const auto& warning : cfg_->warnings) spdlog::warn("configuration: {}", warning);
  if (f.action == FenceActionKind::kLogOnly) {
    spdlog::warn("fencing is DISARMED: fence.action is log-only; a lost heartbeat will only be logged");
  }
  // The host is up only because the decision standing in this episode was log-only:
  // a reload that arms fencing runs the armed action for it now, as it would have run
  // had it been configured at the decision.
  if (engine_.decided && standing_action_ == FenceActionKind::kLogOnly && f.action != FenceActionKind::kLogOnly) {
    Decision d;
    for (const auto& t : targets_) {
      if (Down(t, now)) d.failed_targets.push_back(t.cfg.name);
    }
    if (!d.failed_targets.empty()) {
      d.reason = "fence.action changed from log-only to " + std::string(Name(f.action)) +
                 " by a reload while this failure episode's decision stood";
      Fence(std::move(d), deps_.clock.WallNow());
    }
  }
}

std::vector<TargetObservation> Daemon::Observations() const {
  std::vector<TargetObservation> obs;
  obs.reserve(targets_.size());
  for (const auto& t : targets_) obs.push_back({t.cfg.name, t.state.last_success, t.state.last_error, t.lease_floor});
  return obs;
}

// Ids are handed out in increasing order and a reload keeps the survivors' order,
// appending new targets: targets_ is sorted by id.
Daemon::Target* Daemon::FindTarget(uint64_t id) {
  auto it = std::lower_bound(targets_.begin(), targets_.end(), id, [](const Target& t, uint64_t v) { return t.id < v; });
  return it != targets_.end() && it->id == id ? &*it : nullptr;
}

void Daemon::HandleCompletion(const WriteCompletion& c) {
  Target* found = FindTarget(c.target_id);
  if (!found) {  // its target was removed by a reload: a parked one is free to go
    std::erase_if(parked_, [&](const Target& p) { return p.id == c.target_id; });
    return;
  }
  Target& t = *found;
  const int failures_before = t.state.consecutive_failures;
  const bool was_ok = LastWriteOk(t.state);
  // Storage latency only; waiting for a pool thread is not the storage's doing.
  t.metrics->ObserveWriteDuration(c.finished - c.began);
  const MonoTime renewed_from = t.state.last_success;
  const auto effect = OnCompletion(t.state, c.result, c.started, c.finished, c.content_time, timings_.timeout);
  history_.Record(t.cfg.name, {HistoryKind::kWrite, c.content_time, c.started, c.finished - c.started, c.result.error});
  if (effect.success) t.gaps.OnRenewal(c.finished, c.finished - renewed_from);
  if (effect.newly_timed_out) t.metrics->CountTimeout();
  // The control socket judges leases from the snapshot: it must see every success,
  // or it could call a target failing up to one publishing cadence before the engine does.
  if (effect.success || LastWriteOk(t.state) != was_ok) target_snapshot_stale_ = true;
  if (effect.success) {
    if (t.lease_floor > Duration::zero() && c.started >= t.lease_floor_since) t.lease_floor = Duration::zero();
    t.metrics->SetLastSuccess(c.content_time);
    leases_.SetSuccess(static_cast<size_t>(&t - targets_.data()), t.state.last_success, c.content_time);
    if (t.peer_watcher) t.peer_watcher->RequestScan();
    if (!t.first_success_logged) {
      // Until the first decision this is the only sign, in the log, that a target works.
      spdlog::info("target {}: first heartbeat written {} in {:.1f} ms{}", t.cfg.name, WhereItWrites(t.cfg),
                   ToSeconds(c.finished - c.began) * 1000,
                   failures_before > 0 ? fmt::format(", after {} failed attempts", failures_before) : "");
      t.first_success_logged = true;
    } else if (failures_before > 0) {
      spdlog::info("target {}: heartbeat writes recovered after {} failed attempts", t.cfg.name, failures_before);
    }
  } else if (effect.error != WriteError::kNone) {
    t.metrics->CountError(ReasonName(effect.error));
    spdlog::log(failures_before == 0 ? spdlog::level::warn : spdlog::level::debug, "target {}: heartbeat write failed ({}): {}",
                t.cfg.name, ReasonName(effect.error), c.result.detail);
  } else {
    spdlog::warn("target {}: a timed-out write completed after {:.3f}s ({})", t.cfg.name, ToSeconds(c.finished - c.started),
                 c.result.ok() ? "ok" : c.result.detail);
  }
}

void Daemon::HandlePeerScan(PeerScanCompletion c) {
  Target* found = FindTarget(c.target_id);
  if (!found) return;
  Target& t = *found;
  // Logged when it changes, not on every scan.
  const auto& before = t.peers;
  if (!c.scan.error.empty() && (!before || before->error != c.scan.error)) {
    spdlog::warn("target {}: cannot list the other hosts' heartbeats: {}", t.cfg.name, c.scan.error);
  }
  if (c.scan.left_out > 0 && (!before || before->left_out != c.scan.left_out)) {
    spdlog::warn("target {}: watching the first {} peers by name; {} more hb-* files are not read", t.cfg.name,
                 kMaxWatchedPeers, c.scan.left_out);
  }
  t.peers = std::move(c.scan);
}

void Daemon::PublishPeerAges(Target& t, MonoTime now) {
  if (!t.peers) return;
  std::vector<PeerAgeSample> samples;
  for (const auto& peer : t.peer_ages.Update(t.peers->readings, now, deps_.clock.WallNow())) {
    // The label is the peer's name as CloudStack writes it: hb-<host> without the prefix.
    std::string_view host = peer.name;
    if (host.starts_with("hb-")) host.remove_prefix(3);
    samples.push_back({std::string(host), ToSeconds(peer.age)});
  }
  t.metrics->SetPeerAges(samples);
}

void Daemon::Tick(Target& t, MonoTime now, WallTime wall_now, std::vector<WriteRequest>& run) {
  switch (OnTick(t.state, now)) {
    case TickAction::kStartWrite:
      t.metrics->CountAttempt();
      run.push_back({t.id, t.heartbeat, wall_now, now});
      break;
    case TickAction::kCoalesce:
      break;
    case TickAction::kFailStuck:
      target_snapshot_stale_ = true;
      if (t.state.outstanding_since) {
        const Duration running = now - *t.state.outstanding_since;
        history_.Record(t.cfg.name, {HistoryKind::kStuck, std::chrono::time_point_cast<WallTime::duration>(wall_now - running),
                                     *t.state.outstanding_since, running, WriteError::kNone});
      }
      t.metrics->CountAttempt();
      t.metrics->CountTimeout();
      spdlog::debug("target {}: write still stuck; attempt counted as a timeout", t.cfg.name);
      break;
  }
  while (t.next_tick <= now) t.next_tick += timings_.interval;
}

void Daemon::Evaluate(MonoTime now, std::span<const TargetObservation> obs) {
  const DecisionConfig cfg = DecisionCfg();
  auto step = Decide(cfg, engine_, obs, now);
  engine_ = step.next;
  // An accepted control fence needs only one failed target, so the policy may never
  // call the host failing: the fence stands as this episode's decision until every
  // target is back within its lease, and the engine must not fence a second time.
  // (In target scope the engine tracks the targets the control fence decided for.)
  if (control_fence_standing_ && cfg.scope == Scope::kHost) {
    if (AnyTargetFailed(now)) {
      engine_.decided = true;
    } else {
      step.episode_ended = true;
    }
  }
  if (step.episode_ended) {
    spdlog::info("host recovered: the failure episode has ended");
    metrics_.SetFencePending(false);
    control_fence_standing_ = false;
    standing_action_.reset();
  }
  // Target scope may owe a decision for each of several targets failing at once.
  while (step.decision) {
    Fence(std::move(*step.decision), deps_.clock.WallNow());
    step = Decide(cfg, engine_, obs, now);
    engine_ = step.next;
  }
}

// The one path from a decision to an action, for the engine's decisions and for
// requests over the control socket alike. The hourly limits are applied here, from
// memory: nothing on the way to the action reads the journal.
void Daemon::Fence(Decision decision, WallTime wall_now) {
  const auto& f = cfg_->fence;
  decision.places = PlacesOf(cfg_->targets, decision.failed_targets);
  metrics_.CountDecision(Name(f.action));
  metrics_.SetFencePending(true);
  standing_action_ = f.action;
  std::erase_if(fence_history_, [&](const JournalEntry& e) { return e.time <= wall_now && wall_now - e.time >= kJournalWindow; });
  ActionPlan plan = PlanAction(f, fence_history_, wall_now);
  // The journal records the action that will really run, so the hourly limits count
  // real restarts and reboots, and a limited decision reads as what it was.
  JournalEntry entry{wall_now, cfg_->host.id, std::string(Name(plan.run)), std::string(Name(f.policy)),
                     decision.failed_targets, decision.reason};
  for (const auto& step : plan.limited) entry.reason += "; " + step.detail;
  fence_history_.push_back(entry);
  if (fence_history_.size() > kMaxFenceHistory) fence_history_.erase(fence_history_.begin());
  // The hardware watchdog backs up the reboot from this moment, whatever the journal
  // or the executor (perhaps still busy with an earlier action) are doing.
  if (plan.run == FenceActionKind::kHardReboot) StopPettingWatchdog();
  // The executor keeps this config alive for the whole action, across reloads.
  executor_.Submit(std::shared_ptr<const FenceConfig>(cfg_, &cfg_->fence), std::move(plan), std::move(entry),
                   std::move(decision));
}

bool Daemon::AnyTargetFailed(MonoTime now) const {
  return std::any_of(targets_.begin(), targets_.end(),
                     [&](const Target& t) { return Down(t, now); });
}

// The agent asks after its own checks failed, but hbfence decides by its own leases:
// a request is accepted only when at least one target has failed its lease and the
// engine itself could decide (no startup grace left), so a wrong agent verdict can
// never reboot a host hbfence judges alive.
std::string Daemon::AnswerFenceRequest(const std::string& reason, MonoTime now) {
  if (reboot_standing_) return "refused a reboot is already under way";
  if (control_fence_standing_) {
    return "refused a fence requested over the control socket already stands (until every target is back within its "
           "lease or hbfence restarts)";
  }
  if (engine_.decided) return "refused hbfence already decided to fence in this failure episode";
  Decision d;
  for (const auto& t : targets_) {
    if (Down(t, now)) d.failed_targets.push_back(t.cfg.name);
  }
  if (d.failed_targets.empty()) {
    return "refused every target is within its lease: hbfence fences on its own when one is not";
  }
  if (const Duration grace_left = engine_.started + timings_.startup_grace - now; grace_left > Duration::zero()) {
    return fmt::format("refused hbfence is in its startup grace for another {:.1f} s: it fences on its own after that",
                       ToSeconds(grace_left));
  }
  d.reason = "requested over the control socket: " + reason;
  // This stands for the engine's own decision until the episode ends (Evaluate); in
  // target scope, for each failed target's.
  if (DecisionCfg().scope == Scope::kTarget) {
    for (const auto& name : d.failed_targets) engine_.decided_targets.push_back(name);
  }
  Fence(std::move(d), deps_.clock.WallNow());
  engine_.decided = true;
  control_fence_standing_ = true;
  return "accepted " + std::string(Name(cfg_->fence.action));
}

void Daemon::HandleFenceRequests(MonoTime now) {
  std::lock_guard lock(mu_);
  if (fence_requests_.empty()) return;
  for (auto& r : fence_requests_) r->reply = AnswerFenceRequest(r->reason, now);
  fence_requests_.clear();
  fence_answered_.notify_all();
}

std::string Daemon::ControlFence(std::string_view reason) {
  // The scheduler answers within one loop; this bound only matters if it is wedged,
  // and then systemd's watchdog is already on its way. A stopping or wedged daemon
  // makes no judgement: "error", not "refused", so `hbfence fence` (the CloudStack
  // drop-in's -c) runs the configured action without it.
  constexpr auto kSchedulerAnswer = std::chrono::seconds(5);
  auto request = std::make_shared<FenceRequest>(FenceRequest{std::string(reason), std::nullopt});
  std::unique_lock lock(mu_);
  if (stop_) return "error hbfence is stopping";
  fence_requests_.push_back(request);
  queue_->Wake();
  fence_answered_.wait_for(lock, kSchedulerAnswer, [&] { return request->reply || stop_; });
  if (request->reply) return *request->reply;
  std::erase(fence_requests_, request);
  return stop_ ? "error hbfence is stopping" : "error the scheduler did not take the request within 5 s (wedged)";
}

std::string Daemon::ControlStatus(std::string_view target) const {
  const auto wanted = WithoutTrailingSlash(target);
  std::lock_guard lock(mu_);
  auto it = std::find_if(target_snapshot_.begin(), target_snapshot_.end(), [&](const TargetSnapshot& t) {
    return t.name == target || t.path == wanted || (t.mount && *t.mount == wanted);
  });
  if (it == target_snapshot_.end()) {
    if (auto mismatch = HeartbeatFileMismatch(wanted)) return *mismatch;
    return "unknown " + std::string(target);
  }
  const MonoTime now = deps_.clock.Now();
  const std::string ago = fmt::format("{:.1f} s", ToSeconds(now - it->last_success));
  // The agent fences on a few non-zero answers in a row, so the verdict is the
  // engine's (the lease), never the last write alone: intermittent storage that keeps
  // renewing the lease answers ok, with the failure appended for the operator.
  if (!TargetFailed(it->lease, it->last_success, now)) {
    const std::string failed = it->last_error.empty() ? "" : "; last write failed: " + it->last_error;
    if (!it->ever_succeeded) {
      return fmt::format("ok {} within its first lease: no successful write yet, hbfence started {} ago{}", it->name,
                         ago, failed);
    }
    return fmt::format("ok {} last success {} ago{}", it->name, ago, failed);
  }
  const std::string last_error = it->last_error.empty() ? "" : " (last error " + it->last_error + ")";
  if (!it->ever_succeeded) {
    return fmt::format("failing {} no successful write since hbfence started {} ago{}", it->name, ago, last_error);
  }
  return fmt::format("failing {} lease expired: last success {} ago{}", it->name, ago, last_error);
}

// KVMHAMonitor writes <mount>/KVMHA/hb-<its -h>, the host's private IP, and that is
// the file the neighbours read. A request for such a file that hbfence does not
// write, on a pool it heartbeats, means the agent and hbfence name this host
// differently: "ok" would tell the agent a heartbeat exists that no neighbour sees.
std::optional<std::string> Daemon::HeartbeatFileMismatch(const std::filesystem::path& wanted) const {
  const std::string file = wanted.filename().string();
  if (!file.starts_with("hb-") || file.size() == 3 || wanted.parent_path().filename() != "KVMHA") return std::nullopt;
  const auto mount = wanted.parent_path().parent_path();
  auto it = std::find_if(target_snapshot_.begin(), target_snapshot_.end(),
                         [&](const TargetSnapshot& t) { return t.mount && *t.mount == mount; });
  if (it == target_snapshot_.end()) return std::nullopt;
  const std::string agent_name = file.substr(3);
  if (it->cloudstack_layout) {
    return fmt::format(
        "mismatch {} writes {} for host.id \"{}\", but CloudStack's neighbours read {} for host \"{}\": nothing writes "
        "it, so they would find this host dead; host.id must be the private IP the agent names this host by",
        it->name, it->path.string(), snapshot_host_id_, wanted.string(), agent_name);
  }
  return fmt::format(
      "mismatch {} writes {}, but CloudStack's neighbours read {} for host \"{}\": nothing writes it, so they would "
      "find this host dead; give the pool layout = \"cloudstack\" and host.id = \"{}\"",
      it->name, it->path.string(), wanted.string(), agent_name, agent_name);
}

void Daemon::PublishTargetSnapshot() {
  std::lock_guard lock(mu_);
  // Names and paths change only with the configuration; the rest is updated in
  // place, without allocating, after every batch of successes.
  if (target_snapshot_names_stale_) {
    target_snapshot_.clear();
    for (const auto& t : targets_) {
      target_snapshot_.push_back({t.cfg.name, t.cfg.path, t.cfg.mount, t.cfg.cloudstack_layout, {}, false, {}, {}});
    }
    snapshot_host_id_ = cfg_->host.id;
    target_snapshot_names_stale_ = false;
  }
  for (size_t i = 0; i < targets_.size(); ++i) {
    const HeartbeatState& state = targets_[i].state;
    TargetSnapshot& shown = target_snapshot_[i];
    shown.last_success = state.last_success;
    shown.ever_succeeded = state.last_success_wall.has_value();
    shown.last_error = state.last_error;
    shown.lease = LeaseOf(targets_[i]);
  }
}

// Liveness goes out from this loop only: if the loop wedges, the hardware watchdog
// and systemd both notice.
void Daemon::KeepAlive(MonoTime now) {
  if (watchdog_period_ && !reboot_standing_ && now >= next_watchdog_pet_) {
    if (auto pet = deps_.watchdog.Pet(); !pet) spdlog::error("{}", pet.error());
    next_watchdog_pet_ = now + *watchdog_period_;
  }
  if (const auto period = deps_.notifier.WatchdogPeriod(); period && now >= next_notify_alive_) {
    deps_.notifier.WatchdogAlive();
    next_notify_alive_ = now + *period;
  }
  // Ready once every target has had its first attempt decided (success, error or
  // timeout): a hung first write must not keep the service "activating" forever.
  if (!ready_sent_ && std::all_of(targets_.begin(), targets_.end(), [](const Target& t) {
        return t.state.last_success_wall || t.state.consecutive_failures > 0;
      })) {
    deps_.notifier.Ready();
    ready_sent_ = true;
    ready_ = true;
    spdlog::info("ready: {} target{}{}", targets_.size(), targets_.size() == 1 ? "" : "s",
                 serving_.empty() ? "" : ", serving " + serving_);
  }
  // Built only when what it shows may have changed: building it allocates, and
  // this runs on every wake-up.
  const auto down = std::count_if(targets_.begin(), targets_.end(), [&](const Target& t) {
    return Down(t, now);
  });
  const StatusKey key{engine_.decided, targets_.size(), cfg_->fence.action};
  if (down > 0 || key != last_status_key_) {
    if (std::string line = StatusLine(now); line != last_status_line_) {
      deps_.notifier.Status(line);
      last_status_line_ = std::move(line);
    }
    last_status_key_ = down > 0 ? std::nullopt : std::optional(key);
  }
}

std::string Daemon::StatusLine(MonoTime now) const {
  std::vector<std::string> down;
  for (const auto& t : targets_) {
    if (Down(t, now)) down.push_back(t.cfg.name);
  }
  std::string line;
  if (engine_.decided) {
    line = "FENCE DECIDED (" + std::string(Name(cfg_->fence.action)) + ")";
  } else if (!down.empty()) {
    line = "lease expired";
  } else {
    line = "ok";
  }
  line += ": " + std::to_string(targets_.size() - down.size()) + "/" + std::to_string(targets_.size()) + " targets up";
  for (size_t i = 0; i < down.size(); ++i) line += (i ? ", " : "; down: ") + down[i];
  line += cfg_->fence.action == FenceActionKind::kLogOnly ? "; fencing disarmed (log-only)" : "; fencing armed";
  return line;
}

MonoTime Daemon::NextWakeup(MonoTime now, std::span<const TargetObservation> obs) const {
  MonoTime next = now + timings_.interval;
  if (watchdog_period_ && !reboot_standing_) next = std::min(next, next_watchdog_pet_);
  if (deps_.notifier.WatchdogPeriod()) next = std::min(next, next_notify_alive_);
  for (const auto& t : targets_) {
    next = std::min(next, t.next_tick);
    if (auto d = TimeoutDeadline(t.state, timings_.stuck_after)) {
      next = std::min(next, *d);
      if (spread_at_) next = std::min(next, *spread_at_);  // a write is in flight
    }
  }
  if (auto d = NextDecisionDeadline(DecisionCfg(), engine_, obs, now)) next = std::min(next, *d);
  if (!journal_tail_taken_ && !journal_tail_overdue_reported_) next = std::min(next, journal_tail_deadline_);
  return next;
}

void Daemon::PublishStatus(MonoTime now) {
  std::ostringstream html;
  const auto& f = cfg_->fence;
  html << "<!doctype html><html><head><title>hbfence</title></head><body><h1>hbfence</h1>"
       << "<p>host <b>" << HtmlEscape(cfg_->host.id) << "</b>, fence action <b>" << Name(f.action) << "</b> ("
       << (f.action == FenceActionKind::kLogOnly ? "DISARMED" : "armed") << "), policy " << Name(f.policy)
       << ", lease " << ToSeconds(timings_.lease) << "s</p>"
       << "<p>decision pending: <b>" << (engine_.decided ? "YES" : "no") << "</b></p>"
       << "<table border=1><tr><th>target</th><th>path</th><th>up</th><th>seconds since success</th>"
       << "<th>consecutive failures</th><th>last error</th></tr>";
  for (const auto& t : targets_) {
    html << "<tr><td>" << HtmlEscape(t.cfg.name) << "</td><td>" << HtmlEscape(t.cfg.path.string()) << "</td><td>"
         << (Down(t, now) ? "DOWN" : "up") << "</td><td>"
         << static_cast<int64_t>(ToSeconds(now - t.state.last_success)) << "</td><td>" << t.state.consecutive_failures
         << "</td><td>" << HtmlEscape(t.state.last_error) << "</td></tr>";
  }
  html << "</table><p><a href=\"" << HtmlEscape(telemetry_path_) << "\">" << HtmlEscape(telemetry_path_)
       << "</a> · <a href=\"/healthz\">/healthz</a> · <a href=\"/-/healthy\">/-/healthy</a> · "
          "<a href=\"/-/ready\">/-/ready</a></p></body></html>\n";
  std::lock_guard lock(mu_);
  status_html_ = html.str();
}

void Daemon::PublishHistory(MonoTime now) {
  for (auto& t : targets_) t.metrics->SetGapMax(t.gaps.Max(now, t.state.last_success));
  for (const auto& [name, dropped] : history_.TakeDropped()) {
    for (auto& t : targets_) {
      if (t.cfg.name == name) t.metrics->CountHistoryDropped(dropped.queue_full, dropped.write_error);
    }
  }
  for (const auto& notice : history_.TakeNotices()) spdlog::warn("{}", notice);
}

void Daemon::Run() {
  MonoTime now = deps_.clock.Now();
  for (auto& t : targets_) t.next_tick = now;
  history_.StartRun(deps_.clock.WallNow(), now, timings_.interval, HistoryBootTag(boot_id_));
  while (!stop_) {
    now = deps_.clock.Now();
    last_loop_ns_ = now.time_since_epoch().count();
    std::shared_ptr<const Config> reload;
    {
      std::lock_guard lock(mu_);
      reload.swap(pending_reload_);
    }
    if (reload) ApplyConfig(std::move(reload), now);
    TakeJournalTail(now);
    ReportVmFences();
    if (spread_at_ && now >= *spread_at_) spread_at_ = pool_.Spread(now);
    const WallTime wall_now = deps_.clock.WallNow();
    std::vector<WriteRequest> run;
    run.reserve(targets_.size());
    for (auto& t : targets_) {
      // Not at the timeout itself: a write that finished within it may still be on
      // its way from its pool thread, and must renew the lease (fence/timings.h).
      if (OnTimeoutCheck(t.state, now, timings_.stuck_after)) {
        target_snapshot_stale_ = true;
        t.metrics->CountTimeout();
        spdlog::warn("target {}: heartbeat write still running after {}s (timeout {}s)", t.cfg.name,
                     ToSeconds(timings_.stuck_after), ToSeconds(timings_.timeout));
      }
      if (now >= t.next_tick) Tick(t, now, wall_now, run);
      t.metrics->SetStuckWrites(t.state.stuck() ? 1 : 0);
      t.metrics->SetConsecutiveFailures(t.state.consecutive_failures);
      t.metrics->SetUp(!Down(t, now));
      PublishPeerAges(t, now);
    }
    if (!run.empty()) {
      pool_.Submit(std::move(run));
      spread_at_ = std::min(spread_at_.value_or(MonoTime::max()), now + kSlowWrite);
    }
    // Target states do not change again until the next completion: one snapshot
    // serves the decision and the wake-up deadline.
    const auto obs = Observations();
    Evaluate(now, obs);
    HandleFenceRequests(now);
    KeepAlive(now);
    if (!boot_id_.empty()) leases_.Flush();  // without the boot's id, no record could be trusted
    history_.Flush(now);
    // The status page is for humans: refreshing it twice a second is plenty, and
    // keeps string building off the per-write path. The control snapshot goes out
    // at once after a success or when writes start failing, so the drop-ins never read a stale verdict.
    const bool cadence = now - status_published_ >= std::chrono::milliseconds(500);
    if (cadence || target_snapshot_stale_) {
      PublishTargetSnapshot();
      target_snapshot_stale_ = false;
    }
    if (cadence) {
      PublishStatus(now);
      PublishHistory(now);
      status_published_ = now;
    }
    for (const auto& c : queue_->WaitUntil(NextWakeup(now, obs))) HandleCompletion(c);
    for (auto& scan : queue_->TakePeerScans()) HandlePeerScan(std::move(scan));
  }
}

bool Daemon::Shutdown(Duration wait, bool clean_stop) {
  const MonoTime deadline = deps_.clock.Now() + wait;
  auto left = [&] { return std::max(Duration::zero(), deadline - deps_.clock.Now()); };
  bool clean = abandoned_peer_watchers_ == 0;
  if (!pool_.StopWithin(left())) {
    clean = false;
    std::vector<std::string> stuck;
    for (const auto& t : targets_) {
      if (t.state.outstanding_since) stuck.push_back(t.cfg.name);
    }
    spdlog::warn("heartbeat writes still blocked in the kernel at shutdown ({}); abandoning them", fmt::join(stuck, ", "));
  }
  for (auto& t : targets_) {
    if (t.peer_watcher && !t.peer_watcher->StopWithin(left())) {
      clean = false;
      spdlog::warn("target {}: peer scan still blocked in the kernel at shutdown; abandoning it", t.cfg.name);
    }
  }
  if (!executor_.StopWithin(left())) {
    clean = false;
    spdlog::warn("a fence action is still running at shutdown; abandoning it");
  }
  if (!journal_.StopWithin(left())) {
    clean = false;
    spdlog::warn("a fence journal call is still blocked in the kernel at shutdown; abandoning it");
  }
  // A clean stop ends the lease; with a decision standing it must not: a restart
  // then decides again instead of starting a fresh lease.
  bool leases_end = clean_stop && !engine_.decided && !reboot_standing_;
  if (leases_end) {
    if (auto cleared = leases_.Clear(left()); !cleared) {
      leases_end = false;
      spdlog::warn("lease record: {}; a restart within this boot continues the leases", cleared.error());
    }
  } else if (clean_stop) {
    spdlog::warn("stopping with a fence decision standing: the lease record {} stays, so a restart decides again",
                 leases_.path().string());
  }
  // The history's stop record says what the lease record says, for replay to follow.
  if (!history_.StopWithin(deps_.clock.WallNow(), deps_.clock.Now(), left(), leases_end)) {
    clean = false;
    spdlog::warn("the write history is still blocked in the kernel at shutdown; abandoning it");
  }
  if (!leases_.StopWithin(left())) {
    clean = false;
    spdlog::warn("the lease record's writer is still blocked in the kernel at shutdown; abandoning it");
  }
  deps_.notifier.Stopping();
  if (reboot_standing_) {
    spdlog::critical("stopping with a reboot under way: the hardware watchdog stays armed");
  } else if (auto closed = deps_.watchdog.MagicClose(); !closed) {
    spdlog::error("{}", closed.error());
  }
  return clean;
}

}  // namespace hbfence
