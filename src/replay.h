// SPDX-License-Identifier: Apache-2.0

// `hbfence replay` and `hbfence advise`: the recorded write history (storage/history.h)
// fed through the daemon's own rules — HeartbeatState's OnTick / OnTimeoutCheck /
// OnCompletion with the same stuck-after allowance, and Decide() with the same
// wake-ups at each lease expiry — under other settings.
//
// Why this is exact for timeout, lease, policy and grace: a target has one write
// outstanding at a time, and the next starts at the first tick after it completes,
// whatever the timeout says (a stuck write only turns ticks into failed attempts). So
// the recorded tick and duration of every write do not depend on those settings. The
// interval does decide the ticks: a history replays only at the interval it was
// recorded with, and replay says so instead of pretending.
//
// Runs: each daemon run starts with fresh leases, as the daemon does after a clean
// stop (or a reboot). A run that ended without a clean stop and is followed by one in
// the same boot (the runs' boot tags, storage/history_format.h) continues its leases,
// as the daemon's lease record does after a crash. A target whose first write comes
// after the run's first pass joined then (a reload added it): its lease starts there.
//
// Pure: no I/O, no clock. Times are the recorded ones.
#pragma once

#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "fence/decide.h"
#include "fence/timings.h"
#include "storage/history.h"

namespace hbfence {

struct ReplaySettings {
  HeartbeatConfig heartbeat;  // timeout, lease and startup grace replayed; interval only compared
  Policy policy = Policy::kAny;
  Scope scope = Scope::kHost;
};

struct ReplayInput {
  std::string target;
  std::vector<HistoryRecord> records;  // as loaded: previous segment first
};

struct ReplayDecision {
  WallTime time;
  std::vector<std::string> targets;
  std::string reason;
};

// A span without a successful write, as the engine sees it: from the last success
// (its tick) to the renewal by the next one; `recovered` false when the history ends
// (or the daemon stopped) before a renewal.
struct ReplayGap {
  Duration length{};
  WallTime from{}, until{};
  bool recovered = true;
};

struct ReplayTargetReport {
  std::string target;
  uint64_t attempts = 0;  // writes started, and ticks a stuck write turned into failed attempts
  uint64_t timeouts = 0;  // as hbfence_heartbeat_write_timeouts_total counts them
  std::map<std::string, uint64_t> errors;  // by reason (storage/write_result.h)
  ReplayGap longest_gap;
  ReplayGap longest_recovered_gap;  // what a lease must outlast
  Duration longest_write{};         // the slowest write that completed without error, late or not
  WallTime longest_write_at{};
  Duration longest_stall{};         // the longest a write was seen outstanding (stuck writes too)
  WallTime longest_stall_at{};
};

struct ReplayReport {
  std::optional<WallTime> from, until;  // the history replayed (after --since)
  int runs = 0;
  std::vector<Duration> intervals;  // every interval the runs were recorded with
  std::vector<ReplayTargetReport> targets;
  std::vector<ReplayDecision> decisions;
  std::vector<std::string> notes;  // what the replay could not do exactly
};

// Replays `inputs` (the targets the policy counts) under `settings`. Only what
// happened at or after `since` is reported; the history before it still sets the
// state (a lease running across `since`).
ReplayReport Replay(const ReplaySettings& settings, std::span<const ReplayInput> inputs,
                    std::optional<WallTime> since = std::nullopt);

// `hbfence advise`: the smallest timeout and lease that would have taken no decision
// over the history, each with `margin` (≥ 1) on top of the worst moment that drove it.
struct Advice {
  Duration timeout{}, lease{};
  Duration worst_write{};  // drove the timeout
  WallTime worst_write_at{};
  std::string worst_write_target;
  ReplayGap worst_gap;     // drove the lease, under the advised timeout
  std::string worst_gap_target;
  Duration lease_rule_minimum{};  // W + timeout + 2A for the advised timeout (fence/timings.h)
  bool lease_from_rule = false;   // the rule, not the history, set the lease
  std::vector<std::string> unrecovered;  // stalls no lease avoids: the storage never came back in the history
  ReplayReport confirmation;            // the replay under the advice: no decision
  size_t current_decisions = 0;         // what the current settings took over the same history
  // CloudStack agent.properties keys giving the same settings (docs/agent-properties.md).
  std::vector<std::pair<std::string, std::string>> agent_properties;
};
Advice Advise(const ReplaySettings& current, std::span<const ReplayInput> inputs, std::optional<WallTime> since,
              double margin);

// Text and JSON renderings for the CLI.
std::string FormatReplay(const ReplaySettings& settings, const ReplayReport& report);
std::string FormatReplayJson(const ReplaySettings& settings, const ReplayReport& report);
std::string FormatAdvice(const ReplaySettings& current, const Advice& advice, double margin);

}  // namespace hbfence
