// SPDX-License-Identifier: Apache-2.0

// The write history: every heartbeat attempt per target, kept in a compact local
// file so `hbfence replay` and `hbfence advise` can ask what other settings would
// have done with this host's real storage (fence/replay.h).
//
// One file per target, <dir>/<HistoryFileStem(name)>.hbh, and its previous segment
// <…>.hbh.1: when the current one would pass max_bytes / 2 it becomes the previous
// one (rename), so the pair never exceeds max_bytes and always keeps at least the
// newest max_bytes / 2. Append-only, fixed-size records, fdatasync every
// kHistorySyncInterval (not per write): a crash loses at most that much, and a torn
// last record is dropped on the next open (and reported by readers).
//
// Layout, little-endian, format version 1:
//   header, 256 bytes
//     0   8  magic "hbfhist\0"
//     8   4  u32 format version (1)
//    12   4  u32 header size (256)
//    16   4  u32 record size (32)
//    20   4  u32 target name length (at most 128)
//    24   8  i64 created, Unix nanoseconds
//    32 128  target name, zero-padded
//   160  92  zero
//   252   4  u32 CRC32C of bytes 0..251
//   records, 32 bytes each
//     0   8  i64 wall: Unix nanoseconds         (see HistoryKind for what each field is)
//     8   8  i64 mono: CLOCK_MONOTONIC nanoseconds
//    16   8  i64 value: nanoseconds
//    24   1  u8  kind (HistoryKind)
//    25   1  u8  write error (WriteError; 0 none)
//    26   2  zero
//    28   4  u32 CRC32C of bytes 0..27
// 14 days at a 5 s interval are 241,920 writes, 7.7 MB: the default max_bytes
// (16 MiB) keeps at least 8 MiB, 15 days.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "src/sys/io_worker.h"
#include "src/sys/result.h"
#include "src/sys/time.h"
#include "storage/write_result.h"

namespace hbfence {

inline constexpr uint32_t kHistoryVersion = 1;
inline constexpr size_t kHistoryHeaderSize = 256;
inline constexpr size_t kHistoryRecordSize = 32;
inline constexpr size_t kHistoryMaxName = 128;
inline constexpr uint64_t kHistoryDefaultMaxBytes = 16ull << 20;
inline constexpr uint64_t kHistoryMinMaxBytes = 2 * (kHistoryHeaderSize + 64 * kHistoryRecordSize);
inline constexpr uint64_t kHistoryMaxMaxBytes = 1ull << 30;  // replay reads a history whole
inline constexpr Duration kHistorySyncInterval = std::chrono::seconds(10);
inline constexpr std::string_view kHistorySuffix = ".hbh";

enum class HistoryKind : uint8_t {
  // A daemon run began: wall and mono are the run's anchor (one per process, the same
  // in every target's file), value its heartbeat interval.
  kRun = 1,
  // A write completed: wall and mono are its tick (where the lease counts from),
  // value how long it took to complete, error its result.
  kWrite = 2,
  // A tick found the write still outstanding past its timeout (a failed attempt):
  // wall and mono are the write's tick, value how long it had been running.
  kStuck = 3,
  // The daemon stopped cleanly and ended its leases, so the next start begins afresh
  // (a crash, or a stop with a decision standing, leaves none): wall and mono are the moment.
  kStop = 4,
};

struct HistoryRecord {
  HistoryKind kind = HistoryKind::kWrite;
  WallTime wall{};
  MonoTime mono{};
  Duration value{};
  WriteError error = WriteError::kNone;

  bool operator==(const HistoryRecord&) const = default;
};

std::array<uint8_t, kHistoryRecordSize> EncodeHistoryRecord(const HistoryRecord& r);
std::array<uint8_t, kHistoryHeaderSize> EncodeHistoryHeader(std::string_view target, WallTime created);

// One file's contents. A file that is not a history (magic), of another format
// version, or with a damaged header is an error that says which; damaged records
// and a torn tail are skipped and counted, never guessed at.
struct HistoryFile {
  std::string target;
  WallTime created{};
  std::vector<HistoryRecord> records;
  size_t torn_tail_bytes = 0;  // a record cut short by a crash or a full disk
  size_t corrupt_records = 0;  // checksum mismatch or an unknown kind
};
Result<HistoryFile, std::string> ParseHistoryFile(std::span<const uint8_t> bytes);

// The file name stem for a target: its name when that is a plain file name of at most
// 64 bytes ([A-Za-z0-9._-], not starting with '.'), else a cleaned prefix and the
// name's CRC32C ("my_pool-1a2b3c4d"). Names stay unique per config either way: the
// header holds the whole name, and readers check it.
std::string HistoryFileStem(std::string_view target);

// Both segments of one target's history (previous first), read with a size bound and
// O_NONBLOCK (src/sys/fs_util.h). Missing files are an empty history. Problems
// (unreadable segment, torn tail, damaged records, another target's file) are
// returned as lines for the reader to show, with what could be read.
struct TargetHistory {
  std::string target;
  std::vector<HistoryRecord> records;
  std::vector<std::string> problems;
};
TargetHistory LoadTargetHistory(const std::filesystem::path& dir, std::string_view target, uint64_t max_bytes);

// Appends to one target's history files. Not thread-safe: the recorder's thread owns
// it. Every call may block on a hung disk, which is why only that thread calls.
class HistoryFileWriter {
 public:
  HistoryFileWriter(std::filesystem::path dir, std::string target, uint64_t max_bytes);
  ~HistoryFileWriter();
  HistoryFileWriter(const HistoryFileWriter&) = delete;
  HistoryFileWriter& operator=(const HistoryFileWriter&) = delete;

