// SPDX-License-Identifier: Apache-2.0

// What a heartbeat target is to the rest of hbfence: one blocking Write() per
// tick. Write() may hang forever in the kernel on dead storage, so it is only ever
// called on a write pool thread (see write_pool.h), one write per target at a time.
#pragma once

#include <memory>
#include <string>

#include "src/sys/process_runner.h"
#include "src/sys/time.h"
#include "storage/target_config.h"
#include "storage/write_result.h"

namespace hbfence {

class HeartbeatTarget {
 public:
  virtual ~HeartbeatTarget() = default;
  // Ok only when the heartbeat is durable (file, block) or the probe succeeded (exec).
  virtual WriteResult Write(WallTime content_time) = 0;
};

// What a target needs beyond its own configuration.
struct TargetEnv {
  std::string host_id;     // written into block sectors
  Duration write_timeout;  // exec: the probe is killed (process group) after this
  ProcessRunner* runner = nullptr;  // exec: how the probe is run; must outlive the target
};

std::unique_ptr<HeartbeatTarget> MakeHeartbeatTarget(const TargetConfig& cfg, const TargetEnv& env);

}  // namespace hbfence
