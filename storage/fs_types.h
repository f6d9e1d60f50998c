// SPDX-License-Identifier: Apache-2.0

// Which filesystems can carry a cluster heartbeat. A heartbeat on a local
// filesystem is invisible to the neighbours, so targets that expect shared storage
// (CloudStack layout, discovered pools) refuse them. One table serves both the
// names in /proc/self/mountinfo and the magic numbers statfs(2) reports.
#pragma once

#include <optional>
#include <string_view>

namespace hbfence {

struct FilesystemType {
  std::string_view name;  // as in /proc/self/mountinfo
  long magic;             // statfs(2) f_type
  bool local;             // never shared between hosts
};

// Known types only. Unknown ones count as possibly shared, so a cluster filesystem
// hbfence does not know (lustre, gpfs, beegfs, virtiofs...) is not refused.
std::optional<FilesystemType> FilesystemByName(std::string_view name);
std::optional<FilesystemType> FilesystemByMagic(long magic);

// Filesystems only this host sees, and kernel pseudo-filesystems: a heartbeat
// there proves nothing to the other hosts. Exact names ("EXT4" is unknown).
bool IsLocalFilesystemType(std::string_view name);

}  // namespace hbfence
