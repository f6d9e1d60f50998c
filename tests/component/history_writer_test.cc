// SPDX-License-Identifier: Apache-2.0

// The write history's files on real directories (storage/history.h): what
// HistoryFileWriter appends, LoadTargetHistory reads back; the size bound holds;
// torn, foreign and non-regular files are dealt with; HistoryRecorder drops and
// counts on a full disk (a real tmpfs of 16 KiB) and resumes when space is back.
#include "storage/history.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "storage/byte_order.h"
#include "tests/support/temp_dir.h"

namespace hbfence {
namespace {

using namespace std::chrono_literals;
using testing::AppendFile;
using testing::ReadAll;
using testing::TempDir;
using testing::WriteFile;

HistoryRecord Write(int i) {
  return {HistoryKind::kWrite, WallTime(1795000000s + i * 1s), MonoTime(100s + i * 1s), Duration(i), WriteError::kNone};
}

std::vector<HistoryRecord> Writes(int from, int to) {
  std::vector<HistoryRecord> out;
  for (int i = from; i < to; ++i) out.push_back(Write(i));
  return out;
}

uint64_t SizeOr0(const std::filesystem::path& p) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(p, ec);
  return ec ? 0 : size;
}

std::string Joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

// Polls `pred` until it holds (bounded): the recorder's thread has no completion
// event a test could wait on other than its effects.
// Hands the queued records to the writer thread now, whatever the cadence.
void FlushNow(HistoryRecorder& recorder) {
  static int calls = 0;
  recorder.Flush(MonoTime(std::chrono::hours(++calls)));
}

bool WaitUntil(const std::function<bool()>& pred, Duration timeout = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

TEST(HistoryFileWriterTest, AppendedRecordsLoadBack) {
  TempDir dir;
  const auto hist = dir / "history";  // created on first use
  {
    HistoryFileWriter w(hist, "pool", kHistoryDefaultMaxBytes);
    std::string notice;
    ASSERT_TRUE(w.Append(Writes(0, 3), &notice).ok());
    ASSERT_TRUE(w.Append(Writes(3, 5), &notice).ok());
    ASSERT_TRUE(w.Sync().ok());
    EXPECT_EQ(notice, "");
    EXPECT_EQ(w.path(), hist / "pool.hbh");
  }
  EXPECT_EQ(SizeOr0(hist / "pool.hbh"), kHistoryHeaderSize + 5 * kHistoryRecordSize);
  const auto loaded = LoadTargetHistory(hist, "pool", kHistoryDefaultMaxBytes);
  EXPECT_EQ(loaded.records, Writes(0, 5));
  EXPECT_TRUE(loaded.problems.empty()) << Joined(loaded.problems);
  EXPECT_TRUE(LoadTargetHistory(hist, "other", kHistoryDefaultMaxBytes).records.empty());
}

TEST(HistoryFileWriterTest, TwoSegmentsStayWithinMaxBytesAndKeepTheNewest) {
  TempDir dir;
  const uint64_t max_bytes = kHistoryMinMaxBytes;
  HistoryFileWriter w(dir.path(), "pool", max_bytes);
  const auto current = dir / "pool.hbh", previous = dir / "pool.hbh.1";
  constexpr int kRecords = 1000;  // several rotations
  for (int i = 0; i < kRecords; i += 7) {
    ASSERT_TRUE(w.Append(Writes(i, std::min(i + 7, kRecords)), nullptr).ok());
    ASSERT_LE(SizeOr0(current) + SizeOr0(previous), max_bytes) << "after record " << i;
  }
  const auto loaded = LoadTargetHistory(dir.path(), "pool", max_bytes);
  EXPECT_TRUE(loaded.problems.empty()) << Joined(loaded.problems);
  // At least the newest max_bytes / 2, in order, ending with the last record.
  const size_t at_least = (max_bytes / 2 - kHistoryHeaderSize) / kHistoryRecordSize;
  ASSERT_GE(loaded.records.size(), at_least);
  EXPECT_LT(loaded.records.size(), static_cast<size_t>(kRecords)) << "the oldest are dropped";
  EXPECT_EQ(loaded.records, Writes(kRecords - static_cast<int>(loaded.records.size()), kRecords));
}

// A batch that holds the end of one run and the start of the next (a reload changed
// the interval) and rotates midway: the new segment starts with the run its first
// records belong to, not the newer one.
TEST(HistoryFileWriterTest, ASegmentRotatedMidBatchStartsWithTheRunOfItsRecords) {
  TempDir dir;
  HistoryFileWriter w(dir.path(), "pool", kHistoryMinMaxBytes);
  const size_t per_segment = (kHistoryMinMaxBytes / 2 - kHistoryHeaderSize) / kHistoryRecordSize;  // 64
  const HistoryRecord old_run{HistoryKind::kRun, WallTime(1795000000s), MonoTime(100s), 5s, WriteError::kNone};
  const HistoryRecord new_run{HistoryKind::kRun, WallTime(1795000000s + 70s), MonoTime(170s), 1s, WriteError::kNone};
  std::vector<HistoryRecord> first{old_run};
  for (const auto& r : Writes(0, static_cast<int>(per_segment) - 4)) first.push_back(r);
  ASSERT_TRUE(w.Append(first, nullptr).ok());
  std::vector<HistoryRecord> batch = Writes(60, 70);  // rotates after the first 3
  batch.push_back(new_run);
  for (const auto& r : Writes(70, 75)) batch.push_back(r);
  ASSERT_TRUE(w.Append(batch, nullptr).ok());
  std::vector<HistoryRecord> expected = first;
  for (const auto& r : Writes(60, 63)) expected.push_back(r);
  expected.push_back(old_run);
  for (const auto& r : Writes(63, 70)) expected.push_back(r);
  expected.push_back(new_run);
  for (const auto& r : Writes(70, 75)) expected.push_back(r);
  EXPECT_EQ(LoadTargetHistory(dir.path(), "pool", kHistoryMinMaxBytes).records, expected);
}

TEST(HistoryFileWriterTest, TornTailIsCutOnReopenAndAppendsStayAligned) {
  TempDir dir;
  {
    HistoryFileWriter w(dir.path(), "pool", kHistoryDefaultMaxBytes);
    ASSERT_TRUE(w.Append(Writes(0, 3), nullptr).ok());
  }
  const auto rec = EncodeHistoryRecord(Write(99));
  AppendFile(dir / "pool.hbh", std::string(reinterpret_cast<const char*>(rec.data()), 10));  // a crash mid-record
  const auto torn = LoadTargetHistory(dir.path(), "pool", kHistoryDefaultMaxBytes);
  EXPECT_EQ(torn.records, Writes(0, 3));
  ASSERT_EQ(torn.problems.size(), 1u) << Joined(torn.problems);
  EXPECT_NE(torn.problems[0].find("torn tail of 10 bytes"), std::string::npos) << torn.problems[0];

  HistoryFileWriter w(dir.path(), "pool", kHistoryDefaultMaxBytes);
  std::string notice;
  ASSERT_TRUE(w.Append(Writes(3, 5), &notice).ok());
  EXPECT_NE(notice.find("torn tail of 10 bytes cut"), std::string::npos) << notice;
  const auto loaded = LoadTargetHistory(dir.path(), "pool", kHistoryDefaultMaxBytes);
  EXPECT_EQ(loaded.records, Writes(0, 5));
  EXPECT_TRUE(loaded.problems.empty()) << Joined(loaded.problems);
}

// What is not this target's history of this version is kept for a human, and a
// new history starts beside it.
TEST(HistoryFileWriterTest, AFileItCannotAppendToIsMovedAsideAndANewHistoryStarts) {
  auto other_version = [] {
    auto h = EncodeHistoryHeader("pool", WallTime{});
    PutLe<uint32_t>(h, 8, kHistoryVersion + 1);
    PutLe<uint32_t>(h, kHistoryHeaderSize - 4, Crc32c(std::span<const uint8_t>(h).first(kHistoryHeaderSize - 4)));
    return std::string(h.begin(), h.end());
  };
  const auto other_target = EncodeHistoryHeader("nfs", WallTime{});
  const std::vector<std::pair<std::string, std::string>> cases{
      {other_version(), "format version 2"},
      {std::string(other_target.begin(), other_target.end()), "it holds target \"nfs\""},
      {"not a history at all\n", "bad magic"}};
  for (const auto& [content, why] : cases) {
    SCOPED_TRACE(why);
    TempDir dir;
    WriteFile(dir / "pool.hbh", content);
    HistoryFileWriter w(dir.path(), "pool", kHistoryDefaultMaxBytes);
    std::string notice;
    ASSERT_TRUE(w.Append(Writes(0, 2), &notice).ok());
    EXPECT_NE(notice.find(why), std::string::npos) << notice;
    EXPECT_NE(notice.find("moved aside to " + (dir / "pool.hbh.unreadable").string()), std::string::npos) << notice;
    EXPECT_EQ(ReadAll(dir / "pool.hbh.unreadable"), content);
    const auto loaded = LoadTargetHistory(dir.path(), "pool", kHistoryDefaultMaxBytes);
    EXPECT_EQ(loaded.records, Writes(0, 2));
    EXPECT_TRUE(loaded.problems.empty()) << Joined(loaded.problems);
  }
}

TEST(HistoryFileWriterTest, AFifoWhereTheFileWasIsRefusedWithoutBlocking) {
  TempDir dir;
  ASSERT_EQ(::mkfifo((dir / "pool.hbh").c_str(), 0600), 0);
  auto append = std::async(std::launch::async, [&] {
    HistoryFileWriter w(dir.path(), "pool", kHistoryDefaultMaxBytes);
    return w.Append(Writes(0, 1), nullptr);
  });
  if (append.wait_for(5s) != std::future_status::ready) {
    // Let the blocked open or read return so the test can end, then fail it.
    const int fd = ::open((dir / "pool.hbh").c_str(), O_RDWR | O_NONBLOCK);
    if (fd >= 0 && ::write(fd, "x", 1) >= 0) ::close(fd);
    FAIL() << "Append blocked on a FIFO";
  }
  const auto appended = append.get();
  ASSERT_FALSE(appended.ok());
  EXPECT_NE(appended.error().find("is a FIFO, not a regular file"), std::string::npos) << appended.error();
  const auto loaded = LoadTargetHistory(dir.path(), "pool", kHistoryDefaultMaxBytes);
  EXPECT_TRUE(loaded.records.empty());
  EXPECT_EQ(loaded.problems.size(), 1u) << "the reader refuses it too: " << Joined(loaded.problems);
}

TEST(HistoryRecorderTest, StopWritesAStopRecordPerTargetWhenTheLeasesEnd) {
  TempDir dir;
  HistoryRecorder recorder(dir.path(), kHistoryDefaultMaxBytes);
  const WallTime wall = WallTime(1795000000s);
  const MonoTime mono = MonoTime(100s);
  recorder.StartRun(wall, mono, 5s, 0);
  for (int i = 0; i < 3; ++i) {
    recorder.Record("a", Write(i));
    recorder.Record("b", Write(10 + i));
  }
  ASSERT_TRUE(recorder.StopWithin(wall + 20s, mono + 20s, 10s, /*leases_end=*/true));
  const HistoryRecord run{HistoryKind::kRun, wall, mono, 5s, WriteError::kNone};
  const HistoryRecord stop{HistoryKind::kStop, wall + 20s, mono + 20s, Duration::zero(), WriteError::kNone};
  EXPECT_EQ(LoadTargetHistory(dir.path(), "a", kHistoryDefaultMaxBytes).records,
            (std::vector<HistoryRecord>{run, Write(0), Write(1), Write(2), stop}));
  EXPECT_EQ(LoadTargetHistory(dir.path(), "b", kHistoryDefaultMaxBytes).records,
            (std::vector<HistoryRecord>{run, Write(10), Write(11), Write(12), stop}));
  EXPECT_TRUE(recorder.TakeNotices().empty());
  EXPECT_TRUE(recorder.TakeDropped().empty());
}

// A stop with a decision standing keeps the lease record: replay must continue the
// leases into the next run, so no kStop is written.
TEST(HistoryRecorderTest, AStopThatKeepsTheLeasesWritesNoStopRecord) {
  TempDir dir;
  HistoryRecorder recorder(dir.path(), kHistoryDefaultMaxBytes);
  const WallTime wall = WallTime(1795000000s);
  const MonoTime mono = MonoTime(100s);
  recorder.StartRun(wall, mono, 5s, 0);
  recorder.Record("a", Write(0));
  ASSERT_TRUE(recorder.StopWithin(wall + 20s, mono + 20s, 10s, /*leases_end=*/false));
  const HistoryRecord run{HistoryKind::kRun, wall, mono, 5s, WriteError::kNone};
  EXPECT_EQ(LoadTargetHistory(dir.path(), "a", kHistoryDefaultMaxBytes).records, (std::vector<HistoryRecord>{run, Write(0)}));
}

// A reload that lowers [history] max_bytes bounds the files from the next rotation on,
// and the new segment still starts with the run's marker.
TEST(HistoryRecorderTest, AReloadThatLowersMaxBytesBoundsTheFilesFromTheNextRotation) {
  TempDir dir;
  HistoryRecorder recorder(dir.path(), kHistoryDefaultMaxBytes);
  const HistoryRecord run{HistoryKind::kRun, WallTime(1795000000s), MonoTime(100s), 5s, WriteError::kNone};
  recorder.StartRun(run.wall, run.mono, run.value, run.boot);
  for (int i = 0; i < 500; ++i) recorder.Record("pool", Write(i));
  FlushNow(recorder);
  const auto current = dir / "pool.hbh", previous = dir / "pool.hbh.1";
  ASSERT_TRUE(WaitUntil([&] { return SizeOr0(current) == kHistoryHeaderSize + 501 * kHistoryRecordSize; }));
  recorder.Configure(dir.path(), kHistoryMinMaxBytes);
  for (int i = 500; i < 1000; ++i) recorder.Record("pool", Write(i));
  ASSERT_TRUE(recorder.StopWithin(WallTime{}, MonoTime{}, 10s, /*leases_end=*/false));
  EXPECT_LE(SizeOr0(current), kHistoryMinMaxBytes / 2);
  EXPECT_LE(SizeOr0(previous), kHistoryMinMaxBytes / 2) << "rotated again since the reload";
  const auto loaded = LoadTargetHistory(dir.path(), "pool", kHistoryMinMaxBytes);
  ASSERT_FALSE(loaded.records.empty());
  EXPECT_EQ(loaded.records.front(), run);
  EXPECT_EQ(loaded.records.back(), Write(999));
}

// A reload that disables the history while records wait: they are dropped, never
// written relative to the working directory, whichever thread gets there first.
TEST(HistoryRecorderTest, DisablingWithRecordsQueuedWritesNothingElsewhere) {
  TempDir dir, cwd;
  const auto previous = std::filesystem::current_path();
  std::filesystem::current_path(cwd.path());
  {
    HistoryRecorder recorder(dir.path(), kHistoryDefaultMaxBytes);
    recorder.StartRun(WallTime(1795000000s), MonoTime(100s), 5s, 0);
    for (int i = 0; i < 200; ++i) recorder.Record("pool", Write(i));
    recorder.Configure({}, kHistoryDefaultMaxBytes);
    for (int i = 200; i < 210; ++i) recorder.Record("pool", Write(i));
    EXPECT_TRUE(recorder.StopWithin(WallTime{}, MonoTime{}, 10s, true));
  }
  std::filesystem::current_path(previous);
  EXPECT_TRUE(std::filesystem::is_empty(cwd.path()));
  for (const auto& r : LoadTargetHistory(dir.path(), "pool", kHistoryDefaultMaxBytes).records) {
    if (r.kind == HistoryKind::kWrite) {
      EXPECT_LT(r.value, Write(200).value) << "recorded after the history was disabled";
    }
  }
}

TEST(HistoryRecorderTest, AFullDiskDropsAndCountsRecordsAndWritingResumesWhenSpaceIsBack) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to mount";
  TempDir dir;
  const auto mnt = dir / "history";
  std::filesystem::create_directories(mnt);
  ASSERT_EQ(::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=16k"), 0) << std::strerror(errno);
  struct Unmount {
    std::filesystem::path p;
    ~Unmount() { ::umount2(p.c_str(), MNT_DETACH); }
  } unmount{mnt};

  // Fill every page: the history's header then has nowhere to go.
  {
    const int fd = ::open((mnt / "filler").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0);
    const std::string page(4096, 'f');
    while (::write(fd, page.data(), page.size()) > 0) {
    }
    ASSERT_EQ(errno, ENOSPC);
    ::close(fd);
  }

  HistoryRecorder recorder(mnt, kHistoryDefaultMaxBytes);
  std::vector<std::string> notices;
  auto heard = [&](std::string_view what) {
    for (auto& n : recorder.TakeNotices()) notices.push_back(std::move(n));
    return std::any_of(notices.begin(), notices.end(), [&](const std::string& n) { return n.find(what) != n.npos; });
  };
  uint64_t write_errors = 0;
  for (int i = 0; i < 5; ++i) recorder.Record("pool", Write(i));
  FlushNow(recorder);
  ASSERT_TRUE(WaitUntil([&] {
    for (const auto& [target, d] : recorder.TakeDropped()) {
      EXPECT_EQ(target, "pool");
      EXPECT_EQ(d.queue_full, 0u);
      write_errors += d.write_error;
    }
    return write_errors == 5;
  })) << write_errors << " of 5 records counted as dropped";
  ASSERT_TRUE(WaitUntil([&] { return heard("No space left on device"); })) << Joined(notices);
  EXPECT_TRUE(heard("records are dropped and counted until it works")) << Joined(notices);

  std::filesystem::remove(mnt / "filler");
  for (int i = 5; i < 8; ++i) recorder.Record("pool", Write(i));
  FlushNow(recorder);
  ASSERT_TRUE(WaitUntil([&] { return heard("writing again"); })) << Joined(notices);
  ASSERT_TRUE(recorder.StopWithin(WallTime{}, MonoTime{}, 10s, true));
  EXPECT_TRUE(recorder.TakeDropped().empty()) << "nothing dropped after the space came back";
  const auto loaded = LoadTargetHistory(mnt, "pool", kHistoryDefaultMaxBytes);
  EXPECT_TRUE(loaded.problems.empty()) << Joined(loaded.problems);
  ASSERT_GE(loaded.records.size(), 3u);
  EXPECT_EQ(std::vector<HistoryRecord>(loaded.records.begin(), loaded.records.begin() + 3), Writes(5, 8));
}

}  // namespace
}  // namespace hbfence
