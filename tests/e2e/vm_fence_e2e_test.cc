// SPDX-License-Identifier: Apache-2.0

// destroy-vms end to end: a real libvirtd and QEMU (TCG), two domains, one with its
// disk on a faultfs pool and one on a healthy one. Hang the faultfs pool: hbfence
// kills the first domain's QEMU and force-unmounts the pool, the second runs on, and
// nothing writes the sysrq stand-in. A domain whose disk the host caches cannot be
// fenced that way: the host is (the stand-in gets 'b').
//
// The test starts virtlogd and libvirtd only when none runs, stops only what it
// started, and destroys only the domains it created.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "faultfs_mount.h"
#include "fence/journal.h"
#include "src/sys/hypervisor.h"
#include "tests/support/daemon_process.h"
#include "tests/support/temp_dir.h"

namespace hbfence {
namespace {

using namespace std::chrono_literals;
using testing::DaemonProcess;
using testing::FaultFsMount;
using testing::HttpGet;
using testing::MetricValue;
using testing::ReadAll;
using testing::RunCapture;
using testing::TempDir;
using testing::WaitForMetric;
using testing::WriteFile;

constexpr char kUri[] = "qemu:///system";

std::pair<int, std::string> Virsh(std::vector<std::string> args) {
  args.insert(args.begin(), {"/usr/bin/timeout", "30", "/usr/bin/virsh", "-c", kUri});
  return RunCapture(args);
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

std::optional<pid_t> PidFile(const char* path) {
  std::ifstream in(path);
  pid_t pid = 0;
  if (in >> pid && pid > 0) return pid;
  return std::nullopt;
}

// libvirt's daemons for this test: the ones already running, or ours.
class LibvirtDaemons {
 public:
  // Empty on success, else why the test cannot run.
  std::string Start() {
    for (const char* bin : {"/usr/sbin/libvirtd", "/usr/sbin/virtlogd", "/usr/bin/virsh", "/usr/bin/qemu-system-x86_64"}) {
      if (::access(bin, X_OK) != 0) return std::string(bin) + " is not installed (scripts/test installs it)";
    }
    if (Virsh({"version"}).first == 0) return "";  // a libvirtd runs already: use it, stop nothing
    for (const char* d : {"/var/log/libvirt", "/var/lib/libvirt/qemu", "/run/libvirt"}) {
      std::filesystem::create_directories(d);
    }
    if (!Running("virtlogd")) {
      if (RunCapture({"/usr/sbin/virtlogd", "-d"}).first != 0) return "virtlogd -d failed";
      virtlogd_ = PidFile("/run/virtlogd.pid");
    }
    const auto [rc, out] = RunCapture({"/usr/sbin/libvirtd", "-d"});
    if (rc != 0) return "libvirtd -d failed: " + out;
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < deadline) {
      if (!libvirtd_) libvirtd_ = PidFile("/run/libvirtd.pid");
      if (Virsh({"version"}).first == 0) return "";
      std::this_thread::sleep_for(100ms);
    }
    return "libvirtd did not answer within 30 s (it needs the libvirt-qemu user and group and the kvm group)";
  }

  ~LibvirtDaemons() {
    for (auto pid : {libvirtd_, virtlogd_}) {
      if (!pid) continue;
      ::kill(*pid, SIGTERM);
      for (int i = 0; i < 100 && ::kill(*pid, 0) == 0; ++i) std::this_thread::sleep_for(50ms);
      ::kill(*pid, SIGKILL);
    }
  }

 private:
  static bool Running(const std::string& name) { return RunCapture({"/usr/bin/pgrep", "-x", name}).first == 0; }
  std::optional<pid_t> libvirtd_, virtlogd_;
};

struct Vm {
  std::string name;
  std::string uuid;
  pid_t pid = 0;
};

class VmFenceE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // scripts/test installs and prepares everything, and sets this: there a missing
    // piece fails the test instead of skipping it.
    const bool required = std::getenv("HBFENCE_REQUIRE_LIBVIRT") != nullptr;
    std::string why;
    if (::geteuid() != 0) why = "needs root";
    if (why.empty()) FaultFsMount::Available(&why);
    if (why.empty()) why = daemons_.Start();
    if (!why.empty()) {
      if (required) FAIL() << why;
      GTEST_SKIP() << why;
    }
    fs_ = FaultFsMount::Start(dir_ / "fuse", &why);
    ASSERT_TRUE(fs_) << why;
    std::filesystem::create_directories(dir_ / "healthy");
  }

