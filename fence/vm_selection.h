// SPDX-License-Identifier: Apache-2.0

// Which running VMs a failed storage pool holds, for the destroy-vms action: a pure
// function of the domains' XML and the pool's mount point; symlink resolution and
// the mount table come in as functions, so tests need no filesystem.
//
// A domain is affected when any file-backed source of its devices (a disk, CD-ROM or
// floppy with its backing chain, a filesystem share, a serial/console/channel file,
// the kernel, initrd, loader or NVRAM) lies on the pool: the mount holding its
// resolved path is the pool's mount (a pool mounted below another is its own pool).
// Network disks (RBD, iSCSI…) have no file on any pool and are not considered.
//
// Some affected domains cannot be fenced safely by destroying them; the caller must
// take the host down instead (see Refusal).
#pragma once

#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "src/sys/hypervisor.h"
#include "src/sys/result.h"

namespace hbfence {

// One file-backed source of a domain, as its XML names it.
struct DomainSource {
  std::string element;  // the device element: "disk", "filesystem", "serial", "kernel", …
  std::filesystem::path path;
  // Disks only: the source a guest writes to (not a backing file, not read-only),
  // and its driver's cache mode ("" when the XML sets none: the hypervisor default).
  bool writable_disk = false;
  std::string cache;
};

// Every file-backed source in a domain's XML (parsed with libxml2, never searched as
// text). An error for XML that does not parse or is not a <domain>. A disk whose
// location the XML does not give as a path (a storage-pool volume) is an error too:
// it cannot be placed on or off a pool.
Result<std::vector<DomainSource>, std::string> DomainSources(std::string_view domain_xml);

// Why an affected domain cannot be fenced by destroying it. `reason` is a metric
// label from a fixed set: "host_page_cache" (a writable disk on the pool is cached
// by the host: dirty pages could reach the storage after the VM was restarted
// elsewhere), "unknown_source" (its XML could not be read or placed).
struct Refusal {
  std::string domain;
  std::string reason;
  std::string detail;
};

struct AffectedDomain {
  std::string name;
  std::string uuid;
  std::vector<std::filesystem::path> on_pool;  // its sources on the pool, as written
};

struct VmSelection {
  std::vector<AffectedDomain> affected;  // every domain the pool holds, refused ones too
  std::vector<Refusal> refusals;         // any entry: destroying is not enough
};

// Turns a path as a domain names it into the path the mount table decides on.
using PathResolver = std::function<std::filesystem::path(const std::filesystem::path&)>;
// The mount point of the mount holding an absolute path (the longest one that
// contains it); empty when none does.
using MountOf = std::function<std::filesystem::path(const std::filesystem::path&)>;

VmSelection SelectDomains(std::span<const DomainInfo> domains, const std::filesystem::path& pool_mount,
                          const PathResolver& resolve, const MountOf& mount_of);

// The resolver destroy-vms uses: symlinks are followed (lstat, readlink) until the
// path reaches `pool_mount`, where it stops: nothing below a failed pool is touched,
// since that could hang. A path through a symlink on the pool is taken as on the
// pool. A mount point is never stat'ed (it cannot be a symlink, and another dead
// pool's root would hang the call). Relative and dot components are normalized.
// Blocking on other filesystems: call it with a bound.
PathResolver ResolveUpToPool(std::filesystem::path pool_mount, MountOf mount_of);

}  // namespace hbfence
