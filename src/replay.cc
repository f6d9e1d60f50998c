// SPDX-License-Identifier: Apache-2.0

#include "src/replay.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <tuple>

#include "src/log_format.h"
#include "storage/heartbeat_state.h"

namespace hbfence {
namespace {

// A setting so long no history reaches it: "no limit" for the replays advise runs.
constexpr Duration kUnlimited = std::chrono::hours(24 * 365);
// advise never proposes a timeout below this: under it, the host's own scheduling
// hiccups, not the storage, decide.
constexpr Duration kMinAdvisedTimeout = std::chrono::seconds(1);
// CloudStack's default kvm.heartbeat.update.retry.sleep (docs/agent-properties.md).
constexpr Duration kCloudStackRetrySleep = std::chrono::seconds(10);

struct Write {
  MonoTime start;
  WallTime wall;
  std::optional<Duration> duration;  // completed; else it was still outstanding when last seen
  WriteError error = WriteError::kNone;
  std::vector<Duration> stuck_ticks;  // how long it had run at each tick it failed
  Duration seen_running{};
};

struct Run {
  WallTime wall0;
  MonoTime mono0;
  Duration interval{};
  uint16_t boot = 0;  // HistoryBootTag; 0 unknown
  std::map<size_t, std::map<MonoTime, Write>> writes;  // by input index, by tick
  std::optional<MonoTime> stopped;
  MonoTime end;  // the last moment the history shows the daemon alive
};

using RunKey = std::pair<int64_t, int64_t>;  // the anchor: wall, mono nanoseconds

enum class EventKind { kComplete = 0, kStuckTick = 1, kStart = 2 };  // the daemon's order within one pass

struct Event {
  MonoTime time;
  EventKind kind;
  size_t target;  // index into the run's participants
  const Write* write;
  bool operator<(const Event& o) const { return std::tie(time, kind, target) < std::tie(o.time, o.kind, o.target); }
};

std::map<RunKey, Run> SplitIntoRuns(std::span<const ReplayInput> inputs, size_t& orphans) {
  std::map<RunKey, Run> runs;
  for (size_t i = 0; i < inputs.size(); ++i) {
    Run* run = nullptr;
    for (const auto& r : inputs[i].records) {
      if (r.kind == HistoryKind::kRun) {
        const RunKey key{r.wall.time_since_epoch().count(), r.mono.time_since_epoch().count()};
        run = &runs[key];
        run->wall0 = r.wall;
        run->mono0 = r.mono;
        run->interval = r.value;
        run->boot = r.boot;
        run->end = std::max(run->end, r.mono);
        continue;
      }
      if (!run) {
        ++orphans;
        continue;
      }
      switch (r.kind) {
        case HistoryKind::kWrite: {
          Write& w = run->writes[i][r.mono];
          w.start = r.mono;
          w.wall = r.wall;
          w.duration = r.value;
          w.error = r.error;
          w.seen_running = std::max(w.seen_running, r.value);
          run->end = std::max(run->end, r.mono + r.value);
          break;
        }
        case HistoryKind::kStuck: {
          Write& w = run->writes[i][r.mono];
          w.start = r.mono;
          w.wall = r.wall;
          w.stuck_ticks.push_back(r.value);
          w.seen_running = std::max(w.seen_running, r.value);
          run->end = std::max(run->end, r.mono + r.value);
          break;
        }
        case HistoryKind::kStop:
          run->stopped = r.mono;
          run->end = std::max(run->end, r.mono);
          break;
        case HistoryKind::kRun:
          break;
      }
    }
  }
  return runs;
}

// One run, the daemon's loop in miniature: events in time order, and between them
// the wake-ups the daemon schedules (timeouts, lease expiries).
class RunReplay {
 public:
  RunReplay(const ReplaySettings& s, const Run& run, std::span<const ReplayInput> inputs,
            std::map<size_t, MonoTime>& carried_success, std::optional<MonoTime> carried_start,
            std::optional<WallTime> since, ReplayReport& report, std::vector<ReplayTargetReport>& per_target)
      : timings_(Derive(s.heartbeat)),
        cfg_{s.heartbeat.lease, s.heartbeat.startup_grace, s.policy, s.scope},
        run_(run),
        since_(since),
        report_(report),
        engine_(EngineState::Start(carried_start.value_or(run.mono0))),
        now_(run.mono0) {
    for (const auto& [index, writes] : run.writes) {
      // A lease carried from the previous run goes on, however late the first tick
      // (after a reload that shortened the interval, ticks keep the old spacing once).
      // Otherwise targets present at the start write in the run's first pass; one whose
      // first write comes later joined then (a reload added it, or its history began):
      // the daemon started its lease at that moment.
      const auto carried = carried_success.find(index);
      const MonoTime first_write = writes.begin()->second.start;
      const bool joined_later = carried == carried_success.end() && first_write > run.mono0 + run.interval;
      const MonoTime joined = joined_later ? first_write : run.mono0;
      Participant p{index, &per_target[index], HeartbeatState::Start(joined), joined};
      if (carried != carried_success.end()) p.state.last_success = carried->second;
      names_.push_back(inputs[index].target);
      participants_.push_back(std::move(p));
      for (const auto& [tick, w] : writes) {
        const size_t k = participants_.size() - 1;
        events_.push_back({w.start, EventKind::kStart, k, &w});
        for (Duration e : w.stuck_ticks) events_.push_back({w.start + e, EventKind::kStuckTick, k, &w});
        if (w.duration) events_.push_back({w.start + *w.duration, EventKind::kComplete, k, &w});
      }
    }
    std::sort(events_.begin(), events_.end());
  }