  void TearDown() override {
    if (fs_) fs_->SetMode("ok");  // a QEMU touching the pool must be able to die
    for (const auto& vm : vms_) {
      Virsh({"destroy", vm.name});
      // libvirtd may be gone or the destroy may have failed; no QEMU of this test
      // outlives it (found again by its UUID, never by a pid that may be reused).
      if (!vm.uuid.empty()) {
        for (pid_t pid : ProcessesWithArguments("/proc", "-uuid", vm.uuid)) ::kill(pid, SIGKILL);
      }
    }
    daemon_.reset();
    fs_.reset();
  }

  // A transient domain with one raw disk: no guest OS, SeaBIOS idles. QEMU runs as
  // root so it can open a file on the FUSE pool (no relabelling either).
  Vm Create(const std::string& tag, const std::filesystem::path& disk, const std::string& cache) {
    { std::ofstream(disk).close(); }
    std::filesystem::resize_file(disk, 16 << 20);
    Vm vm{"hbfence-e2e-" + std::to_string(::getpid()) + "-" + tag, "", 0};
    const auto xml = dir_ / (tag + ".xml");
    WriteFile(xml, "<domain type='qemu'><name>" + vm.name +
                       "</name><memory unit='MiB'>32</memory><vcpu>1</vcpu>"
                       "<os><type arch='x86_64' machine='pc'>hvm</type></os>"
                       "<seclabel type='static' model='dac' relabel='no'><label>+0:+0</label></seclabel>"
                       "<devices><disk type='file' device='disk'><driver name='qemu' type='raw' cache='" +
                       cache + "'/><source file='" + disk.string() +
                       "'/><target dev='vda' bus='virtio'/></disk>"
                       "<graphics type='vnc' autoport='yes' listen='127.0.0.1'/></devices></domain>");
    const auto [rc, out] = Virsh({"create", xml.string()});
    EXPECT_EQ(rc, 0) << out;
    vm.uuid = Trim(Virsh({"domuuid", vm.name}).second);
    const auto pids = ProcessesWithArguments("/proc", "-uuid", vm.uuid);
    EXPECT_EQ(pids.size(), 1u) << vm.uuid;
    if (!pids.empty()) vm.pid = pids[0];
    vms_.push_back(vm);
    return vm;
  }

  void StartHbfence(const std::string& extra_fence = "") {
    std::ostringstream c;
    c << "[host]\nid = \"e2e\"\n[web]\nlisten_address = \"127.0.0.1:0\"\n"
      << "[heartbeat]\ninterval_seconds = 0.5\ntimeout_seconds = 1\nlease_seconds = 3\n"
      << "[fence]\naction = \"destroy-vms\"\njournal_path = \"" << (dir_ / "state" / "journal.jsonl").string()
      << "\"\nruntime_directory = \"" << (dir_ / "run").string() << "\"\nsysrq_trigger_path = \""
      << (dir_ / "sysrq").string() << "\"\nsync_grace_seconds = 0.1\ndestroy_timeout_seconds = 20\n"
      << extra_fence << "[libvirt]\nuri = \"" << kUri << "\"\n"
      << "[[target]]\nname = \"faulty\"\nlayout = \"cloudstack\"\nmount = \"" << fs_->mount_point().string()
      << "\"\nallow_local_filesystem = true\n"
      << "[[target]]\nname = \"healthy\"\npath = \"" << (dir_ / "healthy" / "hb").string() << "\"\n";
    WriteFile(dir_ / "hbfence.toml", c.str());
    WriteFile(dir_ / "sysrq", "");
    daemon_ = std::make_unique<DaemonProcess>(std::vector<std::string>{"--config", (dir_ / "hbfence.toml").string()},
                                              dir_ / "hbfence.log");
    ASSERT_GT(daemon_->Port(), 0) << daemon_->Log();
    ASSERT_TRUE(WaitForMetric(daemon_->Port(), "hbfence_heartbeat_writes_total{target=\"faulty\"}",
                              [](double v) { return v >= 2; }))
        << daemon_->Log();
  }

  bool Mounted() const {
    return ReadAll("/proc/self/mountinfo").find(" " + fs_->mount_point().string() + " ") != std::string::npos;
  }

  static bool Alive(pid_t pid) { return ProcessAlive("/proc", pid); }

