#include "storage/worker_state.h"

namespace hbfence {

bool StopWorker(WorkerState& state, std::thread& thread, Duration wait) {
  std::unique_lock lock(state.mu);
  state.stopping = true;
  state.cv.notify_all();
  const bool idle = state.cv.wait_for(lock, wait, [&] { return !state.busy; });
  lock.unlock();
  if (idle) {
    thread.join();
  } else {
    thread.detach();
  }
  return idle;
}

}  // namespace hbfence
