// The fence journal: one JSON line per decision, appended and fsynced (file and
// directory) before any action runs, so the record survives the reboot it causes.
// Owned by the fence executor thread; ReadLast() is a free function used at start.
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
};

std::string ToJsonLine(const JournalEntry& e);                       // no trailing newline
std::optional<JournalEntry> ParseJsonLine(std::string_view line);    // our own format only

class Journal {
 public:
  explicit Journal(std::filesystem::path path) : path_(std::move(path)) {}
  // Creates the parent directory if needed, appends one line, fsyncs the file and
  // its directory. Returns only once the entry is durable, or with the error.
  Status Append(const JournalEntry& e);
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Every complete entry, oldest first; torn lines (a crash mid-append) are skipped.
std::vector<JournalEntry> ReadJournalEntries(const std::filesystem::path& path);

// The newest complete entry whose action acted on the host (log-only entries are
// records, not fences); a torn last line (crash mid-append) is skipped.
std::optional<JournalEntry> ReadLastFence(const std::filesystem::path& path);

}  // namespace hbfence
