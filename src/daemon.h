// SPDX-License-Identifier: Apache-2.0

// The daemon: the scheduler loop that ticks every target, tracks their heartbeat
// state, asks the decision engine, hands decisions to the fence executor, and
// mirrors it all into metrics, logs and the status page.
//
// Threads: Run() is the scheduler thread and owns all target and engine state.
// RequestStop(), RequestReload(), Healthy(), StatusHtml(), ControlStatus() and
// ControlFence() are safe from any thread. Heartbeat writes run on the write pool
// (storage/write_pool.h); fence actions run on the executor thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <optional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fence/executor.h"
#include "metrics/metrics.h"
#include "src/config.h"
#include "src/lease_store.h"
#include "storage/gap_window.h"
#include "storage/heartbeat_state.h"
#include "storage/history.h"
#include "src/sys/service_notifier.h"
#include "src/sys/watchdog.h"
#include "storage/peer_watcher.h"
#include "storage/write_pool.h"

namespace hbfence {

struct DaemonDeps {
  const Clock& clock;
  FenceIo& io;
  ProcessRunner& runner;
  Watchdog& watchdog;        // petted from the scheduler loop
  ServiceNotifier& notifier; // READY, STATUS, WATCHDOG for systemd
  HypervisorFactory connect_hypervisor = {};  // destroy-vms: libvirt
};

// destroy-vms asks which mount holds a VM's file: from /proc/self/mountinfo.
Result<MountOf, std::string> ReadMountTable();

class Daemon {
 public:
  Daemon(std::shared_ptr<const Config> cfg, Metrics& metrics, DaemonDeps deps);
  ~Daemon();

  void Run();  // returns after RequestStop()
  void RequestStop();
  void RequestReload(std::shared_ptr<const Config> cfg);  // applied by the scheduler thread

  bool Healthy() const;
  // True once every target has had its first write decided (success, error or
  // timeout), the moment systemd is told READY=1; stays true.
  bool Ready() const { return ready_.load(); }
  std::string StatusHtml() const;
  // Where the HTTP endpoint serves, for the one "ready: …" log line ("http://…/metrics").
  // Call before Run().
  void SetServing(std::string where) { serving_ = std::move(where); }

  // Control socket replies (src/control_socket.h). ControlStatus() answers from the
  // published snapshot, never from storage. TARGET is a target's name, heartbeat file
  // or mount. CloudStack's heartbeat file of another host on a pool hbfence heartbeats
  // (<mount>/KVMHA/hb-<X> where hbfence writes something else there) is "mismatch …":
  // the agent names this host X, its neighbours read that file, and nothing writes it.
  // ControlFence() hands the request to the scheduler thread, which fences exactly as
  // for its own decisions, and waits for its verdict: "accepted …" or "refused …", or
  // "error …" when there is none (stopping, or the scheduler did not answer within 5 s).
  std::string ControlStatus(std::string_view target) const;
  std::string ControlFence(std::string_view reason);

  // Stops writer and executor threads, waiting up to `wait` for busy ones, and
  // disarms the hardware watchdog unless a reboot decision stands. A clean stop
  // (`clean_stop`) also removes the lease record, unless a decision stands: the
  // next start then begins with a fresh lease. Returns false when some threads were
  // stuck and had to be abandoned: the process must then exit without running
  // destructors (they may still be blocked in the kernel).
  bool Shutdown(Duration wait, bool clean_stop);

 private:
  struct Target {
    uint64_t id;
    TargetConfig cfg;
    std::string identity;  // HeartbeatIdentity(cfg): what the lease record keys on
    std::shared_ptr<HeartbeatTarget> heartbeat;  // written on the pool; a write in flight holds it too
    HeartbeatState state;
    MonoTime next_tick;
    TargetMetrics* metrics;
    // peer_watch: a scan after each successful write, on the watcher's own thread;
    // the latest one is turned into ages on every pass, so they keep growing while
    // scans stall.
    std::unique_ptr<PeerWatcher> peer_watcher;
    std::optional<PeerScan> peers;
    PeerAgeTracker peer_ages;
    // Set by a reload that changed the timings, until a write started after it
    // succeeds: the old and new leases together (see ApplyConfig).
    Duration lease_floor = Duration::zero();
    MonoTime lease_floor_since{};
    bool first_success_logged = false;  // "first heartbeat written" is logged once per target
    GapWindow gaps{kGapWindow};
  };
  // hbfence_heartbeat_gap_max_seconds looks back this far.
  static constexpr Duration kGapWindow = std::chrono::minutes(15);

