// SPDX-License-Identifier: Apache-2.0

#include "src/sys/io_worker.h"

#include <pthread.h>

namespace hbfence {

IoWorker::IoWorker(std::string thread_name, size_t max_pending) : max_pending_(max_pending) {
  // The thread holds its own reference: an abandoned thread outlives this object.
  thread_ = std::thread([shared = shared_, name = std::move(thread_name)] { Loop(shared, name); });
}

IoWorker::~IoWorker() {
  if (thread_.joinable()) StopWithin(Duration::zero());
}

bool IoWorker::Post(std::function<void()> call) {
  std::lock_guard lock(shared_->state.mu);
  if (shared_->state.stopping || shared_->calls.size() >= max_pending_) return false;
  shared_->calls.push_back(std::move(call));
  shared_->state.cv.notify_all();
  return true;
}

bool IoWorker::StopWithin(Duration wait) {
  if (!thread_.joinable()) return true;  // stopped before
  {
    std::lock_guard lock(shared_->state.mu);
    shared_->calls.clear();
  }
  return StopWorker(shared_->state, thread_, wait);
}

void IoWorker::Loop(const std::shared_ptr<Shared>& shared, const std::string& name) {
  // Linux limits thread names to 15 characters.
  pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
  WorkerState& state = shared->state;
  std::unique_lock lock(state.mu);
  for (;;) {
    state.cv.wait(lock, [&] { return state.stopping || !shared->calls.empty(); });
    if (state.stopping) return;
    auto call = std::move(shared->calls.front());
    shared->calls.pop_front();
    state.busy = true;
    lock.unlock();
    call();
    call = nullptr;  // what it captured goes before the lock is taken again
    lock.lock();
    state.busy = false;
    state.cv.notify_all();
  }
}

}  // namespace hbfence
