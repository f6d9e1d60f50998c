// SPDX-License-Identifier: Apache-2.0

// destroy-vms against libvirt's built-in test driver (test:///<host.xml>: domains
// and their disks from a file, no daemon), real symlinks in a temp dir, a mount table
// given as data and a FakeFenceIo for the unmount and the escalation's sysrq.
#include "fence/destroy_vms.h"

#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "src/sys/clock.h"
#include "src/sys/process_runner.h"
#include "storage/mountinfo.h"
#include "tests/support/fake_fence_io.h"
#include "tests/support/temp_dir.h"

namespace hbfence {
namespace {

using namespace std::chrono_literals;
using testing::FakeFenceIo;
using testing::TempDir;
using testing::WriteFile;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// Forwards to one shared connection: each test:/// connection has its own copy of
// the file's domains, and the test must see what the action destroyed.
class SharedConnection final : public Hypervisor {
 public:
  explicit SharedConnection(std::shared_ptr<Hypervisor> hv) : hv_(std::move(hv)) {}
  Result<std::vector<DomainInfo>, std::string> RunningDomains() override { return hv_->RunningDomains(); }
  std::vector<pid_t> Processes(const DomainInfo& d) override { return hv_->Processes(d); }
  std::vector<pid_t> WaitGone(const std::vector<pid_t>& pids, Duration within) override {
    return hv_->WaitGone(pids, within);
  }
  void Kill(const std::vector<pid_t>& pids) override { hv_->Kill(pids); }
  Status Destroy(const DomainInfo& d) override {
    if (fail_destroy) return Err{std::string("injected destroy failure")};
    return hv_->Destroy(d);
  }
  bool fail_destroy = false;

 private:
  std::shared_ptr<Hypervisor> hv_;
};

std::string TestDomain(const std::string& name, const std::string& uuid_digit, const std::string& devices) {
  const std::string u(8, uuid_digit[0]);
  return "<domain type='test'><name>" + name + "</name><uuid>" + u + "-" + u.substr(0, 4) + "-4" + u.substr(0, 3) +
         "-8" + u.substr(0, 3) + "-" + u + u.substr(0, 4) + "</uuid><memory>65536</memory><os><type>hvm</type></os>" +
         "<devices>" + devices + "</devices></domain>";
}

std::string FileDisk(const std::filesystem::path& file, const std::string& cache = "none",
                     const std::string& device = "disk") {
  static int disks = 0;  // distinct target names within a domain: vda, vdb, …
  const char letter = static_cast<char>('a' + disks++ % 26);
  return "<disk type='file' device='" + device + "'><driver name='qemu' cache='" + cache + "'/><source file='" +
         file.string() + "'/><target dev='vd" + std::string(1, letter) + "'/></disk>";
}

class DestroyVmsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(pool());
    std::filesystem::create_directories(nested());
    std::filesystem::create_directories(dir / "other");
    std::filesystem::create_symlink(pool(), dir / "pool-link");
    cfg.action = FenceActionKind::kDestroyVms;
    cfg.sysrq_trigger_path = dir / "sysrq";
    cfg.sync_grace = 100ms;
    cfg.destroy_timeout = 5s;
    cfg.libvirt_uri = "test://" + (dir / "host.xml").string();
  }

  std::filesystem::path pool() const { return dir / "pool"; }
  std::filesystem::path nested() const { return dir / "pool" / "nested"; }

  // The temp dir's pool and nested pool are mounts, as far as the action knows.
  Result<MountOf, std::string> Mounts() const {
    std::vector<MountEntry> table{{"/", "ext4", "/dev/vda1"}, {pool(), "nfs4", "nas:/pool"},
                                  {nested(), "nfs4", "nas:/nested"}};
    return MountOf([table](const std::filesystem::path& p) {
      const MountEntry* m = MountContaining(table, p);
      return m ? m->mount_point : std::filesystem::path();
    });
  }

  // Writes the test driver's node file and connects to it once.
  void Domains(const std::vector<std::string>& domains) {
    std::string node = "<node>";
    for (const auto& d : domains) node += d;
    WriteFile(dir / "host.xml", node + "</node>");
    auto hv = ConnectLibvirt(cfg.libvirt_uri);
    ASSERT_TRUE(hv) << hv.error();
    connection = std::move(hv).value();
    connection_uri = cfg.libvirt_uri;
  }

