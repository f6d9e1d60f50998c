// SPDX-License-Identifier: Apache-2.0

// A heartbeat file on (usually shared) storage. Write() is blocking and may hang
// forever in the kernel on dead storage: it is only ever called on a write pool
// thread (see write_pool.h).
#pragma once

#include "storage/heartbeat_target.h"

namespace hbfence {

// The file content CloudStack neighbours read: Unix seconds and a newline.
std::string HeartbeatContent(WallTime t);

class FileTarget final : public HeartbeatTarget {
 public:
  explicit FileTarget(TargetConfig cfg) : cfg_(std::move(cfg)) {}

  // Durable when it returns ok (fdatasync). Readers never see an empty or partial
  // file: the first write creates it by rename, later ones overwrite the same number
  // of bytes in place. With `mount` set, nothing is written unless the file really
  // is on that mount point (a vanished NFS mount leaves a local directory behind).
  WriteResult Write(WallTime content_time) override;

  const TargetConfig& config() const { return cfg_; }

 private:
  TargetConfig cfg_;
};

}  // namespace hbfence
