// SPDX-License-Identifier: Apache-2.0

// The lease record a crash restart continues (src/lease_store.h): its format, and
// that anything but a complete record of this format is no record.
#include <gtest/gtest.h>

#include "src/lease_store.h"
#include "storage/target_config.h"
#include "tests/support/temp_dir.h"

namespace hbfence {
namespace {

using namespace std::chrono_literals;

LeaseRecord Sample() {
  TargetConfig file{.name = "nfs", .path = "/mnt/a b/KVMHA/hb-10.0.0.1", .mount = "/mnt/a b"};
  TargetConfig exec{.name = "probe", .kind = "exec", .command = {"/usr/bin/probe", "--flag", "x y\n"}};
  LeaseRecord r{"0f2c7a36-6a1b-4c3e-9a55-1d2e3f405162", MonoTime(123456789s), {}};
  r.targets.push_back({HeartbeatIdentity(file), MonoTime(123456790s), WallTime(1795000000s)});
  r.targets.push_back({HeartbeatIdentity(exec), MonoTime(123456789s), std::nullopt});
  return r;
}

void ExpectSame(const LeaseRecord& a, const LeaseRecord& b) {
  EXPECT_EQ(a.boot_id, b.boot_id);
  EXPECT_EQ(a.started, b.started);
  ASSERT_EQ(a.targets.size(), b.targets.size());
  for (size_t i = 0; i < a.targets.size(); ++i) {
    EXPECT_EQ(a.targets[i].identity, b.targets[i].identity);
    EXPECT_EQ(a.targets[i].last_success, b.targets[i].last_success);
    EXPECT_EQ(a.targets[i].last_success_wall, b.targets[i].last_success_wall);
  }
}

TEST(LeaseRecordTest, RoundTrips) {
  const auto text = FormatLeaseRecord(Sample());
  const auto back = ParseLeaseRecord(text);
  ASSERT_TRUE(back) << text;
  ExpectSame(*back, Sample());
}

TEST(LeaseRecordTest, AnythingButACompleteRecordIsNone) {
  const auto text = FormatLeaseRecord(Sample());
  for (size_t n = 0; n < text.size(); ++n) EXPECT_FALSE(ParseLeaseRecord(text.substr(0, n))) << n;
  EXPECT_FALSE(ParseLeaseRecord(text + "target 1 - 00\n")) << "nothing after the end";
  std::string other_version = text;
  other_version.replace(0, 16, "hbfence-leases 2");
  EXPECT_FALSE(ParseLeaseRecord(other_version));
  EXPECT_FALSE(ParseLeaseRecord("hbfence-leases 1\nboot x\nstarted 1\ntarget 1 - 0g\nend\n")) << "bad hex";
  EXPECT_FALSE(ParseLeaseRecord("hbfence-leases 1\nboot x\nstarted one\nend\n"));
  EXPECT_TRUE(ParseLeaseRecord("hbfence-leases 1\nboot x\nstarted 1\nend\n"));
}

// A renamed target keeps its lease; a target that writes elsewhere does not.
TEST(HeartbeatIdentityTest, NamesAndFlagsAreNotPartOfIt) {
  TargetConfig a{.name = "a", .path = "/mnt/p/hb", .mount = "/mnt/p"};
  TargetConfig renamed = a;
  renamed.name = "b";
  renamed.peer_watch = true;
  EXPECT_EQ(HeartbeatIdentity(a), HeartbeatIdentity(renamed));
  TargetConfig moved = a;
  moved.path = "/mnt/p/hb2";
  EXPECT_NE(HeartbeatIdentity(a), HeartbeatIdentity(moved));
  TargetConfig unmounted = a;
  unmounted.mount.reset();
  EXPECT_NE(HeartbeatIdentity(a), HeartbeatIdentity(unmounted));
  TargetConfig block{.name = "a", .kind = "block", .path = "/dev/sdb", .offset = 4096};
  TargetConfig other_sector = block;
  other_sector.offset = 8192;
  EXPECT_NE(HeartbeatIdentity(block), HeartbeatIdentity(other_sector));
}

TEST(LeaseStoreTest, KeepsTheRecordOfThisBootOnly) {
  testing::TempDir dir;
  LeaseStore store(dir.path());
  LeaseRecord r = Sample();
  store.Update(r);
  store.SetSuccess(1, MonoTime(123456799s), WallTime(1795000009s));
  store.Flush();
  // The write is asynchronous: Load runs on the same thread, after it.
  auto same_boot = store.Load(r.boot_id, 5s);
  ASSERT_TRUE(same_boot) << same_boot.error();
  ASSERT_TRUE(same_boot.value());
  r.targets[1].last_success = MonoTime(123456799s);
  r.targets[1].last_success_wall = WallTime(1795000009s);
  ExpectSame(*same_boot.value(), r);
  auto other_boot = store.Load("another-boot", 5s);
  ASSERT_TRUE(other_boot);
  EXPECT_FALSE(other_boot.value());
  ASSERT_TRUE(store.Clear(5s));
  auto cleared = store.Load(r.boot_id, 5s);
  ASSERT_TRUE(cleared);
  EXPECT_FALSE(cleared.value());
}

TEST(LeaseStoreTest, AGarbledRecordIsAnError) {
  testing::TempDir dir;
  testing::WriteFile(dir / "leases", "hbfence-leases 1\nboot x\n");
  LeaseStore store(dir.path());
  auto loaded = store.Load("x", 5s);
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error(), (dir / "leases").string() + " is not a complete lease record");
}

TEST(BootIdTest, ReadsThisBootsId) {
  auto id = ReadBootId();
  ASSERT_TRUE(id) << id.error();
  EXPECT_EQ(id.value().size(), 36u) << id.value();
}

}  // namespace
}  // namespace hbfence
