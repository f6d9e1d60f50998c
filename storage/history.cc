// SPDX-License-Identifier: Apache-2.0

#include "storage/history.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "src/sys/fs_util.h"

namespace hbfence {
namespace {

std::filesystem::path SegmentPath(const std::filesystem::path& dir, std::string_view target, bool previous) {
  return dir / (HistoryFileStem(target) + std::string(kHistorySuffix) + (previous ? ".1" : ""));
}

// Writes all of `data`, retrying short writes and EINTR.
Status WriteAll(int fd, std::span<const uint8_t> data, const std::filesystem::path& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Err{ErrnoMessage("write " + path.string(), errno)};
    data = data.subspan(static_cast<size_t>(n));
  }
  return OkStatus();
}

}  // namespace

TargetHistory LoadTargetHistory(const std::filesystem::path& dir, std::string_view target, uint64_t max_bytes) {
  TargetHistory history;
  history.target = std::string(target);
  for (const bool previous : {true, false}) {
    const auto path = SegmentPath(dir, target, previous);
    struct stat st{};
    if (::stat(path.c_str(), &st) != 0 && errno == ENOENT) continue;
    // A segment is at most max_bytes / 2, but a file written under a larger setting
    // is still read whole.
    auto text = ReadRegularFile(path, std::max<uint64_t>(max_bytes, kHistoryMaxMaxBytes));
    if (!text) {
      history.problems.push_back(text.error());
      continue;
    }
    const std::string& s = text.value();
    auto file = ParseHistoryFile({reinterpret_cast<const uint8_t*>(s.data()), s.size()});
    if (!file) {
      history.problems.push_back(path.string() + ": " + file.error());
      continue;
    }
    if (file.value().target != target) {
      history.problems.push_back(path.string() + ": holds the history of target \"" + file.value().target +
                                 "\", not \"" + std::string(target) + "\"; skipped");
      continue;
    }
    if (file.value().torn_tail_bytes) {
      history.problems.push_back(path.string() + ": torn tail of " + std::to_string(file.value().torn_tail_bytes) +
                                 " bytes ignored (a record cut short by a crash or a full disk)");
    }
    if (file.value().corrupt_records) {
      history.problems.push_back(path.string() + ": " + std::to_string(file.value().corrupt_records) +
                                 " damaged records skipped (checksum)");
    }
    auto& records = file.value().records;
    history.records.insert(history.records.end(), records.begin(), records.end());
  }
  return history;
}

HistoryFileWriter::HistoryFileWriter(std::filesystem::path dir, std::string target, uint64_t max_bytes)
    : dir_(std::move(dir)), target_(std::move(target)), max_bytes_(std::max(max_bytes, kHistoryMinMaxBytes)) {}

HistoryFileWriter::~HistoryFileWriter() { Close(); }

std::filesystem::path HistoryFileWriter::path() const { return SegmentPath(dir_, target_, false); }

void HistoryFileWriter::set_max_bytes(uint64_t max_bytes) { max_bytes_ = std::max(max_bytes, kHistoryMinMaxBytes); }

void HistoryFileWriter::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Status HistoryFileWriter::Open(std::string* notice) {
  const auto file = path();
  // O_NONBLOCK: a FIFO put where the file was fails (ENXIO) instead of blocking.
  constexpr int kFlags = O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK;
  int fd = ::open(file.c_str(), kFlags, 0640);
  if (fd < 0 && errno == ENOENT) {
    // Only then: the directories are there on every later open, once a second.
    if (int err = MakeDirectories(dir_, nullptr, 0750)) return Err{ErrnoMessage("mkdir " + dir_.string(), err)};
    fd = ::open(file.c_str(), kFlags, 0640);
  }
  if (fd < 0) return Err{ErrnoMessage("open " + file.string(), errno)};
  struct stat st{};
  const int err = ::fstat(fd, &st) != 0 ? errno : 0;  // errno alone may be left over from an earlier call
  if (err || !S_ISREG(st.st_mode)) {
    ::close(fd);
    if (err) return Err{ErrnoMessage("fstat " + file.string(), err)};
    return Err{file.string() + " is " + FileTypeName(st.st_mode) + ", not a regular file"};
  }
  uint64_t size = static_cast<uint64_t>(st.st_size);
  const FileIdentity identity{st.st_dev, st.st_ino};
  if (identity == known_ && size == size_) {
    // The file this writer left, as it left it: checked when it was first opened.
  } else if (size > 0) {
    std::array<uint8_t, kHistoryHeaderSize> header{};
    const ssize_t n = ::pread(fd, header.data(), header.size(), 0);
    if (n < 0) {
      // A read error says nothing about the file: keep it where it is.
      const int err = errno;
      ::close(fd);
      return Err{ErrnoMessage("read " + file.string(), err)};
    }
    auto parsed = ParseHistoryFile(std::span<const uint8_t>(header.data(), static_cast<size_t>(n)));
    if (!parsed || parsed.value().target != target_) {
      // Not ours to append to: keep it for a human, start afresh.
      ::close(fd);
      const std::string why = parsed ? "it holds target \"" + parsed.value().target + "\"" : parsed.error();
      auto aside = file;
      aside += ".unreadable";
      if (::rename(file.c_str(), aside.c_str()) != 0) return Err{ErrnoMessage("rename " + file.string(), errno)};
      if (notice) *notice = file.string() + ": " + why + "; moved aside to " + aside.string() + ", starting a new history";
      return Open(nullptr);
    }
    const uint64_t torn = (size - kHistoryHeaderSize) % kHistoryRecordSize;
    if (torn) {
      if (::ftruncate(fd, static_cast<off_t>(size - torn)) != 0) {
        const int err = errno;
        ::close(fd);
        return Err{ErrnoMessage("ftruncate " + file.string(), err)};
      }
      size -= torn;
      if (notice) *notice = file.string() + ": torn tail of " + std::to_string(torn) + " bytes cut (a crash or a full disk)";
    }
  } else {
    const auto header = EncodeHistoryHeader(target_, std::chrono::system_clock::now());
    if (auto written = WriteAll(fd, header, file); !written) {
      // A header cut short would make the file unreadable: leave it empty, or
      // moved aside on the next open if even that fails.
      if (::ftruncate(fd, 0) != 0) {
        // Nothing more to do here: the write error is the one to report.
      }
      ::close(fd);
      return written;
    }
    size = kHistoryHeaderSize;
    dirty_ = true;
  }
  fd_ = fd;
  size_ = size;
  known_ = identity;
  return OkStatus();
}

