// SPDX-License-Identifier: Apache-2.0

// Google Benchmark micro-benchmarks for the two per-tick hot paths of hbfence:
//  - the decision engine, hbfence::Decide / NextDecisionDeadline (fence/decide.h),
//    which the scheduler runs on every main-loop wake-up over all targets;
//  - the metric update path, hbfence::TargetMetrics (metrics/metrics.h), and the
//    cost of one /metrics scrape body (collect + text serialization);
//  - the write history (storage/history.h): HistoryRecorder::Record with the
//    history thread's drain, and the append of one record.
// Built by bench/CMakeLists.txt; run by bench/run (or directly).
#include <benchmark/benchmark.h>
#include <prometheus/collectable.h>
#include <prometheus/text_serializer.h>

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <vector>

#include "fence/decide.h"
#include "fence/timings.h"
#include "metrics/metrics.h"
#include "metrics/process_collector.h"
#include "storage/file_target.h"
#include "storage/history.h"

namespace {

using namespace std::chrono_literals;
using hbfence::MonoTime;

struct ObsSet {
  std::vector<std::string> names;
  std::vector<hbfence::TargetObservation> obs;
  ObsSet(int n, MonoTime now, int failed) {
    names.reserve(n);
    for (int i = 0; i < n; ++i) names.push_back("target-" + std::to_string(i));
    for (int i = 0; i < n; ++i) {
      const bool f = i < failed;
      obs.push_back({names[i], f ? now - 120s : now - 500ms, f ? "timeout" : ""});
    }
  }
};

const hbfence::DecisionConfig kCfg{60s, 0s, hbfence::Policy::kAny};

// Healthy host: the common case, evaluated on every wake-up of the main loop.
void BM_Decide_Healthy(benchmark::State& state) {
  const MonoTime now = MonoTime(1000h);
  ObsSet s(static_cast<int>(state.range(0)), now, 0);
  auto engine = hbfence::EngineState::Start(now - 1h);
  for (auto _ : state) {
    auto step = hbfence::Decide(kCfg, engine, s.obs, now);
    benchmark::DoNotOptimize(step);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Decide_Healthy)->Arg(1)->Arg(64)->Arg(256);

// The deciding step: one target over its lease, the decision and its reason built.
void BM_Decide_Deciding(benchmark::State& state) {
  const MonoTime now = MonoTime(1000h);
  ObsSet s(static_cast<int>(state.range(0)), now, 1);
  auto engine = hbfence::EngineState::Start(now - 1h);
  for (auto _ : state) {
    auto step = hbfence::Decide(kCfg, engine, s.obs, now);
    benchmark::DoNotOptimize(step);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Decide_Deciding)->Arg(1)->Arg(64)->Arg(256);

// A decided episode that goes on (log-only: evaluated on every wake-up while pending).
void BM_Decide_AlreadyDecided(benchmark::State& state) {
  const MonoTime now = MonoTime(1000h);
  ObsSet s(static_cast<int>(state.range(0)), now, 1);
  auto engine = hbfence::EngineState::Start(now - 1h);
  engine.host_failing = true;
  engine.decided = true;
  for (auto _ : state) {
    auto step = hbfence::Decide(kCfg, engine, s.obs, now);
    benchmark::DoNotOptimize(step);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Decide_AlreadyDecided)->Arg(1)->Arg(64)->Arg(256);

void BM_NextDecisionDeadline(benchmark::State& state) {
  const MonoTime now = MonoTime(1000h);
  ObsSet s(static_cast<int>(state.range(0)), now, 0);
  auto engine = hbfence::EngineState::Start(now - 1h);
  for (auto _ : state) {
    auto d = hbfence::NextDecisionDeadline(kCfg, engine, s.obs, now);
    benchmark::DoNotOptimize(d);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_NextDecisionDeadline)->Arg(1)->Arg(64)->Arg(256);

// --- metrics -------------------------------------------------------------------

std::vector<std::string_view> Reasons() {
  std::vector<std::string_view> out;
  for (auto e : hbfence::kWriteErrorReasons) out.push_back(hbfence::ReasonName(e));
  return out;
}

std::vector<double> Buckets() {
  hbfence::HeartbeatConfig hb;
  hb.interval = 50ms;
  hb.timeout = 1s;
  hb.lease = 5s;
  return hbfence::Derive(hb).histogram_buckets_seconds;
}

struct MetricsFixture {
  hbfence::Metrics metrics{{"bench", "bench"}};
  std::vector<hbfence::TargetMetrics*> targets;
  explicit MetricsFixture(int n) {
    const auto buckets = Buckets();
    const auto reasons = Reasons();
    for (int i = 0; i < n; ++i) targets.push_back(&metrics.AddTarget("target-" + std::to_string(i), buckets, reasons));
    metrics.SetConfig("log-only", "any", false, {50ms, 1s, 5s}, false);
  }
};

void BM_Metrics_ObserveWriteDuration(benchmark::State& state) {
  MetricsFixture f(1);
  hbfence::Duration d = 37us;
  for (auto _ : state) f.targets[0]->ObserveWriteDuration(d);
}
BENCHMARK(BM_Metrics_ObserveWriteDuration);

void BM_Metrics_CountAttempt(benchmark::State& state) {
  MetricsFixture f(1);
  for (auto _ : state) f.targets[0]->CountAttempt();
}
BENCHMARK(BM_Metrics_CountAttempt);

void BM_Metrics_SetUp(benchmark::State& state) {
  MetricsFixture f(1);
  bool up = true;
  for (auto _ : state) {
    f.targets[0]->SetUp(up);
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_Metrics_SetUp);

void BM_Metrics_SetLastSuccess(benchmark::State& state) {
  MetricsFixture f(1);
  const auto t = std::chrono::system_clock::now();
  for (auto _ : state) f.targets[0]->SetLastSuccess(t);
}
BENCHMARK(BM_Metrics_SetLastSuccess);

void BM_Metrics_CountError(benchmark::State& state) {
  MetricsFixture f(1);
  for (auto _ : state) f.targets[0]->CountError("io_error");
}
BENCHMARK(BM_Metrics_CountError);

// Everything the daemon does to one target's metrics per successful write:
// Tick (CountAttempt), HandleCompletion (ObserveWriteDuration, SetLastSuccess) and
// the per-wake-up gauges (SetStuckWrites, SetConsecutiveFailures, SetUp).
void BM_Metrics_PerWritePath(benchmark::State& state) {
  MetricsFixture f(1);
  auto& t = *f.targets[0];
  const auto now = std::chrono::system_clock::now();
  for (auto _ : state) {
    t.CountAttempt();
    t.ObserveWriteDuration(41us);
    t.SetLastSuccess(now);
    t.SetStuckWrites(0);
    t.SetConsecutiveFailures(0);
    t.SetUp(true);
  }
}
BENCHMARK(BM_Metrics_PerWritePath);

// The per-wake-up gauge sweep the main loop does over every target (daemon.cc Run()).
void BM_Metrics_WakeupSweep(benchmark::State& state) {
  MetricsFixture f(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    for (auto* t : f.targets) {
      t->SetStuckWrites(0);
      t->SetConsecutiveFailures(0);
      t->SetUp(true);
    }
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Metrics_WakeupSweep)->Arg(1)->Arg(64)->Arg(256);

// One scrape body: collect every registry (and /proc/self) and serialize to text.
void BM_Metrics_ScrapeBody(benchmark::State& state) {
  MetricsFixture f(static_cast<int>(state.range(0)));
  prometheus::TextSerializer ser;
  size_t bytes = 0;
  for (auto _ : state) {
    std::vector<prometheus::MetricFamily> all;
    for (const auto& w : f.metrics.Collectables()) {
      if (auto c = w.lock()) {
        auto fams = c->Collect();
        all.insert(all.end(), std::make_move_iterator(fams.begin()), std::make_move_iterator(fams.end()));
      }
    }
    const std::string body = ser.Serialize(all);
    bytes = body.size();
    benchmark::DoNotOptimize(body.data());
  }
  state.counters["body_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_Metrics_ScrapeBody)->Arg(1)->Arg(64)->Arg(256)->Unit(benchmark::kMicrosecond);

// The /proc/self part of every scrape (metrics/process_collector.cc): reads
// /proc/self/stat, /proc/stat, lists /proc/self/fd and reads /proc/self/limits.
void BM_ProcessCollector_Collect(benchmark::State& state) {
  hbfence::ProcessCollector c("/proc", std::chrono::seconds(0));  // every call reads /proc
  for (auto _ : state) {
    auto fams = c.Collect();
    benchmark::DoNotOptimize(fams.data());
  }
}
BENCHMARK(BM_ProcessCollector_Collect)->Unit(benchmark::kMicrosecond);

// The registry part of one scrape alone (no /proc), collect + serialize.
void BM_Metrics_ScrapeBodyRegistryOnly(benchmark::State& state) {
  MetricsFixture f(static_cast<int>(state.range(0)));
  prometheus::TextSerializer ser;
  const auto registry = f.metrics.Collectables().front().lock();
  for (auto _ : state) {
    const std::string body = ser.Serialize(registry->Collect());
    benchmark::DoNotOptimize(body.data());
  }
}
BENCHMARK(BM_Metrics_ScrapeBodyRegistryOnly)->Arg(64)->Unit(benchmark::kMicrosecond);

// --- the write history -----------------------------------------------------------

// A scratch directory in /dev/shm: the cost of the code, not of a disk.
struct ScratchDir {
  std::filesystem::path path;
  ScratchDir() {
    std::string tmpl = "/dev/shm/hbfence-bench-history-XXXXXX";
    path = ::mkdtemp(tmpl.data());
  }
  ~ScratchDir() { std::filesystem::remove_all(path); }
};

hbfence::HistoryRecord AWrite(int i) {
  return {hbfence::HistoryKind::kWrite, hbfence::WallTime(1795000000s + i * 50ms), MonoTime(1000h + i * 50ms), 40us,
          hbfence::WriteError::kNone};
}

// Record() and the history thread's drain, end to end, for a burst that fits the
// queue (HistoryRecorder::kMaxPending): the process's CPU per record, thread start
// and stop included. A burst is drained in few batches: the lower bound of the
// cost. The daemon drains once a second (a batch per target, its file opened and
// closed); goal h in bench/run measures that.
void BM_HistoryRecordAndDrain(benchmark::State& state) {
  constexpr int kBurst = 4000;
  static_assert(kBurst + 1 < static_cast<int>(hbfence::HistoryRecorder::kMaxPending));
  ScratchDir dir;
  uint64_t dropped = 0;
  for (auto _ : state) {
    hbfence::HistoryRecorder recorder(dir.path, hbfence::kHistoryDefaultMaxBytes);
    recorder.StartRun(hbfence::WallTime(1795000000s), MonoTime(1000h), 50ms, 1);
    for (int i = 0; i < kBurst; ++i) recorder.Record("target-0", AWrite(i));
    if (!recorder.StopWithin(hbfence::WallTime(1795000000s), MonoTime(1000h), 10s, true)) state.SkipWithError("stuck");
    for (const auto& [target, d] : recorder.TakeDropped()) dropped += d.queue_full + d.write_error;
  }
  state.counters["dropped"] = static_cast<double>(dropped);
  state.SetItemsProcessed(state.iterations() * kBurst);
}
BENCHMARK(BM_HistoryRecordAndDrain)->MeasureProcessCPUTime()->UseRealTime();

// The upper bound of the history thread's work per record: encode and write(2) one
// 32-byte record on its own, the file kept open (no fdatasync: that runs every
// kHistorySyncInterval, not per record).
void BM_HistoryAppend(benchmark::State& state) {
  ScratchDir dir;
  hbfence::HistoryFileWriter writer(dir.path, "target-0", hbfence::kHistoryDefaultMaxBytes);
  int i = 0;
  for (auto _ : state) {
    const hbfence::HistoryRecord r = AWrite(i++);
    auto appended = writer.Append({&r, 1}, nullptr);
    benchmark::DoNotOptimize(appended);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HistoryAppend);

}  // namespace

BENCHMARK_MAIN();
