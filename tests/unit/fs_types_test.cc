// SPDX-License-Identifier: Apache-2.0

#include "storage/fs_types.h"

#include <gtest/gtest.h>

namespace hbfence {
namespace {

TEST(IsLocalFilesystemTypeTest, LocalTypes) {
  for (const char* t : {"ext2", "ext3", "ext4", "xfs", "btrfs", "zfs", "f2fs", "vfat", "squashfs", "tmpfs", "ramfs",
                        "overlay", "fuseblk", "proc", "sysfs", "devtmpfs", "cgroup2"}) {
    EXPECT_TRUE(IsLocalFilesystemType(t)) << t;
  }
}

TEST(IsLocalFilesystemTypeTest, SharedAndUnknownTypes) {
  for (const char* t : {"nfs", "nfs4", "cifs", "smb3", "gfs2", "ocfs2", "ceph", "glusterfs", "fuse", "fuse.glusterfs",
                        "fuse.ceph-fuse", "fuse.faultfs", "lustre", "virtiofs"}) {
    EXPECT_FALSE(IsLocalFilesystemType(t)) << t;
  }
}

TEST(IsLocalFilesystemTypeTest, ExactNamesOnly) {
  EXPECT_FALSE(IsLocalFilesystemType("EXT4"));
  EXPECT_FALSE(IsLocalFilesystemType("ext"));
  EXPECT_FALSE(IsLocalFilesystemType(""));
}

TEST(FilesystemTypesTest, MagicNumbersAgreeWithNames) {
  EXPECT_TRUE(FilesystemByMagic(0x01021994)->local);  // TMPFS_MAGIC
  EXPECT_FALSE(FilesystemByMagic(0x6969)->local);     // NFS_SUPER_MAGIC
  EXPECT_FALSE(FilesystemByMagic(0x65735546)->local);  // FUSE_SUPER_MAGIC: the fault filesystem in tests
  EXPECT_FALSE(FilesystemByMagic(0x12345678).has_value());
  EXPECT_EQ(FilesystemByMagic(0x65735546)->name, "fuse") << "fuseblk shares the magic; statfs cannot tell them apart";
  for (const auto& name : {"ext4", "xfs", "tmpfs", "nfs4", "gfs2"}) {
    EXPECT_EQ(FilesystemByMagic(FilesystemByName(name)->magic)->local, IsLocalFilesystemType(name)) << name;
  }
}

}  // namespace
}  // namespace hbfence