Status HistoryFileWriter::Rotate() {
  if (fd_ >= 0 && dirty_ && ::fdatasync(fd_) != 0) return Err{ErrnoMessage("fdatasync " + path().string(), errno)};
  Close();
  dirty_ = false;
  const auto current = path(), previous = SegmentPath(dir_, target_, true);
  if (::rename(current.c_str(), previous.c_str()) != 0) return Err{ErrnoMessage("rename " + current.string(), errno)};
  if (auto opened = Open(nullptr); !opened) return opened;
  if (!run_) return OkStatus();
  const auto rec = EncodeHistoryRecord(*run_);
  if (auto written = WriteAll(fd_, rec, path()); !written) {
    Close();
    return written;
  }
  size_ += rec.size();
  return OkStatus();
}

Status HistoryFileWriter::Append(std::span<const HistoryRecord> records, std::string* notice) {
  if (fd_ < 0) {
    if (auto opened = Open(notice); !opened) return opened;
  }
  std::vector<uint8_t> bytes;
  while (!records.empty()) {
    if (size_ + kHistoryRecordSize > max_bytes_ / 2) {
      if (auto rotated = Rotate(); !rotated) return rotated;
    }
    const size_t room = (max_bytes_ / 2 - size_) / kHistoryRecordSize;
    const auto chunk = records.first(std::min(room, records.size()));
    bytes.clear();
    for (const auto& r : chunk) {
      const auto rec = EncodeHistoryRecord(r);
      bytes.insert(bytes.end(), rec.begin(), rec.end());
    }
    if (auto written = WriteAll(fd_, bytes, path()); !written) {
      // A partial record would misalign everything after it: cut back to whole records.
      Close();
      return written;
    }
    // Only runs already in the file: a new segment starts with the run its next records belong to.
    for (const auto& r : chunk) {
      if (r.kind == HistoryKind::kRun) run_ = r;
    }
    size_ += bytes.size();
    dirty_ = true;
    records = records.subspan(chunk.size());
  }
  return OkStatus();
}

Status HistoryFileWriter::Sync() {
  if (!dirty_) return OkStatus();
  if (fd_ < 0) {
    if (auto opened = Open(nullptr); !opened) return opened;
  }
  if (::fdatasync(fd_) != 0) return Err{ErrnoMessage("fdatasync " + path().string(), errno)};
  dirty_ = false;
  return OkStatus();
}

HistoryRecorder::HistoryRecorder(std::filesystem::path dir, uint64_t max_bytes) {
  shared_->dir = std::move(dir);
  shared_->max_bytes = max_bytes;
}

HistoryRecorder::~HistoryRecorder() { io_.StopWithin(Duration::zero()); }

void HistoryRecorder::Configure(std::filesystem::path dir, uint64_t max_bytes) {
  std::lock_guard lock(shared_->mu);
  // Files in a new directory need this run's marker again.
  if (dir != shared_->dir) run_started_.clear();
  shared_->dir = std::move(dir);
  shared_->max_bytes = max_bytes;
}

void HistoryRecorder::StartRun(WallTime wall, MonoTime mono, Duration interval, uint16_t boot) {
  run_ = HistoryRecord{HistoryKind::kRun, wall, mono, interval, WriteError::kNone, boot};
  run_started_.clear();
}

