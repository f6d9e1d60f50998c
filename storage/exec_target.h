// SPDX-License-Identifier: Apache-2.0

// A probe command as the heartbeat, for storage whose health a tool reports better
// than a write would: StorPool (`storpool -j service list`), LINSTOR/DRBD
// (`drbdsetup status --json`), Ceph (`rbd status`). Exit 0 is a heartbeat.
//
// Reasons (the `reason` label): a non-zero exit or a probe that outlives the
// timeout is the storage failing its check, "io_error"; a probe killed by a signal
// or one that cannot be started is a problem with the probe itself, "other".
// The probe's stdout is discarded: a status dump every interval is not news, and
// under systemd it would flood the journal. Its stderr goes to the daemon's, so a
// failing probe's own error message is in the journal next to hbfence's line.
#pragma once

#include <string>

#include "src/sys/process_runner.h"
#include "storage/heartbeat_target.h"

namespace hbfence {

// `runner` must outlive the target.
class ExecTarget final : public HeartbeatTarget {
 public:
  ExecTarget(TargetConfig cfg, Duration timeout, ProcessRunner& runner)
      : cfg_(std::move(cfg)), timeout_(timeout), runner_(runner) {}

  // Runs the probe (argv, no shell) in its own process group; after `timeout` the
  // whole group is killed and reaped before this returns. Detail on failure:
  // "/usr/sbin/drbdsetup status --json: exit 3" (or "signal 9", "timed out after
  // 10s", "failed to start: No such file or directory").
  WriteResult Write(WallTime content_time) override;

  const TargetConfig& config() const { return cfg_; }

 private:
  TargetConfig cfg_;
  Duration timeout_;
  ProcessRunner& runner_;
};

}  // namespace hbfence