  // Runs to the end of the run; leaves each target's last success in `carried`.
  void Play(std::map<size_t, MonoTime>& carried, MonoTime& started) {
    Evaluate();  // a continued lease may have expired while no daemon ran
    for (const Event& e : events_) {
      AdvanceTo(e.time);
      Apply(e);
      Evaluate();
    }
    AdvanceTo(run_.end);
    for (auto& p : participants_) {
      const Duration open = run_.end - p.state.last_success;
      if (Counted(run_.end) && open > p.report->longest_gap.length) {
        p.report->longest_gap = {open, Wall(p.state.last_success), Wall(run_.end), false};
      }
      carried[p.index] = p.state.last_success;
    }
    started = engine_.started;
  }

 private:
  struct Participant {
    size_t index;
    ReplayTargetReport* report;
    HeartbeatState state;
    MonoTime joined;  // before this, the daemon did not have the target
  };

  WallTime Wall(MonoTime t) const {
    return run_.wall0 + std::chrono::duration_cast<WallTime::duration>(t - run_.mono0);
  }
  bool Counted(MonoTime t) const {
    if (!since_) return true;
    return Wall(t) >= *since_;
  }
  void Seen(MonoTime t) {
    if (!Counted(t)) return;
    const WallTime w = Wall(t);
    if (!report_.from || w < *report_.from) report_.from = w;
    if (!report_.until || w > *report_.until) report_.until = w;
  }

  std::vector<TargetObservation> Observations() const {
    std::vector<TargetObservation> obs;
    obs.reserve(participants_.size());
    for (size_t k = 0; k < participants_.size(); ++k) {
      if (now_ < participants_[k].joined) continue;
      obs.push_back({names_[k], participants_[k].state.last_success, participants_[k].state.last_error});
    }
    return obs;
  }

  // The daemon's wake-ups up to `t`: timeouts passing, leases expiring.
  void AdvanceTo(MonoTime t) {
    for (;;) {
      std::optional<MonoTime> next;
      for (const auto& p : participants_) {
        if (auto d = TimeoutDeadline(p.state, timings_.stuck_after)) next = std::min(next.value_or(*d), *d);
      }
      const auto obs = Observations();
      if (auto d = NextDecisionDeadline(cfg_, engine_, obs, now_)) next = std::min(next.value_or(*d), *d);
      if (!next || *next > t) break;
      now_ = std::max(now_, *next);
      for (auto& p : participants_) {
        if (OnTimeoutCheck(p.state, now_, timings_.stuck_after) && Counted(now_)) ++p.report->timeouts;
      }
      Evaluate();
    }
    now_ = std::max(now_, t);
  }

