// SPDX-License-Identifier: Apache-2.0

#include "storage/block_sector.h"

#include <algorithm>
#include <cstring>

#include "storage/byte_order.h"

namespace hbfence {
namespace {

constexpr size_t kMagicAt = 0;
constexpr size_t kVersionAt = 8;
constexpr size_t kHeaderLengthAt = 12;
constexpr size_t kSequenceAt = 16;
constexpr size_t kTimeAt = 24;
constexpr size_t kHostIdLengthAt = 32;
constexpr size_t kHostIdAt = 36;
constexpr size_t kHostIdField = 256;
constexpr size_t kChecksumAt = kHostIdAt + kHostIdField;
static_assert(kChecksumAt + 4 == kBlockSectorHeaderSize);
static_assert(kBlockSectorMaxHostId < kHostIdField);

}  // namespace

Status EncodeBlockSector(const BlockSector& sector, std::span<uint8_t, kBlockSectorSize> out) {
  if (sector.host_id.size() > kBlockSectorMaxHostId) {
    return Err{"host id is " + std::to_string(sector.host_id.size()) + " bytes, a block sector holds at most " +
               std::to_string(kBlockSectorMaxHostId)};
  }
  std::fill(out.begin(), out.end(), uint8_t{0});
  std::memcpy(out.data() + kMagicAt, kBlockSectorMagic.data(), kBlockSectorMagic.size());
  PutLe<uint32_t>(out, kVersionAt, kBlockSectorVersion);
  PutLe<uint32_t>(out, kHeaderLengthAt, kBlockSectorHeaderSize);
  PutLe<uint64_t>(out, kSequenceAt, sector.sequence);
  PutLe<int64_t>(out, kTimeAt, sector.unix_seconds);
  PutLe<uint32_t>(out, kHostIdLengthAt, static_cast<uint32_t>(sector.host_id.size()));
  std::memcpy(out.data() + kHostIdAt, sector.host_id.data(), sector.host_id.size());
  PutLe<uint32_t>(out, kChecksumAt, Crc32c(std::span<const uint8_t>(out).first(kChecksumAt)));
  return OkStatus();
}

Result<BlockSector, std::string> DecodeBlockSector(std::span<const uint8_t, kBlockSectorSize> in) {
  if (!std::equal(kBlockSectorMagic.begin(), kBlockSectorMagic.end(), in.begin() + kMagicAt)) {
    if (std::all_of(in.begin(), in.end(), [](uint8_t b) { return b == 0; })) return Err{"never written (all zeros)"};
    return Err{"bad magic: not an hbfence heartbeat sector"};
  }
  const auto version = GetLe<uint32_t>(in, kVersionAt);
  if (version != kBlockSectorVersion) return Err{"unknown format version " + std::to_string(version)};
  const auto header_length = GetLe<uint32_t>(in, kHeaderLengthAt);
  if (header_length != kBlockSectorHeaderSize) return Err{"bad header length " + std::to_string(header_length)};
  const auto stored = GetLe<uint32_t>(in, kChecksumAt);
  const auto computed = Crc32c(in.first(kChecksumAt));
  if (stored != computed) {
    return Err{"checksum mismatch (stored " + std::to_string(stored) + ", computed " + std::to_string(computed) + ")"};
  }
  const auto host_id_length = GetLe<uint32_t>(in, kHostIdLengthAt);
  if (host_id_length > kBlockSectorMaxHostId) {
    return Err{"host id length " + std::to_string(host_id_length) + " exceeds " +
               std::to_string(kBlockSectorMaxHostId)};
  }
  BlockSector sector;
  sector.host_id.assign(reinterpret_cast<const char*>(in.data() + kHostIdAt), host_id_length);
  sector.sequence = GetLe<uint64_t>(in, kSequenceAt);
  sector.unix_seconds = GetLe<int64_t>(in, kTimeAt);
  return sector;
}

}  // namespace hbfence