  // Polls until `done` holds (bounded); the seconds it took, or -1.
  static double SecondsUntil(const std::function<bool()>& done, std::chrono::steady_clock::time_point since,
                             Duration within) {
    while (std::chrono::steady_clock::now() - since < within) {
      if (done()) return ToSeconds(std::chrono::steady_clock::now() - since);
      std::this_thread::sleep_for(10ms);
    }
    return done() ? ToSeconds(std::chrono::steady_clock::now() - since) : -1;
  }

  TempDir dir_;
  LibvirtDaemons daemons_;
  std::unique_ptr<FaultFsMount> fs_;
  std::unique_ptr<DaemonProcess> daemon_;
  std::vector<Vm> vms_;
};

TEST_F(VmFenceE2eTest, AHungPoolLosesItsVmsAndTheRestRunsOn) {
  const Vm doomed = Create("doomed", fs_->mount_point() / "doomed.img", "none");
  const Vm bystander = Create("bystander", dir_ / "healthy" / "bystander.img", "none");
  ASSERT_GT(doomed.pid, 0);
  ASSERT_GT(bystander.pid, 0);
  StartHbfence();
  std::string why;
  const auto failed_at = std::chrono::steady_clock::now();
  ASSERT_TRUE(fs_->SetMode("hang@all", &why)) << why;

  // Lease (3 s) + the first write's timeout, then the destroy timeout (20 s) at most.
  const double gone = SecondsUntil([&] { return !Alive(doomed.pid); }, failed_at, 40s);
  const double unmounted = SecondsUntil([&] { return !Mounted(); }, failed_at, 40s);
  std::printf("e2e destroy-vms: QEMU gone %.3f s after the pool hung; pool unmounted %.3f s after (%.3f s after "
              "the QEMU)\n",
              gone, unmounted, unmounted - gone);
  ASSERT_GT(gone, 0) << daemon_->Log();
  ASSERT_GT(unmounted, 0) << daemon_->Log();
  EXPECT_LT(gone, 3 + 1 + 20 + 2.0);

  EXPECT_TRUE(Alive(bystander.pid)) << "the healthy pool's VM runs on";
  EXPECT_EQ(Trim(Virsh({"domstate", bystander.name}).second), "running");
  EXPECT_EQ(ReadAll(dir_ / "sysrq"), "") << "the host was not fenced";
  ASSERT_EQ(WaitForMetric(daemon_->Port(), "hbfence_fence_vm_domains_destroyed_total{target=\"faulty\"}",
                          [](double v) { return v == 1; }),
            1)
      << daemon_->Log();
  EXPECT_EQ(MetricValue(HttpGet(daemon_->Port(), "/metrics").body,
                        "hbfence_fence_vm_domains_destroyed_total{target=\"healthy\"}"),
            0);
  bool listed = false;
  for (const auto& e : ReadJournalEntries(dir_ / "state" / "journal.jsonl")) {
    for (const auto& d : e.domains) listed |= d == doomed.name + " " + doomed.uuid;
  }
  EXPECT_TRUE(listed) << ReadAll(dir_ / "state" / "journal.jsonl");
}

TEST_F(VmFenceE2eTest, AHostCachedDiskOnTheHungPoolRebootsTheHost) {
  const Vm cached = Create("cached", fs_->mount_point() / "cached.img", "writeback");
  ASSERT_GT(cached.pid, 0);
  StartHbfence();
  std::string why;
  const auto failed_at = std::chrono::steady_clock::now();
  ASSERT_TRUE(fs_->SetMode("hang@all", &why)) << why;
  const double rebooted =
      SecondsUntil([&] { return ReadAll(dir_ / "sysrq") == "b"; }, failed_at, 40s);
  std::printf("e2e destroy-vms, host-cached disk: sysrq stand-in written %.3f s after the pool hung\n", rebooted);
  ASSERT_GT(rebooted, 0) << daemon_->Log();
  EXPECT_TRUE(Alive(cached.pid)) << "refused, not destroyed: the host goes down instead";
  EXPECT_TRUE(Mounted()) << "nothing unmounted";
  EXPECT_EQ(WaitForMetric(daemon_->Port(), "hbfence_fence_vm_escalations_total{reason=\"host_page_cache\"}",
                          [](double v) { return v == 1; }),
            1);
}

}  // namespace
}  // namespace hbfence