  // Opens on first use (a torn tail is cut, a file of another format is moved aside
  // to <file>.unreadable), rotates at max_bytes / 2. `notice` receives what an
  // operator should hear about (the torn tail, the file moved aside).
  Status Append(std::span<const HistoryRecord> records, std::string* notice);
  Status Sync();

  std::filesystem::path path() const;

 private:
  Status Open(std::string* notice);
  Status Rotate();
  void Close();

  std::filesystem::path dir_;
  std::string target_;
  uint64_t max_bytes_;
  int fd_ = -1;
  uint64_t size_ = 0;
  bool dirty_ = false;
  // The newest kRun record appended: a new segment starts with it, so the previous
  // segment's removal never leaves records whose run nobody can tell.
  std::optional<HistoryRecord> run_;
};

// Records from the scheduler thread, writes on a thread of its own. Record() never
// blocks on I/O: when the thread is stuck (a hung or slow local disk) records wait in
// memory, at most kMaxPending of them, and past that are dropped and counted. Records
// that cannot be written (a full disk) are dropped and counted too.
//
// Thread-safety: every member is safe from any thread; the scheduler is the one caller.
class HistoryRecorder {
 public:
  static constexpr size_t kMaxPending = 4096;

  // An empty `dir` records nothing.
  HistoryRecorder(std::filesystem::path dir, uint64_t max_bytes);
  ~HistoryRecorder();

  // Where and how much; takes effect with the next records (a reload).
  void Configure(std::filesystem::path dir, uint64_t max_bytes);
  // A run began: every target's first record in this run is preceded by a kRun record.
  void StartRun(WallTime wall, MonoTime mono, Duration interval);
  void Record(const std::string& target, const HistoryRecord& record);

  struct Dropped {
    uint64_t queue_full = 0;   // the writer thread was stuck or slow
    uint64_t write_error = 0;  // the write failed (full disk, I/O error)
  };
  // What was dropped per target since the last call.
  std::map<std::string, Dropped> TakeDropped();
  // Lines an operator should read (write errors, torn tails), once each change.
  std::vector<std::string> TakeNotices();

  // Writes and syncs everything, after a kStop record for every target of this run
  // when `leases_end` (the daemon cleared its lease record), and stops the thread;
  // waits at most `wait`, abandoning a stuck thread. False when it was stuck.
  bool StopWithin(WallTime wall, MonoTime mono, Duration wait, bool leases_end);

 private:
  struct Pending {
    std::string target;
    HistoryRecord record;
  };
  // Shared with the writer thread, which may outlive the recorder when abandoned.
  struct Shared {
    std::mutex mu;  // guards everything below but `writers`
    std::filesystem::path dir;
    uint64_t max_bytes;
    std::vector<Pending> pending;
    bool drain_queued = false;
    std::map<std::string, Dropped> dropped;
    std::vector<std::string> notices;
    std::map<std::string, std::string> last_error;  // per target, so each error is told once
    // The writer thread's own.
    std::filesystem::path open_dir;
    std::map<std::string, std::unique_ptr<HistoryFileWriter>> writers;
    MonoTime last_sync{};
  };
  static void Drain(Shared& s, bool sync_now);
  void QueueDrainLocked();

  std::shared_ptr<Shared> shared_ = std::make_shared<Shared>();
  IoWorker io_{"hb-history", 2};
  // Scheduler thread only.
  std::optional<HistoryRecord> run_;
  std::map<std::string, bool, std::less<>> run_started_;  // targets that have this run's kRun record
};

}  // namespace hbfence
