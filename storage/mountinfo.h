// SPDX-License-Identifier: Apache-2.0

// /proc/self/mountinfo, parsed without statfs(2): a hung NFS server cannot block a
// read of mountinfo, but it can block statfs on the mount. Pure functions over text
// and entries; the caller reads the file. Used to discover CloudStack primary storage
// pools (NFS at /mnt/<pool-uuid>, SharedMountPoint pools wherever the operator put
// them) and to refuse heartbeats on filesystems that only this host can see.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace hbfence {

struct MountEntry {
  std::filesystem::path mount_point;  // octal escapes (\040 ...) decoded
  std::string fs_type;                // "nfs4", "ext4", "fuse.glusterfs", ...
  std::string source;                 // "server:/export", "/dev/sda1", ...

  bool operator==(const MountEntry&) const = default;
};

// proc(5) mountinfo: "ID PARENT MAJ:MIN ROOT MOUNT_POINT OPTIONS [OPTIONAL...] - TYPE
// SOURCE SUPER_OPTIONS". Lines without the "-" separator, with too few fields or with
// a relative mount point are skipped. Entries keep the file's order (mount order).
std::vector<MountEntry> ParseMountInfo(std::string_view text);

// The mounts directly below `prefix` (/mnt/<x>: not /mnt itself, not /mnt/<x>/<y>),
// one per mount point, the last mounted winning (an over-mount hides what is under
// it), sorted by path. A trailing slash on `prefix` makes no difference.
std::vector<MountEntry> PoolMounts(const std::vector<MountEntry>& all, const std::filesystem::path& prefix);

// The mount holding `path`: the longest mount point that is a whole-component prefix
// of it (/mnt/ab does not hold /mnt/abc), the last mounted winning on a tie. Lexical
// only (no symlinks resolved, no statfs). nullptr for a relative path or no match.
const MountEntry* MountContaining(const std::vector<MountEntry>& all, const std::filesystem::path& path);

}  // namespace hbfence
