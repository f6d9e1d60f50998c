#include "storage/peer_watcher.h"

#include <pthread.h>

#include <condition_variable>
#include <mutex>

namespace hbfence {

struct PeerWatcher::Shared {
  const uint64_t target_id;
  const std::filesystem::path dir;
  const std::string own_file_name;
  const std::shared_ptr<CompletionQueue> queue;

  std::mutex mu;
  std::condition_variable cv;
  bool requested = false;
  bool busy = false;
  bool stopping = false;
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

bool PeerWatcher::StopWithin(Duration wait) {
  std::unique_lock lock(shared_->mu);
  shared_->stopping = true;
  shared_->cv.notify_all();
  const bool idle = shared_->cv.wait_for(lock, wait, [&] { return !shared_->busy; });
  lock.unlock();
  if (idle) {
    thread_.join();
  } else {
    thread_.detach();
  }
  return idle;
}

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
