// SPDX-License-Identifier: Apache-2.0

#include "storage/write_pool.h"

#include <pthread.h>

#include <algorithm>
#include <functional>
#include <list>

namespace hbfence {

// Notifying after unlocking spares the woken scheduler from blocking straight away
// on the mutex still held.
void CompletionQueue::Push(WriteCompletion c, bool wake) {
  {
    std::lock_guard lock(mu_);
    items_.push_back(std::move(c));
  }
  if (wake) cv_.notify_one();
}

void CompletionQueue::PushPeerScan(PeerScanCompletion c) {
  {
    std::lock_guard lock(mu_);
    peer_scans_.push_back(std::move(c));
  }
  cv_.notify_one();
}

std::vector<PeerScanCompletion> CompletionQueue::TakePeerScans() {
  std::lock_guard lock(mu_);
  std::vector<PeerScanCompletion> out;
  out.swap(peer_scans_);
  return out;
}

void CompletionQueue::Wake() {
  std::lock_guard lock(mu_);
  woken_ = true;
  cv_.notify_all();
}

std::vector<WriteCompletion> CompletionQueue::WaitUntil(MonoTime deadline) {
  std::unique_lock lock(mu_);
  cv_.wait_until(lock, deadline, [&] { return woken_ || !items_.empty() || !peer_scans_.empty(); });
  woken_ = false;
  std::vector<WriteCompletion> out;
  out.swap(items_);
  return out;
}

struct WritePool::Shared {
  Shared(const Clock& c, std::shared_ptr<CompletionQueue> q, Duration s, Duration r)
      : clock(c), queue(std::move(q)), slow_write(s), retire_after(r) {}
  const Clock& clock;
  const std::shared_ptr<CompletionQueue> queue;
  const Duration slow_write;
  const Duration retire_after;

