// What a thread that may block in the kernel (a heartbeat write, a peer scan)
// shares with its owner, and the one way the owner stops it: without ever waiting
// on the kernel.
#pragma once

#include <condition_variable>
#include <mutex>
#include <thread>

#include "src/sys/time.h"

namespace hbfence {

struct WorkerState {
  std::mutex mu;
  std::condition_variable cv;
  bool busy = false;  // inside the blocking call
  bool stopping = false;
};

// Asks the thread to stop; joins it when it is idle within `wait`, otherwise
// detaches it (its state must be reference-counted so it outlives the owner).
// Returns whether it was idle.
bool StopWorker(WorkerState& state, std::thread& thread, Duration wait);

}  // namespace hbfence
