// SPDX-License-Identifier: Apache-2.0

// What a thread that may block (a peer scan in the kernel, a fence action) shares
// with its owner, and the one way the owner stops it: waiting at most as long as
// the owner says.
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

// Asks the thread to stop; joins it when it is idle within `wait` (Duration::max():
// however long it takes), otherwise detaches it (then its state must outlive the
// owner). Returns whether it was idle.
bool StopWorker(WorkerState& state, std::thread& thread, Duration wait);

}  // namespace hbfence
