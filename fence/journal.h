// SPDX-License-Identifier: Apache-2.0

// The fence journal: one JSON line per decision, appended and fsynced (file and
// directory) before any action runs, so the record survives the reboot it causes,
// but never waited for longer than a deadline: a hung journal disk must not delay
// the fence. The daemon reads only its tail, at start.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "src/sys/result.h"
#include "src/sys/time.h"

namespace hbfence {

struct JournalEntry {
  WallTime time;
  std::string host;
  std::string action;  // canonical action name
  std::string policy;
  std::vector<std::string> failed_targets;
  std::string reason;
  // destroy-vms records: the domains ("name uuid") and the steps so far. Written only
  // when not empty, so other entries read as before.
  std::vector<std::string> domains;
  std::vector<std::string> steps;
};

std::string ToJsonLine(const JournalEntry& e);                       // no trailing newline
std::optional<JournalEntry> ParseJsonLine(std::string_view line);    // our own format only

// How far back the journal is read: the hourly limits need no more.
inline constexpr Duration kJournalWindow = std::chrono::hours(1);

// Appends one line durably: creates the parent directory if needed, renames a
// journal of `rotate_bytes` or more to `<path>.1` first (replacing the previous
// one), writes, fdatasyncs the file and fsyncs its directory. Refuses anything but
// a regular file at `path` (a FIFO would block the write). Blocking: the daemon
// runs it on FenceJournal's thread.
Status AppendJournalEntry(const std::filesystem::path& path, const JournalEntry& entry, uint64_t rotate_bytes);

// What the daemon needs from the journal at start: the entries the hourly limits
// count and the newest fence. An entry dated after `now` counts for neither: the
// clock was stepped back after it was written, and such an entry must never keep
// the host from being fenced.
struct JournalTail {
  std::vector<JournalEntry> recent;          // dated within `window` before now, oldest first
  std::optional<JournalEntry> last_fence;    // newest non-log-only entry not dated after now
  size_t future_entries = 0;                 // entries dated after now, ignored
  std::string problem;                       // what could not be read; empty when all was
};

// Reads at most the last `max_bytes` of the journal, and as much of `<path>.1` when
// the window or the newest fence may lie there: never a whole journal, however
// large it grew. A missing journal is not a problem.
JournalTail ReadJournalTail(const std::filesystem::path& path, WallTime now, Duration window, uint64_t max_bytes);

// The complete entries in `text`, oldest first. `starts_mid_line`: `text` is the
// tail of a larger file, so its first line may be cut and is skipped. Torn and
// foreign lines are skipped.
std::vector<JournalEntry> ParseJournalText(std::string_view text, bool starts_mid_line);

// Sorts `entries` (oldest first) into a JournalTail for `now`.
JournalTail SummarizeJournal(std::vector<JournalEntry> entries, WallTime now, Duration window);

// Every complete entry, oldest first. Reads the whole file: for tests and tools,
// never the daemon.
std::vector<JournalEntry> ReadJournalEntries(const std::filesystem::path& path);

}  // namespace hbfence
