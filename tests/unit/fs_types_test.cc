#include "storage/fs_types.h"

#include <gtest/gtest.h>

namespace hbfence {
namespace {

TEST(FilesystemTypesTest, LocalFilesystemsCannotCarryAClusterHeartbeat) {
  for (auto name : {"ext4", "xfs", "btrfs", "tmpfs", "overlay", "zfs"}) EXPECT_TRUE(IsLocalFilesystemType(name)) << name;
  for (auto name : {"nfs", "nfs4", "gfs2", "ocfs2", "ceph", "cifs", "fuse.glusterfs", "fuse"}) {
    EXPECT_FALSE(IsLocalFilesystemType(name)) << name;
  }
  EXPECT_FALSE(IsLocalFilesystemType("somenewclusterfs")) << "unknown types are not refused";
}

TEST(FilesystemTypesTest, MagicNumbersAgreeWithNames) {
  EXPECT_TRUE(FilesystemByMagic(0x01021994)->local);  // TMPFS_MAGIC
  EXPECT_FALSE(FilesystemByMagic(0x6969)->local);     // NFS_SUPER_MAGIC
  EXPECT_FALSE(FilesystemByMagic(0x65735546)->local);  // FUSE_SUPER_MAGIC: the fault filesystem in tests
  EXPECT_FALSE(FilesystemByMagic(0x12345678).has_value());
}

}  // namespace
}  // namespace hbfence
