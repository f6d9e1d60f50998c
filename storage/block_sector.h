// SPDX-License-Identifier: Apache-2.0

// The on-disk heartbeat sector of a `block` target: one 4096-byte sector, pure
// encode/decode (no I/O), so any neighbour can parse it with this header alone.
//
// Layout, version 1, all integers little-endian:
//
//   offset  size  field
//        0     8  magic "HBFENCE1" (no NUL)
//        8     4  u32 format version (1)
//       12     4  u32 header length: bytes 0..length-1 are the header, checksum included (296)
//       16     8  u64 sequence: strictly increasing per write by one host, never reused
//       24     8  i64 time, Unix seconds (informational: readers judge freshness by sequence)
//       32     4  u32 host id length in bytes (0..255)
//       36   256  host id bytes, NUL-padded
//      292     4  u32 CRC32C (Castagnoli) of bytes 0..291
//      296  3800  zero (reserved; version 1 readers ignore it)
//
// Host ids longer than 255 bytes are rejected, not truncated: two hosts whose
// ids share a prefix must never look like one.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "src/sys/result.h"

namespace hbfence {

inline constexpr size_t kBlockSectorSize = 4096;
inline constexpr uint32_t kBlockSectorVersion = 1;
inline constexpr size_t kBlockSectorHeaderSize = 296;
inline constexpr size_t kBlockSectorMaxHostId = 255;
inline constexpr std::string_view kBlockSectorMagic = "HBFENCE1";

struct BlockSector {
  std::string host_id;
  uint64_t sequence = 0;
  int64_t unix_seconds = 0;

  bool operator==(const BlockSector&) const = default;
};

// Fills all of `out` (header, then zeros). Fails only for a host id over kBlockSectorMaxHostId bytes.
Status EncodeBlockSector(const BlockSector& sector, std::span<uint8_t, kBlockSectorSize> out);

// Errors: "never written (all zeros)", "bad magic", "unknown format version N",
// "bad header length N", "checksum mismatch …", "host id length N …".
Result<BlockSector, std::string> DecodeBlockSector(std::span<const uint8_t, kBlockSectorSize> in);

}  // namespace hbfence