  void AddTarget(const TargetConfig& cfg, MonoTime now);
  void StartWorkers(Target& t);  // the heartbeat and, with peer_watch, the peer watcher
  void StopWorkers(Target& t);   // a write in flight completes under the same id
  void ApplyConfig(std::shared_ptr<const Config> cfg, MonoTime now);
  Target* FindTarget(uint64_t id);
  void HandleCompletion(const WriteCompletion& c);
  void HandlePeerScan(PeerScanCompletion c);
  void PublishPeerAges(Target& t, MonoTime now);
  void Tick(Target& t, MonoTime now, WallTime wall_now, std::vector<WriteRequest>& run);
  void Evaluate(MonoTime now, std::span<const TargetObservation> obs);
  void Fence(Decision decision, WallTime wall_now);
  void RestoreLeases(MonoTime now);
  LeaseRecord CurrentLeaseRecord() const;
  void TakeJournalTail(MonoTime now);
  void QueueVmFenceReport(const VmFenceReport& r);  // any thread
  void ReportVmFences();                            // scheduler thread
  void ReportVmFence(const VmFenceReport& r);
  bool AnyTargetFailed(MonoTime now) const;
  Duration LeaseOf(const Target& t) const { return std::max(timings_.lease, t.lease_floor); }
  bool Down(const Target& t, MonoTime now) const { return TargetFailed(LeaseOf(t), t.state.last_success, now); }
  std::string AnswerFenceRequest(const std::string& reason, MonoTime now);
  void HandleFenceRequests(MonoTime now);
  void PublishTargetSnapshot();
  MonoTime NextWakeup(MonoTime now, std::span<const TargetObservation> obs) const;
  void PublishStatus(MonoTime now);
  void PublishHistory(MonoTime now);  // gaps, dropped history records, history notices
  void KeepAlive(MonoTime now);
  void StopPettingWatchdog();
  std::string StatusLine(MonoTime now) const;
  // ControlStatus() for a CloudStack heartbeat file hbfence does not write; mu_ held.
  std::optional<std::string> HeartbeatFileMismatch(const std::filesystem::path& wanted) const;
  std::vector<TargetObservation> Observations() const;
  DecisionConfig DecisionCfg() const;

  std::shared_ptr<const Config> cfg_;
  const std::string telemetry_path_;  // the landing page's link: as started, reloads change it at the next restart
  Metrics& metrics_;
  DaemonDeps deps_;
  Timings timings_;
  std::shared_ptr<CompletionQueue> queue_ = std::make_shared<CompletionQueue>();
  WritePool pool_;
  // When to look for a slow write holding up the others of its run (WritePool::Spread).
  std::optional<MonoTime> spread_at_;
  std::vector<Target> targets_;
  // Targets a reload removed while their write was stuck in the kernel, until it
  // returns. Re-added, the heartbeat takes its slot back (its id, state and write in
  // flight) instead of starting another write that would hang a second thread.
  std::vector<Target> parked_;
  uint64_t next_target_id_ = 1;
  int abandoned_peer_watchers_ = 0;  // dropped by a reload while stuck in the kernel
  EngineState engine_;
  MonoTime status_published_{};
  MonoTime next_watchdog_pet_{};
  MonoTime next_notify_alive_{};
  bool ready_sent_ = false;
  std::atomic<bool> ready_{false};
  std::string serving_;  // set before Run()
  std::string boot_id_;  // empty when unreadable: the lease record is then not kept
  bool leases_dirty_ = false;
  // Fence entries of the past hour, for the hourly limits: the journal's tail read
  // at start, then every decision this process made. Never re-read from disk.
  std::vector<JournalEntry> fence_history_;
  // The journal's tail is read on the journal thread at start; until it is in, the
  // limits count only this process's decisions. Past the deadline that is reported.
  std::atomic<bool> journal_tail_ready_{false};
  bool journal_tail_taken_ = false;
  bool journal_tail_overdue_reported_ = false;
  MonoTime journal_tail_deadline_{};
  // The configured action of the decision standing in this episode: a reload that
  // arms fencing while a log-only decision stands runs the armed action.
  std::optional<FenceActionKind> standing_action_;
  std::string last_status_line_;
  // What the status line shows while no target is down.
  struct StatusKey {
    bool decided = false;
    size_t targets = 0;
    FenceActionKind action = FenceActionKind::kLogOnly;
    bool operator==(const StatusKey&) const = default;
  };
  std::optional<StatusKey> last_status_key_;
  // Set by the executor once a reboot is under way: the hardware watchdog then
  // stops being petted, so the host resets even if sysrq is disabled or stuck.
  std::atomic<bool> reboot_standing_{false};
  std::optional<Duration> watchdog_period_;
  FenceJournal journal_;
  LeaseStore leases_;
  HistoryRecorder history_;
  FenceExecutor executor_;

  std::atomic<bool> stop_{false};
  std::atomic<int64_t> last_loop_ns_{0};
  std::atomic<int64_t> health_budget_ns_{0};

  // Set when a fence requested over the control socket was accepted (some target had
  // failed its lease); cleared, with engine_.decided, once every target is back within
  // its lease. One fence per episode, whoever asks first.
  bool control_fence_standing_ = false;
  bool target_snapshot_stale_ = true;  // a target changed between up and failing
  bool target_snapshot_names_stale_ = true;  // the set of targets changed

  // What ControlStatus() reads: published by the scheduler thread.
  struct TargetSnapshot {
    std::string name;
    std::filesystem::path path;
    std::optional<std::filesystem::path> mount;
    bool cloudstack_layout;
    MonoTime last_success;
    bool ever_succeeded;
    std::string last_error;  // empty unless a write failed or stuck since the last success
    Duration lease;
  };
  struct FenceRequest {
    std::string reason;
    std::optional<std::string> reply;  // set by the scheduler thread
  };

  mutable std::mutex mu_;  // guards the members below
  std::shared_ptr<const Config> pending_reload_;
  std::string status_html_;
  std::vector<TargetSnapshot> target_snapshot_;
  std::string snapshot_host_id_;  // the host.id the snapshot's paths were made with
  std::deque<std::shared_ptr<FenceRequest>> fence_requests_;
  std::optional<JournalTail> journal_tail_;
  std::vector<VmFenceReport> vm_reports_;
  std::condition_variable fence_answered_;
};

}  // namespace hbfence
