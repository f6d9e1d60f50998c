// SPDX-License-Identifier: Apache-2.0

// One heartbeat target as the operator configured it. Plain data.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace hbfence {

struct TargetConfig {
  std::string name;                              // metric label; unique
  std::string kind = "file";                     // "file", "block" or "exec"
  std::filesystem::path path;                    // file: the heartbeat file; block: the device (or a file)
  std::optional<std::filesystem::path> mount;    // file: path must be on this mount point
  bool cloudstack_layout = false;                // file: path is <mount>/KVMHA/hb-<host.id>, readable by CloudStack
  bool allow_local_filesystem = true;            // file: false refuses ext4, xfs, tmpfs… (shared storage expected)
  bool peer_watch = false;                       // file: export the age of the other hosts' hb-* files
  uint64_t offset = 0;                           // block: byte offset of the 4096-byte heartbeat sector
  std::vector<std::string> command;              // exec: probe argv, argv[0] absolute; exit 0 = heartbeat
  bool discovered = false;                       // file: found by [cloudstack] discover_pools, not configured

  bool operator==(const TargetConfig&) const = default;
};

// What is written where (kind, path, mount, offset, command), without the name or
// the flags: a target renamed by a reload is the same heartbeat, and keeps its
// lease, as does a restarted daemon's. NUL separates the fields; no path holds one.
inline std::string HeartbeatIdentity(const TargetConfig& t) {
  std::string id = t.kind;
  for (const auto* part : {&t.path.native(), t.mount ? &t.mount->native() : nullptr}) {
    id += '\0';
    if (part) id += *part;
  }
  id += '\0';
  id += std::to_string(t.offset);
  for (const auto& arg : t.command) {
    id += '\0';
    id += arg;
  }
  return id;
}

}  // namespace hbfence
