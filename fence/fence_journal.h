// SPDX-License-Identifier: Apache-2.0

// The journal's own thread (see fence/journal.h for the format and the file).
#pragma once

#include <filesystem>
#include <functional>
#include <optional>

#include "fence/journal.h"
#include "src/sys/io_worker.h"

namespace hbfence {

// The journal's own thread: every journal call of the daemon runs there, so a
// journal on a hung filesystem holds that one thread and delays nothing else past
// a deadline. Safe from any thread.
class FenceJournal {
 public:
  FenceJournal();
  // AppendJournalEntry, waiting at most `wait`: the caller's action must not wait
  // for a hung disk. An append that times out still lands if the disk comes back.
  Status Append(const std::filesystem::path& path, const JournalEntry& entry, uint64_t rotate_bytes, Duration wait);
  // ReadJournalTail in the background; `done` runs on the journal thread. False
  // when it could not be queued.
  bool ReadTailAsync(const std::filesystem::path& path, WallTime now, uint64_t max_bytes,
                     std::function<void(JournalTail)> done);
  // ReadJournalTail, waiting at most `wait`: nullopt when it did not finish by then
  // (an append queued after it then waits its turn, within its own bound).
  std::optional<JournalTail> ReadTail(const std::filesystem::path& path, WallTime now, uint64_t max_bytes,
                                      Duration wait);
  bool StopWithin(Duration wait) { return io_.StopWithin(wait); }

 private:
  IoWorker io_;
};

}  // namespace hbfence
