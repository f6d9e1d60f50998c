// SPDX-License-Identifier: Apache-2.0

// storage/mountinfo.h: ParseMountInfo on real-looking /proc/self/mountinfo lines,
// PoolMounts and MountContaining.
#include "storage/mountinfo.h"

#include <ostream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace hbfence {

void PrintTo(const MountEntry& e, std::ostream* os) {
  *os << "{" << e.mount_point << ", " << e.fs_type << ", " << e.source << "}";
}

namespace {

using ::testing::ElementsAre;

// A KVM host: root on ext4, an NFS v4 pool and a v3 pool under /mnt, a tmpfs, a
// GlusterFS SharedMountPoint, a path with a space, and a pool mounted twice.
constexpr char kHost[] =
    "22 1 253:0 / / rw,relatime shared:1 - ext4 /dev/mapper/vg-root rw,errors=remount-ro\n"
    "23 22 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw\n"
    "24 22 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:2 - sysfs sysfs rw\n"
    "25 22 0:5 / /dev rw,nosuid,relatime shared:8 - devtmpfs udev rw,size=32838752k,nr_inodes=8209688,mode=755\n"
    "30 22 0:26 / /run rw,nosuid,nodev,noexec,relatime shared:5 - tmpfs tmpfs rw,size=6573340k,mode=755\n"
    "91 22 0:52 / /mnt/9d0a3a3c-3d9b-3f50-9c5e-2f0b6f1a7e11 rw,relatime shared:310 - nfs4 "
    "10.1.1.5:/export/primary rw,vers=4.2,rsize=1048576,wsize=1048576,hard,proto=tcp,timeo=600,retrans=2\n"
    "92 22 0:53 / /mnt/4f1c2b80-aa11-3c9e-8d55-0e7b2a9c1d02 rw,relatime - nfs 10.1.1.6:/vol/ps2 "
    "rw,vers=3,hard,proto=tcp,timeo=600,retrans=2,sec=sys,mountaddr=10.1.1.6\n"
    "93 22 0:54 / /mnt/scratch rw,relatime shared:1 master:2 - tmpfs tmpfs rw,size=1024k\n"
    "94 22 0:55 / /srv/gluster/ps3 rw,relatime shared:320 - fuse.glusterfs gfs1:/ps3 "
    "rw,user_id=0,group_id=0,default_permissions,allow_other,max_read=131072\n"
    "95 22 0:56 / /mnt/with\\040space rw,relatime - nfs4 10.1.1.7:/export/a\\040b rw,vers=4.1\n";

TEST(ParseMountInfoTest, ReadsEveryWellFormedLine) {
  const auto all = ParseMountInfo(kHost);
  ASSERT_EQ(all.size(), 10u);
  EXPECT_EQ(all[0], (MountEntry{"/", "ext4", "/dev/mapper/vg-root"}));
  EXPECT_EQ(all[5], (MountEntry{"/mnt/9d0a3a3c-3d9b-3f50-9c5e-2f0b6f1a7e11", "nfs4", "10.1.1.5:/export/primary"}));
  EXPECT_EQ(all[8], (MountEntry{"/srv/gluster/ps3", "fuse.glusterfs", "gfs1:/ps3"}));
}

TEST(ParseMountInfoTest, NoOptionalFields) {
  const auto all = ParseMountInfo("92 22 0:53 / /mnt/p rw,relatime - nfs 10.1.1.6:/vol/ps2 rw,vers=3\n");
  EXPECT_THAT(all, ElementsAre(MountEntry{"/mnt/p", "nfs", "10.1.1.6:/vol/ps2"}));
}

TEST(ParseMountInfoTest, SeveralOptionalFields) {
  const auto all =
      ParseMountInfo("93 22 0:54 / /mnt/s rw,relatime shared:1 master:2 propagate_from:3 unbindable - tmpfs t rw\n");
  EXPECT_THAT(all, ElementsAre(MountEntry{"/mnt/s", "tmpfs", "t"}));
}

TEST(ParseMountInfoTest, OctalEscapesAreDecoded) {
  const auto all = ParseMountInfo(
      "95 22 0:56 / /mnt/with\\040space rw - nfs4 10.1.1.7:/export/a\\040b rw\n"
      "96 22 0:57 / /mnt/tab\\011and\\134backslash rw - nfs4 s:/x rw\n"
      "97 22 0:58 / /mnt/not\\04octal\\9 rw - nfs4 s:/y rw\n");
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0], (MountEntry{"/mnt/with space", "nfs4", "10.1.1.7:/export/a b"}));
  EXPECT_EQ(all[1].mount_point, "/mnt/tab\tand\\backslash");
  EXPECT_EQ(all[2].mount_point, "/mnt/not\\04octal\\9");  // not three octal digits: literal
}