  void Apply(const Event& e) {
    Participant& p = participants_[e.target];
    ReplayTargetReport& r = *p.report;
    const bool counted = Counted(now_);
    Seen(now_);
    switch (e.kind) {
      case EventKind::kStart:
        // A write the previous run left outstanding died with that process.
        p.state.outstanding_since.reset();
        if (OnTick(p.state, now_) == TickAction::kStartWrite && counted) ++r.attempts;
        if (counted && e.write->seen_running > r.longest_stall) {
          r.longest_stall = e.write->seen_running;
          r.longest_stall_at = e.write->wall;
        }
        break;
      case EventKind::kStuckTick:
        if (!p.state.outstanding_since) break;  // completed at the same instant
        if (OnTick(p.state, now_) == TickAction::kFailStuck && counted) {
          ++r.attempts;
          ++r.timeouts;
        }
        break;
      case EventKind::kComplete: {
        const MonoTime renewed_from = p.state.last_success;
        const Write& w = *e.write;
        WriteResult result{w.error, ""};
        const auto effect = OnCompletion(p.state, result, w.start, now_, w.wall, timings_.timeout);
        if (!counted) break;
        if (effect.newly_timed_out) ++r.timeouts;
        if (effect.error != WriteError::kNone) ++r.errors[std::string(ReasonName(effect.error))];
        if (result.ok() && *w.duration > r.longest_write) {
          r.longest_write = *w.duration;
          r.longest_write_at = w.wall;
        }
        if (effect.success) {
          const ReplayGap gap{now_ - renewed_from, Wall(renewed_from), Wall(now_), true};
          if (gap.length > r.longest_gap.length) r.longest_gap = gap;
          if (gap.length > r.longest_recovered_gap.length) r.longest_recovered_gap = gap;
        }
        break;
      }
    }
  }

  void Evaluate() {
    const auto obs = Observations();
    auto step = Decide(cfg_, engine_, obs, now_);
    engine_ = step.next;
    while (step.decision) {
      if (Counted(now_)) report_.decisions.push_back({Wall(now_), step.decision->failed_targets, step.decision->reason});
      step = Decide(cfg_, engine_, obs, now_);
      engine_ = step.next;
    }
  }

