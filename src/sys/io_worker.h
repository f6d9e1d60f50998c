// SPDX-License-Identifier: Apache-2.0

// A thread for calls that may block in the kernel. Every local path can hang (a
// journal on a dead disk, a config replaced by a FIFO, a state directory on FUSE),
// so whoever cannot afford to wait forever hands the call to an IoWorker and waits
// at most a deadline for it.
//
// Calls run one at a time, in order. A call that hangs holds only this thread; the
// calls behind it wait their turn (at most `max_pending` of them: after that Post()
// refuses at once), so a hung path costs one thread, never one per attempt.
//
// Thread-safety: every member is safe from any thread. The destructor stops the
// thread when idle and abandons it (detached, with the state it shares) when a call
// is stuck, so an owner never waits on the kernel either.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "src/sys/time.h"
#include "src/sys/worker_state.h"

namespace hbfence {

class IoWorker {
 public:
  explicit IoWorker(std::string thread_name, size_t max_pending = 16);
  ~IoWorker();
  IoWorker(const IoWorker&) = delete;
  IoWorker& operator=(const IoWorker&) = delete;

  // Queues `call` and returns at once; false when `max_pending` calls already wait
  // (the thread is stuck) or the worker is stopping.
  bool Post(std::function<void()> call);

  // Runs `call` on the worker and waits at most `wait` for its result: nullopt when
  // it has not finished by then (it may still run later) or could not be queued.
  template <typename T>
  std::optional<T> Call(std::function<T()> call, Duration wait);

  // Stops the thread: joins it when idle within `wait`, otherwise abandons it.
  // Returns whether it was idle. Calls still queued are dropped. Idempotent.
  bool StopWithin(Duration wait);

 private:
  struct Shared {
    WorkerState state;  // its mutex also guards `calls`
    std::deque<std::function<void()>> calls;
  };
  static void Loop(const std::shared_ptr<Shared>& shared, const std::string& name);

  size_t max_pending_;
  std::shared_ptr<Shared> shared_ = std::make_shared<Shared>();
  std::thread thread_;
};

// One call on a thread of its own, waited for at most `wait`; a call that does not
// finish is abandoned with its thread.
template <typename T>
std::optional<T> CallWithin(std::string thread_name, std::function<T()> call, Duration wait) {
  IoWorker worker(std::move(thread_name), 1);
  return worker.Call(std::move(call), wait);
}

template <typename T>
std::optional<T> IoWorker::Call(std::function<T()> call, Duration wait) {
  // Shared with the call, which may finish after this function has given up.
  struct Box {
    std::mutex mu;
    std::condition_variable done;
    std::optional<T> value;
  };
  auto box = std::make_shared<Box>();
  const bool queued = Post([box, call = std::move(call)] {
    T value = call();
    std::lock_guard lock(box->mu);
    box->value = std::move(value);
    box->done.notify_all();
  });
  if (!queued) return std::nullopt;
  std::unique_lock lock(box->mu);
  auto finished = [&] { return box->value.has_value(); };
  // wait_for(Duration::max()) would overflow the deadline it computes.
  if (wait == Duration::max()) {
    box->done.wait(lock, finished);
  } else if (!box->done.wait_for(lock, wait, finished)) {
    return std::nullopt;
  }
  return std::move(box->value);
}

}  // namespace hbfence
