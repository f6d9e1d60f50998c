// SPDX-License-Identifier: Apache-2.0

#include "fence/fence_journal.h"

#include <spdlog/fmt/fmt.h>

namespace hbfence {

FenceJournal::FenceJournal() : io_("hbfence-journal") {}

Status FenceJournal::Append(const std::filesystem::path& path, const JournalEntry& entry, uint64_t rotate_bytes,
                            Duration wait) {
  auto appended = io_.Call<Status>([path, entry, rotate_bytes] { return AppendJournalEntry(path, entry, rotate_bytes); },
                                   wait);
  if (appended) return std::move(*appended);
  return Err{fmt::format("append to {} did not finish within {:g} s (the journal's filesystem is not answering, or "
                         "an earlier append is still stuck)",
                         path.string(), ToSeconds(wait))};
}

std::optional<JournalTail> FenceJournal::ReadTail(const std::filesystem::path& path, WallTime now, uint64_t max_bytes,
                                                  Duration wait) {
  return io_.Call<JournalTail>([path, now, max_bytes] { return ReadJournalTail(path, now, kJournalWindow, max_bytes); },
                               wait);
}

bool FenceJournal::ReadTailAsync(const std::filesystem::path& path, WallTime now, uint64_t max_bytes,
                                 std::function<void(JournalTail)> done) {
  return io_.Post([path, now, max_bytes, done = std::move(done)] {
    done(ReadJournalTail(path, now, kJournalWindow, max_bytes));
  });
}

}  // namespace hbfence