  Timings timings_;
  DecisionConfig cfg_;
  const Run& run_;
  std::optional<WallTime> since_;
  ReplayReport& report_;
  EngineState engine_;
  MonoTime now_;
  std::vector<Participant> participants_;
  std::vector<std::string> names_;
  std::vector<Event> events_;
};

// The same boot, and the previous process did not stop cleanly: the daemon would
// have continued its leases from the lease record.
bool ContinuesLeases(const Run& previous, const Run& next) {
  if (previous.stopped || next.mono0 < previous.end) return false;
  if (previous.boot && next.boot) return previous.boot == next.boot;
  // A history without boot tags: the same boot if the wall clock moved with CLOCK_MONOTONIC
  // (a reboot moves it by at least the previous boot's uptime; a clock step fools it).
  const Duration wall_step = next.wall0 - previous.wall0;
  const Duration mono_step = next.mono0 - previous.mono0;
  return std::chrono::abs(wall_step - mono_step) < std::chrono::seconds(2);
}

std::string Seconds(Duration d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3fs", ToSeconds(d));
  return buf;
}


// Up to a whole multiple of `step`.
Duration RoundUp(Duration d, Duration step) { return (d + step - Duration(1)) / step * step; }
Duration Scale(Duration d, double factor) {
  return Duration(static_cast<int64_t>(std::ceil(static_cast<double>(d.count()) * factor)));
}

std::string Quote(std::string_view s) { return "\"" + EscapeLogString(s) + "\""; }

}  // namespace

ReplayReport Replay(const ReplaySettings& settings, std::span<const ReplayInput> inputs, std::optional<WallTime> since) {
  ReplayReport report;
  std::vector<ReplayTargetReport> per_target(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) per_target[i].target = inputs[i].target;
  size_t orphans = 0;
  const auto runs = SplitIntoRuns(inputs, orphans);
  std::map<size_t, MonoTime> carried;
  MonoTime started{};
  const Run* previous = nullptr;
  for (const auto& [key, run] : runs) {
    const bool continues = previous && ContinuesLeases(*previous, run);
    if (!continues) carried.clear();
    RunReplay replay(settings, run, inputs, carried, continues ? std::optional(started) : std::nullopt, since, report,
                     per_target);
    replay.Play(carried, started);
    if (std::find(report.intervals.begin(), report.intervals.end(), run.interval) == report.intervals.end()) {
      report.intervals.push_back(run.interval);
    }
    ++report.runs;
    previous = &run;
  }
  report.targets = std::move(per_target);
  for (Duration interval : report.intervals) {
    if (interval != settings.heartbeat.interval) {
      report.notes.push_back("part of the history was recorded at interval " + Seconds(interval) +
                             ", not the configured " + Seconds(settings.heartbeat.interval) +
                             ": it is replayed with the ticks it had (a different interval cannot be replayed)");
    }
  }
  if (orphans) {
    report.notes.push_back(std::to_string(orphans) + " records before the first run marker of their file were skipped");
  }
  return report;
}

Advice Advise(const ReplaySettings& current, std::span<const ReplayInput> inputs, std::optional<WallTime> since,
              double margin) {
  Advice advice;
  ReplaySettings open = current;
  open.heartbeat.timeout = kUnlimited;
  open.heartbeat.lease = kUnlimited;
  for (const auto& t : Replay(open, inputs, since).targets) {
    if (t.longest_write > advice.worst_write) {
      advice.worst_write = t.longest_write;
      advice.worst_write_at = t.longest_write_at;
      advice.worst_write_target = t.target;
    }
  }
  advice.timeout = RoundUp(std::max(Scale(advice.worst_write, margin), kMinAdvisedTimeout), std::chrono::milliseconds(100));

  ReplaySettings gaps = current;
  gaps.heartbeat.timeout = advice.timeout;
  gaps.heartbeat.lease = kUnlimited;
  for (const auto& t : Replay(gaps, inputs, since).targets) {
    if (t.longest_recovered_gap.length > advice.worst_gap.length) {
      advice.worst_gap = t.longest_recovered_gap;
      advice.worst_gap_target = t.target;
    }
    if (!t.longest_gap.recovered && t.longest_gap.length > advice.timeout + current.heartbeat.interval) {
      advice.unrecovered.push_back(t.target + ": no successful write from " + Rfc3339Utc(t.longest_gap.from) + " to " +
                                   Rfc3339Utc(t.longest_gap.until) + " (" + Seconds(t.longest_gap.length) +
                                   ") when the history ends or the daemon stopped; no lease avoids a decision for "
                                   "storage that does not come back");
    }
  }
  HeartbeatConfig rule = current.heartbeat;
  rule.timeout = advice.timeout;
  advice.lease_rule_minimum = Derive(rule).worst_renewal_gap;
  const Duration from_history = Scale(advice.worst_gap.length, margin);
  advice.lease_from_rule = advice.lease_rule_minimum >= from_history;
  advice.lease = RoundUp(std::max(from_history, advice.lease_rule_minimum), std::chrono::seconds(1));

  ReplaySettings advised = current;
  advised.heartbeat.timeout = advice.timeout;
  advised.heartbeat.lease = advice.lease;
  advice.confirmation = Replay(advised, inputs, since);
  advice.current_decisions = Replay(current, inputs, since).decisions.size();

  // lease = frequency + max.tries × (timeout + retry.sleep), CloudStack's own formula
  // (docs/agent-properties.md): CloudStack's default retry.sleep, as few tries as reach the lease.
  const Duration interval = current.heartbeat.interval;
  const Duration after_interval = std::max(Duration::zero(), advice.lease - interval);
  const int64_t tries = std::max<int64_t>(1, (after_interval + advice.timeout + kCloudStackRetrySleep - Duration(1)) /
                                                 (advice.timeout + kCloudStackRetrySleep));
  const Duration sleep = std::max(Duration::zero(), RoundUp(after_interval / tries - advice.timeout, std::chrono::milliseconds(1)));
  auto ms = [](Duration d) { return std::to_string(std::chrono::ceil<std::chrono::milliseconds>(d).count()); };
  advice.agent_properties = {{"kvm.heartbeat.update.frequency", ms(interval)},
                             {"heartbeat.update.timeout", ms(advice.timeout)},
                             {"kvm.heartbeat.update.max.tries", std::to_string(tries)},
                             {"kvm.heartbeat.update.retry.sleep", ms(sleep)}};
  return advice;
}

std::string FormatReplay(const ReplaySettings& s, const ReplayReport& report) {
  std::ostringstream out;
  out << "replay: timeout " << Seconds(s.heartbeat.timeout) << ", lease " << Seconds(s.heartbeat.lease) << ", policy "
      << Name(s.policy) << (s.scope == Scope::kTarget ? " (destroy-vms: each target decides alone)" : "")
      << ", startup grace " << Seconds(s.heartbeat.startup_grace) << "\n";
  if (!report.from) {
    out << "no heartbeat writes recorded in the period asked for\n";
  } else {
    out << "history: " << Rfc3339Utc(*report.from) << " to " << Rfc3339Utc(*report.until) << ", " << report.runs
        << (report.runs == 1 ? " daemon run" : " daemon runs") << "\n";
  }
  for (const auto& t : report.targets) {
    out << "\ntarget " << t.target << ": " << t.attempts << " attempts, " << t.timeouts << " timeouts";
    uint64_t errors = 0;
    for (const auto& [reason, n] : t.errors) errors += n;
    out << ", " << errors << " errors";
    if (errors) {
      out << " (";
      bool first = true;
      for (const auto& [reason, n] : t.errors) {
        out << (first ? "" : ", ") << reason << " " << n;
        first = false;
      }
      out << ")";
    }
    out << "\n";
    if (t.longest_gap.length > Duration::zero()) {
      out << "  longest gap without a successful write: " << Seconds(t.longest_gap.length) << " from "
          << Rfc3339Utc(t.longest_gap.from) << (t.longest_gap.recovered ? " until " : " until the end, ")
          << Rfc3339Utc(t.longest_gap.until) << (t.longest_gap.recovered ? "" : " (not recovered)") << "\n";
    }
    if (t.longest_write > Duration::zero()) {
      out << "  slowest write completed without error: " << Seconds(t.longest_write) << " at " << Rfc3339Utc(t.longest_write_at) << "\n";
    }
  }
  out << "\n" << report.decisions.size() << (report.decisions.size() == 1 ? " decision" : " decisions");
  out << (report.decisions.empty() ? " with these settings\n" : " with these settings:\n");
  for (const auto& d : report.decisions) {
    out << "  " << Rfc3339Utc(d.time) << "  ";
    for (size_t i = 0; i < d.targets.size(); ++i) out << (i ? "," : "") << d.targets[i];
    out << "  " << d.reason << "\n";
  }
  for (const auto& note : report.notes) out << "note: " << note << "\n";
  return out.str();
}

std::string FormatReplayJson(const ReplaySettings& s, const ReplayReport& report) {
  auto secs = [](Duration d) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.6f", ToSeconds(d));
    return std::string(buf);
  };
  std::ostringstream out;
  out << "{\"settings\":{\"timeout_seconds\":" << secs(s.heartbeat.timeout)
      << ",\"lease_seconds\":" << secs(s.heartbeat.lease) << ",\"policy\":" << Quote(Name(s.policy))
      << ",\"scope\":" << Quote(s.scope == Scope::kTarget ? "target" : "host")
      << ",\"startup_grace_seconds\":" << secs(s.heartbeat.startup_grace) << "}";
  out << ",\"from\":" << (report.from ? Quote(Rfc3339Utc(*report.from)) : "null")
      << ",\"until\":" << (report.until ? Quote(Rfc3339Utc(*report.until)) : "null") << ",\"runs\":" << report.runs;
  out << ",\"targets\":[";
  for (size_t i = 0; i < report.targets.size(); ++i) {
    const auto& t = report.targets[i];
    out << (i ? "," : "") << "{\"target\":" << Quote(t.target) << ",\"attempts\":" << t.attempts
        << ",\"timeouts\":" << t.timeouts << ",\"errors\":{";
    bool first = true;
    for (const auto& [reason, n] : t.errors) {
      out << (first ? "" : ",") << Quote(reason) << ":" << n;
      first = false;
    }
    out << "},\"longest_gap\":{\"seconds\":" << secs(t.longest_gap.length)
        << ",\"from\":" << Quote(Rfc3339Utc(t.longest_gap.from)) << ",\"until\":" << Quote(Rfc3339Utc(t.longest_gap.until))
        << ",\"recovered\":" << (t.longest_gap.recovered ? "true" : "false") << "}"
        << ",\"slowest_write_seconds\":" << secs(t.longest_write) << "}";
  }
  out << "],\"decisions\":[";
  for (size_t i = 0; i < report.decisions.size(); ++i) {
    const auto& d = report.decisions[i];
    out << (i ? "," : "") << "{\"time\":" << Quote(Rfc3339Utc(d.time))
        << ",\"unix_seconds\":" << secs(d.time.time_since_epoch()) << ",\"targets\":[";
    for (size_t k = 0; k < d.targets.size(); ++k) out << (k ? "," : "") << Quote(d.targets[k]);
    out << "],\"reason\":" << Quote(d.reason) << "}";
  }
  out << "],\"notes\":[";
  for (size_t i = 0; i < report.notes.size(); ++i) out << (i ? "," : "") << Quote(report.notes[i]);
  out << "]}\n";
  return out.str();
}