  std::vector<std::string> Running() {
    std::vector<std::string> names;
    const auto running = connection->RunningDomains();
    for (const auto& d : running.value()) names.push_back(d.name);
    return names;
  }

  std::vector<ActionStep> Fence(const std::vector<TargetPlace>& places) {
    ActionDeps deps{.io = io,
                    .runner = runner,
                    .clock = clock,
                    .connect = [this](const std::string& uri) -> Result<std::unique_ptr<Hypervisor>, std::string> {
                      if (uri != connection_uri) return ConnectLibvirt(uri);
                      auto shared = std::make_unique<SharedConnection>(connection);
                      shared->fail_destroy = fail_destroy;
                      return std::unique_ptr<Hypervisor>(std::move(shared));
                    },
                    .mounts = [this] { return Mounts(); },
                    .journal =
                        [this](FenceActionKind as, const std::string& note, std::vector<std::string> domains,
                               std::vector<std::string>) {
                          journal.push_back(std::string(Name(as)) + ": " + note);
                          for (auto& d : domains) journal_domains.push_back(d);
                          return OkStatus();
                        },
                    .report = [this](const VmFenceReport& r) { reports.push_back(r); }};
    Decision d;
    for (const auto& p : places) d.failed_targets.push_back(p.target);
    d.places = places;
    return MakeDestroyVms(cfg, deps)->Execute(d);
  }

  static std::vector<std::string> Results(const std::vector<ActionStep>& steps) {
    std::vector<std::string> out;
    for (const auto& s : steps) out.push_back(std::string(Name(s.action)) + "=" + s.result);
    return out;
  }

  TempDir dir;
  FenceConfig cfg;
  FakeFenceIo io;
  PosixProcessRunner runner;
  SystemClock clock;
  std::shared_ptr<Hypervisor> connection;
  std::string connection_uri;
  bool fail_destroy = false;
  std::vector<std::string> journal, journal_domains;
  std::vector<VmFenceReport> reports;
};

TEST_F(DestroyVmsTest, DestroysOnlyTheDomainsOnTheFailedPoolAndUnmountsIt) {
  Domains({TestDomain("on-pool", "1", FileDisk(pool() / "a.qcow2")),
           TestDomain("via-symlink", "2", FileDisk(dir / "pool-link" / "b.qcow2")),
           TestDomain("cdrom", "3", FileDisk(dir / "other" / "c.qcow2") +
                                        FileDisk(pool() / "iso" / "x.iso", "writeback", "cdrom")),
           TestDomain("nested-pool", "4", FileDisk(nested() / "d.qcow2")),
           TestDomain("elsewhere", "5", FileDisk(dir / "other" / "e.qcow2")),
           TestDomain("network", "6",
                      "<disk type='network' device='disk'><source protocol='rbd' name='p/i'><host name='h'/>"
                      "</source><target dev='vda'/></disk>")});
  const auto steps = Fence({{"primary", "file", pool()}});
  EXPECT_THAT(Results(steps), ElementsAre("destroy-vms=success")) << steps.back().detail;
  EXPECT_THAT(Running(), ::testing::UnorderedElementsAre("nested-pool", "elsewhere", "network"));
  EXPECT_THAT(io.Events(), ElementsAre("umount:" + pool().string()));
  EXPECT_THAT(io.Events(), ::testing::Not(Contains(HasSubstr("sysrq"))));
  // On record before the first destructive step: the domains, by name and UUID.
  ASSERT_GE(journal.size(), 2u);
  EXPECT_THAT(journal[0], HasSubstr("destroying 3 domain(s) on pool " + pool().string()));
  EXPECT_THAT(journal_domains, Contains("on-pool 11111111-1111-4111-8111-111111111111"));
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].target, "primary");
  EXPECT_EQ(reports[0].destroyed, 3);
  EXPECT_EQ(reports[0].escalation, "");
}

TEST_F(DestroyVmsTest, APoolNoDomainUsesIsRecordedAndLeftMounted) {
  Domains({TestDomain("elsewhere", "5", FileDisk(dir / "other" / "e.qcow2"))});
  const auto steps = Fence({{"primary", "file", pool()}});
  EXPECT_THAT(Results(steps), ElementsAre("destroy-vms=success"));
  EXPECT_THAT(steps[0].detail, HasSubstr("no running domain uses pool"));
  EXPECT_THAT(io.Events(), IsEmpty()) << "nothing destroyed, nothing unmounted";
  EXPECT_THAT(Running(), ElementsAre("elsewhere"));
  ASSERT_EQ(journal.size(), 1u);
}

