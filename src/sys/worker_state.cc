// SPDX-License-Identifier: Apache-2.0

#include "src/sys/worker_state.h"

namespace hbfence {

bool StopWorker(WorkerState& state, std::thread& thread, Duration wait) {
  std::unique_lock lock(state.mu);
  state.stopping = true;
  state.cv.notify_all();
  auto idle_now = [&] { return !state.busy; };
  // wait_for(Duration::max()) would overflow the deadline it computes.
  const bool idle = wait == Duration::max() ? (state.cv.wait(lock, idle_now), true)
                                            : state.cv.wait_for(lock, wait, idle_now);
  lock.unlock();
  if (idle) {
    thread.join();
  } else {
    thread.detach();
  }
  return idle;
}

}  // namespace hbfence
