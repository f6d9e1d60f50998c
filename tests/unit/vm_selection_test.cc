// SPDX-License-Identifier: Apache-2.0

// fence/vm_selection.h: which running domains a failed pool holds, from their XML, a
// mount table and symlinks given as plain data.
#include "fence/vm_selection.h"

#include <map>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "storage/mountinfo.h"

namespace hbfence {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::string Disk(const std::string& file, const std::string& cache = "none", const std::string& extra = "",
                 const std::string& device = "disk") {
  return "<disk type='file' device='" + device + "'><driver name='qemu' type='qcow2'" +
         (cache.empty() ? "" : " cache='" + cache + "'") + "/><source file='" + file + "'/>" + extra +
         "<target dev='vda' bus='virtio'/></disk>";
}

DomainInfo Domain(const std::string& name, const std::string& devices, const std::string& os = "") {
  return {name, name + "-uuid",
          "<domain type='kvm'><name>" + name + "</name><os><type>hvm</type>" + os + "</os><devices>" + devices +
              "</devices></domain>"};
}

// /mnt/pool (the failed NFS pool), /mnt/pool/nested (another pool mounted below it),
// /mnt/other, and / for the rest.
const std::vector<MountEntry> kMounts = {
    {"/", "ext4", "/dev/vda1"},
    {"/mnt/pool", "nfs4", "nas:/pool"},
    {"/mnt/other", "nfs4", "nas:/other"},
    {"/mnt/pool/nested", "nfs4", "nas:/nested"},
};

MountOf FromTable() {
  return [](const std::filesystem::path& p) {
    const MountEntry* m = MountContaining(kMounts, p);
    return m ? m->mount_point : std::filesystem::path();
  };
}

// Symlinks as a map from link to target; anything else is itself.
PathResolver Links(std::map<std::string, std::string> links = {}) {
  return [links](const std::filesystem::path& p) {
    for (const auto& [link, target] : links) {
      auto rel = p.lexically_relative(link);
      if (!rel.empty() && *rel.begin() != "..") return (std::filesystem::path(target) / rel).lexically_normal();
    }
    return p;
  };
}

std::vector<std::string> Names(const VmSelection& s) {
  std::vector<std::string> out;
  for (const auto& d : s.affected) out.push_back(d.name);
  return out;
}

VmSelection Select(const std::vector<DomainInfo>& domains, const PathResolver& resolve = Links()) {
  return SelectDomains(domains, "/mnt/pool", resolve, FromTable());
}

TEST(VmSelectionTest, OnlyDomainsWithASourceOnThePool) {
  const auto s = Select({Domain("on", Disk("/mnt/pool/a.qcow2")), Domain("off", Disk("/mnt/other/b.qcow2")),
                         Domain("local", Disk("/var/lib/libvirt/images/c.qcow2"))});
  EXPECT_THAT(Names(s), ElementsAre("on"));
  EXPECT_THAT(s.affected[0].on_pool, ElementsAre("/mnt/pool/a.qcow2"));
  EXPECT_EQ(s.affected[0].uuid, "on-uuid");
  EXPECT_THAT(s.refusals, IsEmpty());
}

TEST(VmSelectionTest, APoolMountedBelowAnotherIsItsOwnPool) {
  const auto s = Select({Domain("nested", Disk("/mnt/pool/nested/x.qcow2")), Domain("top", Disk("/mnt/pool/y.qcow2"))});
  EXPECT_THAT(Names(s), ElementsAre("top"));
  const auto nested = SelectDomains(std::vector{Domain("nested", Disk("/mnt/pool/nested/x.qcow2"))},
                                    "/mnt/pool/nested", Links(), FromTable());
  EXPECT_THAT(Names(nested), ElementsAre("nested"));
}

TEST(VmSelectionTest, SymlinkedPathsAreResolved) {
  const auto s = Select({Domain("via-link", Disk("/var/lib/cloudstack/pool-link/a.qcow2")),
                         Domain("link-away", Disk("/mnt/pool-alias/b.qcow2"))},
                        Links({{"/var/lib/cloudstack/pool-link", "/mnt/pool"}, {"/mnt/pool-alias", "/mnt/other"}}));
  EXPECT_THAT(Names(s), ElementsAre("via-link"));
}

TEST(VmSelectionTest, CdromsBackingFilesAndOtherFilesCount) {
  const auto s = Select({
      Domain("cdrom", Disk("/mnt/other/root.qcow2") + Disk("/mnt/pool/iso/systemvm.iso", "", "<readonly/>", "cdrom")),
      Domain("backing", Disk("/mnt/other/top.qcow2", "none",
                             "<backingStore type='file'><source file='/mnt/pool/template.qcow2'/>"
                             "<backingStore/></backingStore>")),
      Domain("serial", "<serial type='file'><source path='/mnt/pool/console.log'/></serial>"),
      Domain("share", "<filesystem type='mount'><source dir='/mnt/pool/share'/><target dir='s'/></filesystem>"),
      Domain("kernel", "", "<kernel>/mnt/pool/vmlinuz</kernel>"),
  });
  EXPECT_THAT(Names(s), ElementsAre("cdrom", "backing", "serial", "share", "kernel"));
  EXPECT_THAT(s.refusals, IsEmpty()) << "read-only and backing files hold no dirty pages";
}

TEST(VmSelectionTest, NetworkDisksAreOnNoPool) {
  const auto s = Select({Domain("rbd", "<disk type='network' device='disk'><driver name='qemu' cache='writeback'/>"
                                       "<source protocol='rbd' name='pool/img'><host name='ceph'/></source>"
                                       "<target dev='vda'/></disk>")});
  EXPECT_THAT(Names(s), IsEmpty());
  EXPECT_THAT(s.refusals, IsEmpty());
}

TEST(VmSelectionTest, AWritableDiskCachedByTheHostIsRefused) {
  for (const std::string cache : {"writeback", "writethrough", "unsafe", ""}) {
    const auto s = Select({Domain("cached", Disk("/mnt/pool/a.qcow2", cache))});
    EXPECT_THAT(Names(s), ElementsAre("cached")) << cache;
    ASSERT_EQ(s.refusals.size(), 1u) << cache;
    EXPECT_EQ(s.refusals[0].reason, "host_page_cache");
    EXPECT_EQ(s.refusals[0].domain, "cached");
  }
  for (const std::string cache : {"none", "directsync"}) {
    EXPECT_THAT(Select({Domain("direct", Disk("/mnt/pool/a.qcow2", cache))}).refusals, IsEmpty()) << cache;
  }
  // A cached disk elsewhere does not matter to this pool.
  EXPECT_THAT(Select({Domain("elsewhere", Disk("/mnt/other/a.qcow2", "writeback"))}).refusals, IsEmpty());
}

TEST(VmSelectionTest, ADomainThatCannotBePlacedIsRefused) {
  const auto s = Select({DomainInfo{"garbled", "g-uuid", "<domain><devices><disk"},
                         Domain("volume", "<disk type='volume' device='disk'><source pool='p' volume='v'/>"
                                          "<target dev='vda'/></disk>")});
  EXPECT_THAT(Names(s), ElementsAre("garbled", "volume"));
  ASSERT_EQ(s.refusals.size(), 2u);
  EXPECT_EQ(s.refusals[0].reason, "unknown_source");
  EXPECT_EQ(s.refusals[1].reason, "unknown_source");
}

TEST(DomainSourcesTest, EntitiesAreNotExpandedFromOutside) {
  // An external entity must not be fetched or read.
  const auto sources = DomainSources(
      "<?xml version='1.0'?><!DOCTYPE domain [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>"
      "<domain><devices><disk type='file' device='disk'><source file='&x;'/></disk></devices></domain>");
  if (sources) {
    for (const auto& s : sources.value()) EXPECT_EQ(s.path.string().find("root:"), std::string::npos);
  }
}

}  // namespace
}  // namespace hbfence