  struct Run {
    std::vector<WriteRequest> writes;
    size_t next = 0;  // writes before it have been taken
    // When the write under way began. A running run is always in a write when the
    // lock is free: its thread goes from one write to the next without releasing it.
    MonoTime write_began;
    bool done() const { return next == writes.size(); }
  };
  std::mutex mu;  // guards the members below
  std::condition_variable work;   // a run is waiting, or stopping
  std::condition_variable idle;   // a thread left a write
  std::deque<Run> waiting;        // not taken by a thread yet
  std::list<Run> running;         // the rest of each run a thread is working through
  std::vector<bool> in_write;     // per thread slot: inside HeartbeatTarget::Write()
  std::vector<bool> retired;      // per thread slot: returned, to be joined
  size_t idle_threads = 0;        // waiting for a run
  bool stopping = false;
};

WritePool::WritePool(const Clock& clock, std::shared_ptr<CompletionQueue> queue, Duration slow_write,
                     Duration retire_after)
    : shared_(std::make_shared<Shared>(clock, std::move(queue), slow_write, retire_after)) {}

WritePool::~WritePool() { StopWithin(Duration::zero()); }

size_t WritePool::threads() const {
  std::lock_guard lock(shared_->mu);
  size_t n = 0;
  for (size_t i = 0; i < threads_.size(); ++i) n += threads_[i].joinable() && !shared_->retired[i];
  return n;
}

void WritePool::AddThreadsForWaitingRuns() {
  auto& s = *shared_;
  // A retired thread has left the lock for good: joining it here waits only for its exit.
  for (size_t i = 0; i < threads_.size(); ++i) {
    if (s.retired[i]) {
      threads_[i].join();
      s.retired[i] = false;
    }
  }
  while (s.waiting.size() > s.idle_threads) {
    size_t slot = 0;
    while (slot < threads_.size() && threads_[slot].joinable()) ++slot;
    if (slot == threads_.size()) {
      threads_.emplace_back();
      s.in_write.push_back(false);
      s.retired.push_back(false);
    }
    ++s.idle_threads;  // counted idle until it takes a run, so one thread per waiting run
    threads_[slot] = std::thread(&WritePool::Loop, shared_, slot);
  }
}

void WritePool::Submit(std::vector<WriteRequest> run) {
  if (run.empty()) return;
  {
    std::lock_guard lock(shared_->mu);
    shared_->waiting.push_back({std::move(run)});
    AddThreadsForWaitingRuns();
  }
  shared_->work.notify_one();
}

std::optional<MonoTime> WritePool::Spread(MonoTime now) {
  std::optional<MonoTime> look_again;
  auto at_the_latest = [&](MonoTime t) { look_again = std::min(look_again.value_or(t), t); };
  {
    std::lock_guard lock(shared_->mu);
    auto& s = *shared_;
    // A run no thread has taken yet may still start with a write that hangs.
    for (const auto& run : s.waiting) {
      if (run.writes.size() - run.next > 1) at_the_latest(now + s.slow_write);
    }
    for (auto& run : s.running) {
      if (run.done()) continue;
      if (now - run.write_began < s.slow_write) {
        at_the_latest(run.write_began + s.slow_write);
      } else {
        for (; !run.done(); ++run.next) s.waiting.push_back({{std::move(run.writes[run.next])}});
      }
    }
    if (s.waiting.empty()) return look_again;
    AddThreadsForWaitingRuns();
  }
  shared_->work.notify_all();
  return look_again;
}

bool WritePool::StopWithin(Duration wait) {
  std::unique_lock lock(shared_->mu);
  shared_->stopping = true;
  shared_->work.notify_all();
  auto none_in_write = [&] { return std::none_of(shared_->in_write.begin(), shared_->in_write.end(), std::identity{}); };
  const bool clean = shared_->idle.wait_for(lock, wait, none_in_write);
  // A thread outside a write sees `stopping` before it could begin another: joining
  // it cannot wait on the kernel.
  const std::vector<bool> stuck = shared_->in_write;
  lock.unlock();
  for (size_t i = 0; i < threads_.size(); ++i) {
    if (!threads_[i].joinable()) continue;
    if (stuck[i]) {
      threads_[i].detach();
    } else {
      threads_[i].join();
    }
  }
  threads_.clear();
  return clean;
}

void WritePool::Loop(std::shared_ptr<Shared> s, size_t index) {
  pthread_setname_np(pthread_self(), "hbfence-writer");  // visible in top -H, ps -L
  std::unique_lock lock(s->mu);
  for (;;) {
    const bool work = s->work.wait_for(lock, s->retire_after, [&] { return s->stopping || !s->waiting.empty(); });
    if (s->stopping) return;
    if (!work) {
      // Threads started for a slow or hung spell are not kept once it is over; one
      // stays for the next tick.
      if (s->idle_threads > 1) {
        --s->idle_threads;
        s->retired[index] = true;
        return;
      }
      continue;
    }
    --s->idle_threads;
    auto run = s->running.insert(s->running.end(), std::move(s->waiting.front()));
    s->waiting.pop_front();
    for (bool last = false; !last;) {
      const WriteRequest request = std::move(run->writes[run->next++]);
      const MonoTime began = s->clock.Now();
      s->in_write[index] = true;
      run->write_began = began;
      lock.unlock();
      WriteResult result = request.target->Write(request.content_time);
      const MonoTime finished = s->clock.Now();
      lock.lock();
      s->in_write[index] = false;
      s->idle.notify_all();
      // The scheduler is woken once per run, by its last write (or the last before
      // Spread() took the rest away). The thread counts as idle before that wake-up,
      // so the scheduler's next run finds it instead of starting another thread.
      // Pushed with the lock held: Spread() must not empty the run between this
      // verdict and taking its next write.
      last = run->done() || s->stopping;
      if (last) {
        s->running.erase(run);
        ++s->idle_threads;
      }
      s->queue->Push({request.target_id, request.started, began, finished, request.content_time, std::move(result)},
                     last);
    }
  }
}

}  // namespace hbfence
