// One writer thread per heartbeat target: at most one write in flight per target by
// construction, and a write stuck in the kernel blocks only its own thread.
// Results go to a CompletionQueue shared with the scheduler; both the queue and
// the thread's state are reference-counted, so a thread abandoned at shutdown (or
// when a reload drops its target) can never touch freed memory.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "src/sys/clock.h"
#include "storage/heartbeat_target.h"
#include "storage/peer_watch.h"

namespace hbfence {

struct WriteCompletion {
  uint64_t target_id;
  MonoTime started;   // the tick that asked for the write: timeouts and the lease count from here
  MonoTime began;     // when the writer thread began the syscalls: the latency metric counts from here
  MonoTime finished;
  WallTime content_time;
  WriteResult result;
};

struct PeerScanCompletion {
  uint64_t target_id;
  PeerScan scan;
};

// The scheduler's mailbox. Push() from writer threads; WaitUntil() from the
// scheduler thread; Wake() from anywhere (signals, reload, stop).
class CompletionQueue {
 public:
  void Push(WriteCompletion c);
  void PushPeerScan(PeerScanCompletion c);
  void Wake();
  // Returns when completions or peer scans are queued, Wake() was called, or the
  // deadline passed. Peer scans are then taken with TakePeerScans().
  std::vector<WriteCompletion> WaitUntil(MonoTime deadline);
  std::vector<PeerScanCompletion> TakePeerScans();

 private:
  void Notify(bool was_empty);

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<WriteCompletion> items_;
  std::vector<PeerScanCompletion> peer_scans_;
  bool woken_ = false;
};

class TargetWriter {
 public:
  TargetWriter(uint64_t target_id, std::unique_ptr<HeartbeatTarget> target, const Clock& clock,
               std::shared_ptr<CompletionQueue> queue);
  ~TargetWriter();
  TargetWriter(const TargetWriter&) = delete;
  TargetWriter& operator=(const TargetWriter&) = delete;

  // Starts one write. Precondition: the previous one completed (the scheduler's
  // HeartbeatState tracks that; a second request while busy is a bug and is dropped).
  void Start(WallTime content_time, MonoTime started);

  // Stops the thread: joins it when it is idle within `wait`, otherwise detaches it
  // (stuck in the kernel) and returns false.
  bool StopWithin(Duration wait);

 private:
  struct Shared;
  static void Loop(std::shared_ptr<Shared> shared);

  std::shared_ptr<Shared> shared_;
  std::thread thread_;
};

}  // namespace hbfence
