// SPDX-License-Identifier: Apache-2.0

// Where heartbeat writes run (WritePool) and how their results reach the scheduler
// (CompletionQueue).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "src/sys/clock.h"
#include "storage/heartbeat_target.h"
#include "storage/peer_watch.h"

namespace hbfence {

struct WriteCompletion {
  uint64_t target_id;
  MonoTime started;   // the tick that asked for the write: timeouts and the lease count from here
  MonoTime began;     // when a pool thread began the syscalls: the latency metric counts from here
  MonoTime finished;
  WallTime content_time;
  WriteResult result;
};

struct PeerScanCompletion {
  uint64_t target_id;
  PeerScan scan;
};

// The scheduler's mailbox. Push() from pool threads; WaitUntil() from the
// scheduler thread; Wake() from anywhere (signals, reload, stop).
class CompletionQueue {
 public:
  // `wake`: whether the scheduler must see it now. Completions queued without
  // waking are taken at its next wake-up, which comes at the latest at the deadline
  // it is waiting for.
  void Push(WriteCompletion c, bool wake);
  void PushPeerScan(PeerScanCompletion c);
  void Wake();
  // Returns when completions or peer scans are queued, Wake() was called, or the
  // deadline passed. Peer scans are then taken with TakePeerScans().
  std::vector<WriteCompletion> WaitUntil(MonoTime deadline);
  std::vector<PeerScanCompletion> TakePeerScans();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<WriteCompletion> items_;
  std::vector<PeerScanCompletion> peer_scans_;
  bool woken_ = false;
};

// What the scheduler asks of the pool: one write of one target. The request holds
// the target, so a write still running when a reload drops its target stays valid.
struct WriteRequest {
  uint64_t target_id;
  std::shared_ptr<HeartbeatTarget> target;
  WallTime content_time;
  MonoTime started;
};

// Heartbeat writes run on a small pool of threads, a run of writes per thread.
// A thread wake-up costs more CPU than a heartbeat write on healthy storage, so
// the writes due at one tick are done in turn by one thread, and the scheduler is
// woken once, when the last is done. When one write has taken `slow_write`,
// Spread() gives every write still waiting behind it a thread of its own: a write
// stuck in the kernel then holds only its own thread, and delays the others of its
// run by about `slow_write`. Threads are created only when every existing one is
// busy, so there are at most as many as writes in flight (one per target), plus
// one; a thread idle for `retire_after` exits, except the last idle one.
//
// All members are called from the scheduler thread. The state the threads share is
// reference-counted, so a thread abandoned in the kernel never touches freed memory.
class WritePool {
 public:
  WritePool(const Clock& clock, std::shared_ptr<CompletionQueue> queue,
            Duration slow_write = std::chrono::milliseconds(2), Duration retire_after = std::chrono::seconds(10));
  ~WritePool();
  WritePool(const WritePool&) = delete;
  WritePool& operator=(const WritePool&) = delete;

  // Queues a run of writes, done in order by one thread. At most one write per
  // target may be in flight (the scheduler's HeartbeatState ensures it).
  void Submit(std::vector<WriteRequest> run);

  // Every write waiting behind one that began `slow_write` before `now` gets a
  // thread of its own. Returns when to call again: when the write under way in a
  // run with writes still waiting becomes slow; nothing when no run has any.
  std::optional<MonoTime> Spread(MonoTime now);

  // Stops every thread: joins the idle ones, waits up to `wait` for the busy ones,
  // then detaches those still stuck in the kernel and returns false.
  bool StopWithin(Duration wait);

  size_t threads() const;  // running, idle or stuck in a write

 private:
  struct Shared;
  void AddThreadsForWaitingRuns();  // with Shared::mu held
  static void Loop(std::shared_ptr<Shared> shared, size_t index);

  std::shared_ptr<Shared> shared_;
  std::vector<std::thread> threads_;  // by slot; a slot is free when not joinable
};

}  // namespace hbfence
