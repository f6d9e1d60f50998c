// SPDX-License-Identifier: Apache-2.0

// The fence seam: the only code that can take the host down. Paths are config
// values; tests inject a fake or point the path at a temp file. An LD_PRELOAD
// tripwire (tests/support/nofence_preload.c) checks that no test reaches reboot(2).
#pragma once

#include <filesystem>

#include "src/sys/result.h"

namespace hbfence {

class FenceIo {
 public:
  virtual ~FenceIo() = default;
  // Writes one command byte (e.g. 'b': immediate reboot) to the sysrq trigger file.
  virtual Status WriteSysrq(const std::filesystem::path& trigger, char command) = 0;
  // reboot(2) with RB_AUTOBOOT. Returns only on failure.
  virtual Status Reboot() = 0;
  // sync(2). May block forever on dead storage: callers run it off-thread.
  virtual void SyncFilesystems() = 0;
  // umount2(MNT_FORCE | MNT_DETACH): the mount's outstanding requests fail (NFS
  // client, FUSE connection) and it leaves the namespace. A path that is not a mount
  // point any more is success. May block on dead storage: callers bound it.
  virtual Status ForceUnmount(const std::filesystem::path& mount_point) = 0;
};

// The real thing. Stateless; safe from any thread.
class SystemFenceIo final : public FenceIo {
 public:
  Status WriteSysrq(const std::filesystem::path& trigger, char command) override;
  Status Reboot() override;
  void SyncFilesystems() override;
  Status ForceUnmount(const std::filesystem::path& mount_point) override;
};

}  // namespace hbfence