std::string FormatAdvice(const ReplaySettings& current, const Advice& a, double margin) {
  std::ostringstream out;
  char factor[16];
  std::snprintf(factor, sizeof factor, "%g", margin);
  const auto& c = a.confirmation;
  if (!c.from) return "no heartbeat writes recorded in the period asked for: nothing to advise from\n";
  out << "advice from " << Rfc3339Utc(*c.from) << " to " << Rfc3339Utc(*c.until) << ", margin " << factor << "x, interval "
      << Seconds(current.heartbeat.interval) << " (as configured; advice holds for the interval it was recorded at)\n\n";
  out << "timeout_seconds = " << ExactSeconds(a.timeout) << "   # ";
  if (a.worst_write > Duration::zero()) {
    out << "slowest write completed without error " << Seconds(a.worst_write) << " (" << a.worst_write_target << ", "
        << Rfc3339Utc(a.worst_write_at) << ") x " << factor;
  }
  if (Scale(a.worst_write, margin) < kMinAdvisedTimeout) out << (a.worst_write > Duration::zero() ? "; " : "") << "never below 1s";
  out << "\nlease_seconds = " << ExactSeconds(a.lease) << "   # ";
  if (a.worst_gap.length > Duration::zero()) {
    out << "longest gap without a successful write " << Seconds(a.worst_gap.length) << " (" << a.worst_gap_target
        << ", " << Rfc3339Utc(a.worst_gap.from) << " to " << Rfc3339Utc(a.worst_gap.until) << ") x " << factor;
  }
  if (a.lease_from_rule) {
    out << (a.worst_gap.length > Duration::zero() ? "; " : "") << "raised to the lease rule's minimum "
        << Seconds(a.lease_rule_minimum) << " for this interval and timeout";
  }
  out << "\n\ndetection: storage that stops answering is fenced " << ExactSeconds(a.lease)
      << "s after its last successful write (now " << ExactSeconds(current.heartbeat.lease) << "s)\n";
  out << "replay with these settings: " << c.decisions.size()
      << (c.decisions.size() == 1 ? " decision" : " decisions") << "; with the current settings: " << a.current_decisions
      << " (`hbfence replay` lists them)\n";
  for (const auto& d : c.decisions) out << "  " << Rfc3339Utc(d.time) << "  " << d.reason << "\n";
  for (const auto& u : a.unrecovered) out << "warning: " << u << "\n";
  out << "\nas CloudStack agent.properties (hbfence reads these when hbfence.toml does not set them):\n";
  for (const auto& [key, value] : a.agent_properties) out << key << "=" << value << "\n";
  for (const auto& note : c.notes) out << "note: " << note << "\n";
  return out.str();
}

}  // namespace hbfence
