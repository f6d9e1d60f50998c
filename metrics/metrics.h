// SPDX-License-Identifier: Apache-2.0

// hbfence's metric families. This folder is the only place that includes
// prometheus-cpp; the rest of the daemon talks to these small typed handles.
// Thread-safety: prometheus-cpp metrics are safe to update from any thread;
// AddTarget/RemoveTarget/SetConfig are called from the scheduler thread only.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "src/sys/time.h"

namespace prometheus {
class Collectable;
class Counter;
class Gauge;
class Histogram;
class Registry;
template <typename T>
class Family;
}  // namespace prometheus

namespace hbfence {

// One watched neighbour's heartbeat age (see storage/peer_watch.h), as exported.
struct PeerAgeSample {
  std::string peer;  // the hb-* file name
  double age_seconds = 0;
};

class TargetMetrics {
 public:
  void ObserveWriteDuration(Duration d);
  void CountAttempt();
  void CountTimeout();
  void CountError(std::string_view reason);  // one of the reasons given to AddTarget
  void SetLastSuccess(WallTime t);
  void SetConsecutiveFailures(int n);
  void SetStuckWrites(int n);
  void SetUp(bool up);
  void SetGapMax(Duration gap);  // storage/gap_window.h
  void CountHistoryDropped(uint64_t queue_full, uint64_t write_error);
  // hbfence_peer_heartbeat_age_seconds{target,peer} for exactly these peers: series
  // of peers not in `ages` are removed. The caller bounds the count (kMaxWatchedPeers).
  void SetPeerAges(const std::vector<PeerAgeSample>& ages);

 private:
  friend class Metrics;
  static void SetIfChanged(prometheus::Gauge* gauge, double& shown, double value);

  std::string name_;
  prometheus::Family<prometheus::Gauge>* peer_age_family_ = nullptr;
  std::map<std::string, prometheus::Gauge*, std::less<>> peer_ages_;
  prometheus::Histogram* duration_ = nullptr;
  prometheus::Counter* writes_ = nullptr;
  prometheus::Counter* timeouts_ = nullptr;
  std::map<std::string, prometheus::Counter*, std::less<>> errors_;
  prometheus::Gauge* last_success_ = nullptr;
  prometheus::Gauge* consecutive_ = nullptr;
  prometheus::Gauge* stuck_ = nullptr;
  prometheus::Gauge* up_ = nullptr;
  prometheus::Gauge* gap_max_ = nullptr;
  prometheus::Counter* history_queue_full_ = nullptr;
  prometheus::Counter* history_write_error_ = nullptr;
  prometheus::Counter* vm_destroyed_ = nullptr;
  double consecutive_shown_ = 0, stuck_shown_ = 0, up_shown_ = 1;  // what AddTarget sets
};

struct BuildInfo {
  std::string version;
  std::string revision;
};

struct HeartbeatSettings {
  Duration interval, timeout, lease;
};

class Metrics {
 public:
  explicit Metrics(const BuildInfo& build);
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // Series for one target; every error reason starts at 0 so rate() works at once.
  // The handle stays valid until RemoveTarget(name).
  TargetMetrics& AddTarget(const std::string& name, const std::vector<double>& buckets_seconds,
                           const std::vector<std::string_view>& reasons);
  void RemoveTarget(const std::string& name);

  // The configuration as metrics: config_info labels, armed, heartbeat settings, and
  // whether the fence action is a fallback from an unknown agent.properties value.
  void SetConfig(std::string_view fence_action, std::string_view policy, bool armed, const HeartbeatSettings& hb,
                 bool unknown_fence_action);
  void CountDecision(std::string_view action);
  // Starts hbfence_fence_actions_total{action,result} at 0 for each pair (those the
  // configuration can produce), so a healthy host has the series; existing ones
  // keep their counts, and none is ever removed.
  void StartActionSteps(const std::vector<std::pair<std::string_view, std::string_view>>& steps);
  void CountAction(std::string_view action, std::string_view result);
  void CountJournalError();
  void SetFencePending(bool pending);
  void SetLastFence(WallTime t);
  void CountReload(bool ok);

  // destroy-vms: every escalation reason and step exported from the start, at zero.
  void InitVmFence(const std::vector<std::string_view>& escalation_reasons, const std::vector<std::string_view>& steps);
  void CountVmsDestroyed(const std::string& target, int n);  // a target given to AddTarget
  void CountVmFenceEscalation(std::string_view reason);
  void ObserveVmFenceStep(std::string_view step, Duration d);

  // What the HTTP endpoint serves: the registry and the /proc/self collector.
  std::vector<std::weak_ptr<prometheus::Collectable>> Collectables() const;

 private:
  struct Families;
  static std::vector<double> VmStepBuckets();
  std::shared_ptr<prometheus::Registry> registry_;
  std::shared_ptr<prometheus::Collectable> process_;
  std::unique_ptr<Families> f_;
  std::map<std::string, TargetMetrics, std::less<>> targets_;
};

}  // namespace hbfence
