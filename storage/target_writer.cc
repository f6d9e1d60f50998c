#include "storage/target_writer.h"

#include <pthread.h>

#include <optional>

#include "storage/worker_state.h"

namespace hbfence {

void CompletionQueue::Push(WriteCompletion c) {
  bool was_empty;
  {
    std::lock_guard lock(mu_);
    was_empty = items_.empty() && peer_scans_.empty();
    items_.push_back(std::move(c));
  }
  Notify(was_empty);
}

void CompletionQueue::PushPeerScan(PeerScanCompletion c) {
  bool was_empty;
  {
    std::lock_guard lock(mu_);
    was_empty = items_.empty() && peer_scans_.empty();
    peer_scans_.push_back(std::move(c));
  }
  Notify(was_empty);
}

void CompletionQueue::Notify(bool was_empty) {
  // The scheduler takes everything queued when it wakes: only the first message of
  // a batch needs to wake it. Notifying after unlocking spares the woken thread
  // from blocking straight away on the mutex we still hold.
  if (was_empty) cv_.notify_one();
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

struct TargetWriter::Shared : WorkerState {
  Shared(uint64_t id, std::unique_ptr<HeartbeatTarget> t, const Clock& c, std::shared_ptr<CompletionQueue> q)
      : target_id(id), target(std::move(t)), clock(c), queue(std::move(q)) {}
  const uint64_t target_id;
  const std::unique_ptr<HeartbeatTarget> target;  // used by the writer thread only
  const Clock& clock;
  const std::shared_ptr<CompletionQueue> queue;

  struct Request {
    WallTime content_time;
    MonoTime started;
  };
  std::optional<Request> request;
};

TargetWriter::TargetWriter(uint64_t target_id, std::unique_ptr<HeartbeatTarget> target, const Clock& clock,
                           std::shared_ptr<CompletionQueue> queue)
    : shared_(std::make_shared<Shared>(target_id, std::move(target), clock, std::move(queue))),
      thread_(&TargetWriter::Loop, shared_) {}

TargetWriter::~TargetWriter() {
  if (thread_.joinable()) StopWithin(Duration::zero());
}

void TargetWriter::Start(WallTime content_time, MonoTime started) {
  {
    std::lock_guard lock(shared_->mu);
    if (shared_->busy || shared_->request) return;
    shared_->request = Shared::Request{content_time, started};
  }
  shared_->cv.notify_one();  // only the writer waits: StopWithin() runs on the scheduler thread, as Start() does
}

bool TargetWriter::StopWithin(Duration wait) { return StopWorker(*shared_, thread_, wait); }

void TargetWriter::Loop(std::shared_ptr<Shared> s) {
  pthread_setname_np(pthread_self(), "hbfence-writer");  // visible in top -H, ps -L
  std::unique_lock lock(s->mu);
  for (;;) {
    s->cv.wait(lock, [&] { return s->stopping || s->request; });
    if (s->stopping) return;
    const auto req = *s->request;
    s->request.reset();
    s->busy = true;
    lock.unlock();
    const MonoTime began = s->clock.Now();
    WriteResult result = s->target->Write(req.content_time);
    const MonoTime finished = s->clock.Now();
    // Idle before the scheduler can see the completion: once it has, a StopWithin()
    // must find this writer finished, not abandon it as stuck.
    lock.lock();
    s->busy = false;
    s->cv.notify_all();
    lock.unlock();
    s->queue->Push({s->target_id, req.started, began, finished, req.content_time, std::move(result)});
    lock.lock();
  }
}

}  // namespace hbfence