TEST(ParseMountInfoTest, MalformedLinesAreSkipped) {
  const auto all = ParseMountInfo(
      "\n"
      "garbage\n"
      "91 22 0:52 / /mnt/a rw,relatime nfs4 10.1.1.5:/e rw\n"       // no separator
      "91 22 0:52 / /mnt/b rw,relatime -\n"                          // nothing after it
      "91 22 0:52 / /mnt/c rw,relatime - nfs4\n"                     // no source
      "91 22 / /mnt/d - nfs4 10.1.1.5:/e rw\n"                       // too few fields before it
      "91 22 0:52 / relative/e rw - nfs4 10.1.1.5:/e rw\n"           // mount point not absolute
      "91 22 0:52 / /mnt/ok rw,relatime - nfs4 10.1.1.5:/e rw");     // no final newline: still read
  EXPECT_THAT(all, ElementsAre(MountEntry{"/mnt/ok", "nfs4", "10.1.1.5:/e"}));
}

TEST(PoolMountsTest, DirectChildrenOfThePrefixSortedByPath) {
  const auto pools = PoolMounts(ParseMountInfo(kHost), "/mnt");
  ASSERT_EQ(pools.size(), 4u);
  EXPECT_EQ(pools[0].mount_point, "/mnt/4f1c2b80-aa11-3c9e-8d55-0e7b2a9c1d02");
  EXPECT_EQ(pools[1].mount_point, "/mnt/9d0a3a3c-3d9b-3f50-9c5e-2f0b6f1a7e11");
  EXPECT_EQ(pools[2].mount_point, "/mnt/scratch");
  EXPECT_EQ(pools[3].mount_point, "/mnt/with space");
}

TEST(PoolMountsTest, TrailingSlashOnPrefixMakesNoDifference) {
  const auto all = ParseMountInfo(kHost);
  EXPECT_EQ(PoolMounts(all, "/mnt/"), PoolMounts(all, "/mnt"));
  EXPECT_EQ(PoolMounts(all, "/mnt//"), PoolMounts(all, "/mnt"));
}

TEST(PoolMountsTest, NeitherThePrefixItselfNorNestedMounts) {
  const auto all = ParseMountInfo(
      "40 22 0:60 / /mnt rw - tmpfs tmpfs rw\n"
      "41 40 0:61 / /mnt/pool rw - nfs4 s:/p rw\n"
      "42 41 0:62 / /mnt/pool/nested rw - nfs4 s:/q rw\n"
      "43 22 0:63 / /mnt2/other rw - nfs4 s:/r rw\n");
  EXPECT_THAT(PoolMounts(all, "/mnt"), ElementsAre(MountEntry{"/mnt/pool", "nfs4", "s:/p"}));
}

TEST(PoolMountsTest, LaterMountOnTheSamePointWins) {
  const auto all = ParseMountInfo(
      "41 22 0:61 / /mnt/pool rw - nfs4 old:/p rw\n"
      "42 22 0:62 / /mnt/other rw - nfs4 s:/o rw\n"
      "43 41 0:63 / /mnt/pool rw - tmpfs tmpfs rw\n");
  EXPECT_THAT(PoolMounts(all, "/mnt"),
              ElementsAre(MountEntry{"/mnt/other", "nfs4", "s:/o"}, MountEntry{"/mnt/pool", "tmpfs", "tmpfs"}));
}

TEST(PoolMountsTest, NothingBelowThePrefix) { EXPECT_TRUE(PoolMounts(ParseMountInfo(kHost), "/var").empty()); }

TEST(MountContainingTest, LongestWholeComponentPrefix) {
  const auto all = ParseMountInfo(
      "22 1 253:0 / / rw - ext4 /dev/vda rw\n"
      "41 22 0:61 / /mnt/ab rw - nfs4 s:/ab rw\n"
      "42 41 0:62 / /mnt/ab/KVMHA rw - nfs4 s:/kvmha rw\n");
  auto at = [&](const char* path) {
    const MountEntry* e = MountContaining(all, path);
    return e ? e->source : std::string("none");
  };
  EXPECT_EQ(at("/mnt/ab/hb-7"), "s:/ab");
  EXPECT_EQ(at("/mnt/ab"), "s:/ab");
  EXPECT_EQ(at("/mnt/ab/"), "s:/ab");
  EXPECT_EQ(at("/mnt/ab/KVMHA/hb-7"), "s:/kvmha");
  EXPECT_EQ(at("/mnt/abc/hb-7"), "/dev/vda");  // /mnt/ab is not a component prefix of /mnt/abc
  EXPECT_EQ(at("/mnt/ab/x/../KVMHA/hb"), "s:/kvmha");
  EXPECT_EQ(at("/etc/hbfence.toml"), "/dev/vda");
}

TEST(MountContainingTest, OverMountWins) {
  const auto all = ParseMountInfo(
      "41 22 0:61 / /mnt/pool rw - nfs4 old:/p rw\n"
      "43 41 0:63 / /mnt/pool rw - nfs4 new:/p rw\n");
  const MountEntry* e = MountContaining(all, "/mnt/pool/KVMHA/hb-1");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->source, "new:/p");
}

TEST(MountContainingTest, NoMatch) {
  const auto all = ParseMountInfo("41 22 0:61 / /mnt/pool rw - nfs4 s:/p rw\n");
  EXPECT_EQ(MountContaining(all, "/var/lib/x"), nullptr);
  EXPECT_EQ(MountContaining(all, "mnt/pool/x"), nullptr);  // relative: never guessed
  EXPECT_EQ(MountContaining({}, "/"), nullptr);
}

}  // namespace
}  // namespace hbfence