TEST_F(DestroyVmsTest, AHostCachedDiskOnThePoolEscalatesAndDestroysNothing) {
  Domains({TestDomain("safe", "1", FileDisk(pool() / "a.qcow2")),
           TestDomain("cached", "2", FileDisk(pool() / "b.qcow2", "writeback"))});
  const auto steps = Fence({{"primary", "file", pool()}});
  EXPECT_THAT(Results(steps), ElementsAre("destroy-vms=escalated", "hard-reboot=success"));
  EXPECT_THAT(steps[0].detail, HasSubstr("cache mode 'writeback'"));
  EXPECT_THAT(steps[0].detail, HasSubstr("[host_page_cache]"));
  EXPECT_THAT(Running(), ::testing::UnorderedElementsAre("safe", "cached")) << "the host goes down instead";
  EXPECT_THAT(io.Events(), Contains("sysrq:" + (dir / "sysrq").string() + ":b"));
  EXPECT_THAT(io.Events(), ::testing::Not(Contains(HasSubstr("umount"))));
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].escalation, "host_page_cache");
  EXPECT_THAT(journal.back(), HasSubstr("hard-reboot: destroy-vms escalated"));
}

TEST_F(DestroyVmsTest, LibvirtUnreachableEscalates) {
  Domains({});
  cfg.libvirt_uri = "test://" + (dir / "no-such-node.xml").string();
  const auto steps = Fence({{"primary", "file", pool()}});
  EXPECT_THAT(Results(steps), ElementsAre("destroy-vms=escalated", "hard-reboot=success"));
  EXPECT_THAT(steps[0].detail, HasSubstr("[libvirt_error]"));
  EXPECT_EQ(reports.at(0).escalation, "libvirt_error");
}

TEST_F(DestroyVmsTest, ATargetWithoutAMountOrOfAnotherKindEscalates) {
  Domains({TestDomain("on-pool", "1", FileDisk(pool() / "a.qcow2"))});
  for (const TargetPlace& place : {TargetPlace{"lun", "block", std::nullopt}, TargetPlace{"plain", "file", std::nullopt}}) {
    reports.clear();
    const auto steps = Fence({place});
    EXPECT_THAT(Results(steps), ElementsAre("destroy-vms=escalated", "hard-reboot=success")) << place.target;
    EXPECT_EQ(reports.at(0).escalation, "no_mount");
  }
  EXPECT_THAT(Running(), ElementsAre("on-pool"));
}

TEST_F(DestroyVmsTest, AnUnmountThatFailsEscalates) {
  Domains({TestDomain("on-pool", "1", FileDisk(pool() / "a.qcow2"))});
  io.fail_unmount = true;
  const auto steps = Fence({{"primary", "file", pool()}});
  EXPECT_THAT(Results(steps), ElementsAre("destroy-vms=escalated", "hard-reboot=success"));
  EXPECT_EQ(reports.at(0).escalation, "unmount_failed");
}

// No process of the domain was found (the test driver has none): only libvirt's
// finished teardown proves it gone. When that fails, the host is fenced.
TEST_F(DestroyVmsTest, ADomainNeitherSeenDyingNorDestroyedEscalates) {
  Domains({TestDomain("on-pool", "1", FileDisk(pool() / "a.qcow2"))});
  fail_destroy = true;
  const auto steps = Fence({{"primary", "file", pool()}});
  EXPECT_THAT(Results(steps), ElementsAre("destroy-vms=escalated", "hard-reboot=success"));
  EXPECT_THAT(steps[0].detail, HasSubstr("libvirt did not confirm it destroyed (injected destroy failure)"));
  EXPECT_EQ(reports.at(0).escalation, "processes_survived");
}

TEST_F(DestroyVmsTest, TheEscalationIsConfigurable) {
  Domains({TestDomain("cached", "2", FileDisk(pool() / "b.qcow2", "writeback"))});
  cfg.destroy_escalation = FenceActionKind::kLogOnly;
  const auto steps = Fence({{"primary", "file", pool()}});
  EXPECT_THAT(Results(steps), ElementsAre("destroy-vms=escalated", "log-only=logged"));
  EXPECT_THAT(io.Events(), IsEmpty());
}

}  // namespace
}  // namespace hbfence
