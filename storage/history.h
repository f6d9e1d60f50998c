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
// The format (header, records, versions): storage/history_format.h.
#pragma once

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
#include "storage/history_format.h"

namespace hbfence {

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
  // Makes what was appended durable (fdatasync), reopening the file if need be.
  Status Sync();
  // The recorder closes its files after every drain: a descriptor left open on a
  // filesystem whose flush hangs (FUSE, NFS) would keep the process from exiting,
  // since the kernel flushes every open file on exit and cannot be interrupted there.
  void Close();

  std::filesystem::path path() const;
  // A reload's new bound; a smaller one takes effect at the next append (rotation).
  void set_max_bytes(uint64_t max_bytes);

 private:
  Status Open(std::string* notice);
  Status Rotate();

  std::filesystem::path dir_;
  std::string target_;
  uint64_t max_bytes_;
  int fd_ = -1;
  uint64_t size_ = 0;
  // The file as this writer last had it open: reopened unchanged (once a second), its
  // header and length need no second look.
  struct FileIdentity {
    uint64_t dev = 0, ino = 0;
    bool operator==(const FileIdentity&) const = default;
  };
  FileIdentity known_;
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
  static constexpr Duration kHistoryDrainPeriod = std::chrono::seconds(1);

  // An empty `dir` records nothing.
  HistoryRecorder(std::filesystem::path dir, uint64_t max_bytes);
  ~HistoryRecorder();

  // Where and how much; takes effect with the next records (a reload).
  void Configure(std::filesystem::path dir, uint64_t max_bytes);
  // A run began: every target's first record in this run is preceded by a kRun record.
  void StartRun(WallTime wall, MonoTime mono, Duration interval, uint16_t boot);
  void Record(const std::string& target, const HistoryRecord& record);
  // Hands what Record() queued to the writer thread, at most once per
  // kHistoryDrainPeriod: a thread wake-up costs more than many records, so records
  // wait in memory that long (a backlog of kMaxPending / 2 goes at once). Call on
  // every scheduler pass.
  void Flush(MonoTime now);

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
  MonoTime last_flush_{};
};

}  // namespace hbfence
