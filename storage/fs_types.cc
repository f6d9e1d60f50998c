// SPDX-License-Identifier: Apache-2.0

#include "storage/fs_types.h"


namespace hbfence {
namespace {

// Magic numbers from linux/magic.h and the filesystems' own headers; 0 where a
// type is looked up by name only (fuseblk shares FUSE's magic; devtmpfs is tmpfs).
constexpr FilesystemType kFilesystems[] = {
    // disk filesystems
    {"ext2", 0xEF53, true}, {"ext3", 0xEF53, true}, {"ext4", 0xEF53, true}, {"xfs", 0x58465342, true},
    {"btrfs", 0x9123683E, true}, {"zfs", 0x2FC12FC1, true}, {"f2fs", 0xF2F52010, true}, {"jfs", 0x3153464A, true},
    {"reiserfs", 0x52654973, true}, {"bcachefs", 0xCA451A4E, true}, {"nilfs2", 0x3434, true}, {"vfat", 0x4D44, true},
    {"msdos", 0x4D44, true}, {"exfat", 0x2011BAB0, true}, {"ntfs", 0x5346544E, true}, {"ntfs3", 0x7366746E, true},
    {"hfsplus", 0x482B, true}, {"udf", 0x15013346, true}, {"iso9660", 0x9660, true}, {"squashfs", 0x73717368, true},
    {"erofs", 0xE0F5E1E2, true},
    // FUSE on a local block device (ntfs-3g, exfat-fuse)
    {"fuseblk", 0, true},
    // memory and layered
    {"tmpfs", 0x01021994, true}, {"ramfs", 0x858458F6, true}, {"overlay", 0x794C7630, true},
    {"aufs", 0x61756673, true},
    // kernel pseudo-filesystems
    {"proc", 0x9FA0, true}, {"sysfs", 0x62656572, true}, {"devtmpfs", 0, true}, {"devpts", 0x1CD1, true},
    {"cgroup", 0x27E0EB, true}, {"cgroup2", 0x63677270, true}, {"debugfs", 0x64626720, true},
    {"tracefs", 0x74726163, true}, {"securityfs", 0x73636673, true}, {"pstore", 0x6165676C, true},
    {"bpf", 0xCAFE4A11, true}, {"configfs", 0x62656570, true}, {"hugetlbfs", 0x958458F6, true},
    {"mqueue", 0x19800202, true},
    // shared
    {"nfs", 0x6969, false}, {"nfs4", 0x6969, false}, {"cifs", 0xFF534D42, false}, {"smb3", 0xFE534D42, false},
    {"gfs2", 0x01161970, false}, {"ocfs2", 0x7461636F, false}, {"ceph", 0x00C36400, false},
    {"fuse", 0x65735546, false},
};

}  // namespace

std::optional<FilesystemType> FilesystemByName(std::string_view name) {
  // GlusterFS, MooseFS, ceph-fuse appear as fuse.<name>: FUSE is how most
  // user-space cluster filesystems are mounted, so it counts as shared (and the
  // test suite's fault filesystem, fuse.faultfs, stands in for NFS).
  if (name.starts_with("fuse.")) name = "fuse";
  for (const auto& fs : kFilesystems) {
    if (fs.name == name) return fs;
  }
  return std::nullopt;
}

std::optional<FilesystemType> FilesystemByMagic(long magic) {
  for (const auto& fs : kFilesystems) {
    if (fs.magic != 0 && fs.magic == magic) return fs;
  }
  return std::nullopt;
}

bool IsLocalFilesystemType(std::string_view name) {
  const auto fs = FilesystemByName(name);
  return fs && fs->local;
}

}  // namespace hbfence
