// One heartbeat target as the operator configured it. Plain data.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace hbfence {

struct TargetConfig {
  std::string name;                              // metric label; unique
  std::string kind = "file";                     // only "file" so far
  std::filesystem::path path;                    // the heartbeat file
  std::optional<std::filesystem::path> mount;    // path must be on this mount point
};

}  // namespace hbfence
