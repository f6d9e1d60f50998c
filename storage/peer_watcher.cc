// SPDX-License-Identifier: Apache-2.0

#include "storage/peer_watcher.h"

#include <pthread.h>

#include "src/sys/worker_state.h"

namespace hbfence {

struct PeerWatcher::Shared : WorkerState {
  Shared(uint64_t id, std::filesystem::path d, std::string own, std::shared_ptr<CompletionQueue> q)
      : target_id(id), dir(std::move(d)), own_file_name(std::move(own)), queue(std::move(q)) {}
  const uint64_t target_id;
  const std::filesystem::path dir;
  const std::string own_file_name;
  const std::shared_ptr<CompletionQueue> queue;

  bool requested = false;
};

PeerWatcher::PeerWatcher(uint64_t target_id, std::filesystem::path dir, std::string own_file_name,
                         std::shared_ptr<CompletionQueue> queue)
    : shared_(std::make_shared<Shared>(target_id, std::move(dir), std::move(own_file_name), std::move(queue))),
      thread_(&PeerWatcher::Loop, shared_) {}

PeerWatcher::~PeerWatcher() {
  if (thread_.joinable()) StopWithin(Duration::zero());
}

void PeerWatcher::RequestScan() {
  {
    std::lock_guard lock(shared_->mu);
    if (shared_->busy || shared_->requested) return;
    shared_->requested = true;
  }
  shared_->cv.notify_one();
}

bool PeerWatcher::StopWithin(Duration wait) { return StopWorker(*shared_, thread_, wait); }

void PeerWatcher::Loop(std::shared_ptr<Shared> s) {
  pthread_setname_np(pthread_self(), "hbfence-peers");
  std::unique_lock lock(s->mu);
  for (;;) {
    s->cv.wait(lock, [&] { return s->stopping || s->requested; });
    if (s->stopping) return;
    s->requested = false;
    s->busy = true;
    lock.unlock();
    PeerScan scan = ReadPeerHeartbeats(s->dir, s->own_file_name);
    s->queue->PushPeerScan({s->target_id, std::move(scan)});
    lock.lock();
    s->busy = false;
    s->cv.notify_all();
  }
}

}  // namespace hbfence
