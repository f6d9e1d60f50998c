#include "storage/heartbeat_target.h"

#include "storage/file_target.h"

namespace hbfence {

std::unique_ptr<HeartbeatTarget> MakeHeartbeatTarget(const TargetConfig& cfg, const TargetEnv& env) {
  (void)env;
  return std::make_unique<FileTarget>(cfg);
}

}  // namespace hbfence
