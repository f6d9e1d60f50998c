// SPDX-License-Identifier: Apache-2.0

// A heartbeat sector on a dedicated raw device or LUN (a small DRBD, LVM or iSCSI
// volume): one 4096-byte sector at a configured offset, format in block_sector.h.
// Write() is blocking and may hang forever in the kernel on dead storage: it is only
// ever called on a write pool thread (see write_pool.h).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "src/sys/result.h"
#include "storage/block_sector.h"
#include "storage/heartbeat_target.h"

namespace hbfence {

// Reads and decodes the sector at `offset` of `device` (a block device or a regular
// file), bypassing the page cache where the filesystem allows: what a neighbour
// reads is what is on the device. Errors name the device and say what is wrong
// (I/O error, too small, never written, bad magic, unknown version, bad checksum).
Result<BlockSector, std::string> ReadBlockSector(const std::filesystem::path& device, uint64_t offset);

// Write() is not safe to call concurrently: the pool runs one write per target at a time.
class BlockTarget final : public HeartbeatTarget {
 public:
  BlockTarget(TargetConfig cfg, std::string host_id) : cfg_(std::move(cfg)), host_id_(std::move(host_id)) {}

  // Durable when it returns ok (O_DIRECT|O_DSYNC). The device is opened per write,
  // so a replaced device (iSCSI re-login, DRBD re-attach) is picked up by path, and
  // a block device is opened O_EXCL, so a device that is mounted or held by another
  // program is refused rather than overwritten. The first write reads the sector
  // already there and continues its sequence (1 when it holds no valid sector), so
  // a restart never goes backwards; every attempt, failed or not, uses up a number.
  WriteResult Write(WallTime content_time) override;

  const TargetConfig& config() const { return cfg_; }

 private:
  TargetConfig cfg_;
  std::string host_id_;
  std::optional<uint64_t> next_sequence_;  // unknown until the first write has read the device
};

}  // namespace hbfence
