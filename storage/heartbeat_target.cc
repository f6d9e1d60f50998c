// SPDX-License-Identifier: Apache-2.0

#include "storage/heartbeat_target.h"

#include "storage/block_target.h"
#include "storage/exec_target.h"
#include "storage/file_target.h"

namespace hbfence {

// The config parser has validated `kind` and the fields each kind needs.
std::unique_ptr<HeartbeatTarget> MakeHeartbeatTarget(const TargetConfig& cfg, const TargetEnv& env) {
  if (cfg.kind == "block") return std::make_unique<BlockTarget>(cfg, env.host_id);
  if (cfg.kind == "exec") return std::make_unique<ExecTarget>(cfg, env.write_timeout, *env.runner);
  return std::make_unique<FileTarget>(cfg);
}

}  // namespace hbfence