void HistoryRecorder::QueueDrainLocked() {
  if (shared_->drain_queued) return;
  // The worker holds the drain in progress and at most one more: when it is stuck,
  // records wait in `pending` (bounded) and no further calls pile up.
  shared_->drain_queued = io_.Post([shared = shared_] { Drain(*shared, false); });
}

void HistoryRecorder::Record(const std::string& target, const HistoryRecord& record) {
  std::lock_guard lock(shared_->mu);
  if (shared_->dir.empty()) return;
  auto& started = run_started_[target];
  const size_t needed = started || !run_ ? 1 : 2;
  if (shared_->pending.size() + needed > kMaxPending) {
    ++shared_->dropped[target].queue_full;
    return;
  }
  if (!started && run_) shared_->pending.push_back({target, *run_});
  started = true;
  shared_->pending.push_back({target, record});
  if (shared_->pending.size() >= kMaxPending / 2) QueueDrainLocked();
}

void HistoryRecorder::Flush(MonoTime now) {
  if (now - last_flush_ < kHistoryDrainPeriod) return;
  last_flush_ = now;
  std::lock_guard lock(shared_->mu);
  if (!shared_->pending.empty()) QueueDrainLocked();
}

void HistoryRecorder::Drain(Shared& s, bool sync_now) {
  std::vector<Pending> batch;
  std::filesystem::path dir;
  uint64_t max_bytes;
  {
    std::lock_guard lock(s.mu);
    batch.swap(s.pending);
    s.drain_queued = false;
    dir = s.dir;
    max_bytes = s.max_bytes;
  }
  if (dir != s.open_dir) {
    s.writers.clear();
    s.open_dir = dir;
  }
  // Disabled by a reload with records still queued: they go with it (an empty
  // directory would be the working directory).
  if (dir.empty()) return;
  std::stable_sort(batch.begin(), batch.end(), [](const Pending& a, const Pending& b) { return a.target < b.target; });
  std::vector<HistoryRecord> records;
  for (size_t i = 0; i < batch.size();) {
    const std::string& target = batch[i].target;
    records.clear();
    for (; i < batch.size() && batch[i].target == target; ++i) records.push_back(batch[i].record);
    auto& writer = s.writers[target];
    if (!writer) writer = std::make_unique<HistoryFileWriter>(dir, target, max_bytes);
    writer->set_max_bytes(max_bytes);
    std::string notice;
    auto appended = writer->Append(records, &notice);
    std::lock_guard lock(s.mu);
    if (!notice.empty()) s.notices.push_back("history of target " + target + ": " + notice);
    auto& last = s.last_error[target];
    if (!appended) {
      s.dropped[target].write_error += records.size();
      if (last != appended.error()) s.notices.push_back("history of target " + target + ": " + appended.error() +
                                                         "; records are dropped and counted until it works");
      last = appended.error();
    } else if (!last.empty()) {
      s.notices.push_back("history of target " + target + ": writing again");
      last.clear();
    }
  }
  const auto now = std::chrono::steady_clock::now();
  if (sync_now || now - s.last_sync >= kHistorySyncInterval) {
    s.last_sync = now;
    for (auto& [target, writer] : s.writers) {
      if (auto synced = writer->Sync(); !synced) {
        std::lock_guard lock(s.mu);
        s.notices.push_back("history of target " + target + ": " + synced.error());
      }
    }
  }
  for (auto& [target, writer] : s.writers) writer->Close();
}

std::map<std::string, HistoryRecorder::Dropped> HistoryRecorder::TakeDropped() {
  std::lock_guard lock(shared_->mu);
  return std::exchange(shared_->dropped, {});
}

std::vector<std::string> HistoryRecorder::TakeNotices() {
  std::lock_guard lock(shared_->mu);
  return std::exchange(shared_->notices, {});
}

bool HistoryRecorder::StopWithin(WallTime wall, MonoTime mono, Duration wait, bool leases_end) {
  const auto deadline = std::chrono::steady_clock::now() + wait;
  {
    std::lock_guard lock(shared_->mu);
    if (!shared_->dir.empty() && leases_end) {
      for (const auto& [target, started] : run_started_) {
        // Past the bound if need be (one per target): without it replay would take
        // this clean stop for a crash and continue the leases.
        if (started) {
          shared_->pending.push_back({target, {HistoryKind::kStop, wall, mono, Duration::zero(), WriteError::kNone}});
        }
      }
    }
  }
  const auto flushed =
      io_.Call<bool>([shared = shared_] {
        Drain(*shared, true);
        return true;
      }, wait);
  const auto left = std::max(Duration::zero(), Duration(deadline - std::chrono::steady_clock::now()));
  return io_.StopWithin(left) && flushed.has_value();
}

}  // namespace hbfence
