// SPDX-License-Identifier: Apache-2.0

// The write history's on-disk format (storage/history.h has the files, the writer
// and the recorder): pure encoding and parsing, no I/O, so the fuzzer
// (fuzz/fuzz_history.cc) compiles it alone with storage/byte_order.cc.
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
//    26   2  u16 boot (kRun: HistoryBootTag of the boot the run was in; 0 unknown)
//    28   4  u32 CRC32C of bytes 0..27
// 14 days at a 5 s interval are 241,920 writes, 7.7 MB: the default max_bytes
// (16 MiB) keeps at least 8 MiB, 15 days.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

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
  // in every target's file), value its heartbeat interval, boot the boot it ran in.
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
  uint16_t boot = 0;  // kRun: HistoryBootTag(the kernel's boot id); 0 unknown

  bool operator==(const HistoryRecord&) const = default;
};

// Which boot a run was in, for replay to tell a crash restart (the leases continue,
// as the daemon's lease record does) from a reboot, whatever the wall clock did in
// between: 16 bits of the boot id's CRC32C, never 0 (0 is "unknown", as an empty id).
// Two boots share a tag once in 65,535; replay also asks CLOCK_MONOTONIC to have gone on.
uint16_t HistoryBootTag(std::string_view boot_id);

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

}  // namespace hbfence
