// SPDX-License-Identifier: Apache-2.0

// Reads the other hosts' heartbeats (peer_watch) on a thread of its own, so a slow
// or hung listing of the pool directory never delays this host's own writes. Scans
// are best effort: a request while one is running is dropped, and a scan stuck in
// the kernel only stops new scans (the ages it feeds then keep growing).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "src/sys/time.h"
#include "storage/write_pool.h"

namespace hbfence {

class PeerWatcher {
 public:
  // Results go to `queue` as PeerScanCompletion{target_id, ...}.
  PeerWatcher(uint64_t target_id, std::filesystem::path dir, std::string own_file_name,
              std::shared_ptr<CompletionQueue> queue);
  ~PeerWatcher();
  PeerWatcher(const PeerWatcher&) = delete;
  PeerWatcher& operator=(const PeerWatcher&) = delete;

  void RequestScan();
  // Joins the thread when it is idle within `wait`, else detaches it.
  bool StopWithin(Duration wait);

 private:
  struct Shared;
  static void Loop(std::shared_ptr<Shared> shared);

  std::shared_ptr<Shared> shared_;
  std::thread thread_;
};

}  // namespace hbfence
