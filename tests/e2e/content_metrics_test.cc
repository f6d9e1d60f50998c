// SPDX-License-Identifier: Apache-2.0

// Every metric name the shipped rules and dashboards use is exported by a live
// daemon: a renamed metric must fail here, not silently blank a panel or an alert.
#include <sys/mount.h>
#include <unistd.h>

#include <chrono>
#include <regex>
#include <set>

#include <gtest/gtest.h>

#include "src/sys/fs_util.h"
#include "tests/support/daemon_process.h"
#include "tests/support/temp_dir.h"

namespace hbfence {
namespace {

using testing::DaemonProcess;
using testing::HttpGet;
using testing::ReadAll;
using testing::TempDir;
using testing::WriteFile;

const std::filesystem::path kSource = HBFENCE_SOURCE_DIR;

// hbfence_* and process_* identifiers; recording-rule names (level:metric:ops)
// contain ':' and are skipped whole.
std::set<std::string> MetricNames(const std::string& text) {
  std::set<std::string> out;
  const std::regex ident(R"([A-Za-z_:][A-Za-z0-9_:]*)");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), ident); it != std::sregex_iterator(); ++it) {
    const std::string name = it->str();
    if (name.find(':') != std::string::npos) continue;
    if (name.rfind("hbfence_", 0) == 0 || name.rfind("process_", 0) == 0) out.insert(name);
  }
  return out;
}

// Series names in an exposition, plus histogram family names.
std::set<std::string> Exported(const std::string& exposition) {
  std::set<std::string> out;
  std::istringstream lines(exposition);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::string name = line.substr(0, line.find_first_of("{ "));
    out.insert(name);
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      const std::string s = suffix;
      if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0) {
        out.insert(name.substr(0, name.size() - s.size()));
      }
    }
  }
  return out;
}

// A 1 MiB tmpfs for the CloudStack-layout target, which needs a real mount point;
// lazily unmounted at scope exit, also when an assertion fails.
class TmpfsMount {
 public:
  explicit TmpfsMount(std::filesystem::path at) : at_(std::move(at)) {
    std::filesystem::create_directories(at_);
    if (::mount("tmpfs", at_.c_str(), "tmpfs", 0, "size=1m") == 0) {
      mounted_ = true;
    } else {
      error_ = ErrnoMessage("mount tmpfs on " + at_.string(), errno);
    }
  }
  ~TmpfsMount() {
    if (mounted_) ::umount2(at_.c_str(), MNT_DETACH);
  }
  TmpfsMount(const TmpfsMount&) = delete;
  TmpfsMount& operator=(const TmpfsMount&) = delete;
  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }

 private:
  std::filesystem::path at_;
  bool mounted_ = false;
  std::string error_;
};

TEST(ShippedContentTest, EveryMetricNameIsExportedByALiveDaemon) {
  // The peer-watch gauge needs a peer file on a mounted CloudStack pool.
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to mount the CloudStack pool's tmpfs";
  TempDir dir;
  const auto pool = dir / "pool";
  TmpfsMount mount(pool);
  ASSERT_TRUE(mount.mounted()) << mount.error();
  std::filesystem::create_directory(pool / "KVMHA");
  const auto unix_now =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  WriteFile(pool / "KVMHA" / "hb-otherhost", std::to_string(unix_now) + "\n");

  WriteFile(dir / "hbfence.toml",
            "[host]\nid = \"h\"\n[web]\nlisten_address = \"127.0.0.1:0\"\n"
            "[heartbeat]\ninterval_seconds = 0.1\ntimeout_seconds = 0.3\nlease_seconds = 1\n"
            "[fence]\naction = \"log-only\"\njournal_path = \"" + (dir / "j.jsonl").string() + "\"\n"
            "runtime_directory = \"" + (dir / "run").string() + "\"\n"
            "[[target]]\nname = \"t\"\npath = \"" + (dir / "hb").string() + "\"\n"
            "[[target]]\nname = \"pool\"\nmount = \"" + pool.string() + "\"\nlayout = \"cloudstack\"\n"
            "allow_local_filesystem = true\npeer_watch = true\n");
  DaemonProcess d({"--config", (dir / "hbfence.toml").string()}, dir / "log");
  ASSERT_GT(d.Port(), 0) << d.Log();
  ASSERT_TRUE(testing::WaitForMetric(d.Port(), "hbfence_peer_heartbeat_age_seconds{peer=\"otherhost\",target=\"pool\"}",
                                     [](double age) { return age >= 0; }))
      << d.Log();
  // Decisions and actions only appear once counted: make one (log-only) happen.
  std::filesystem::remove(dir / "hb");
  std::filesystem::create_directory(dir / "hb");
  ASSERT_EQ(testing::WaitForMetric(d.Port(), "hbfence_fence_actions_total{action=\"log-only\",result=\"logged\"}",
                                   [](double v) { return v == 1; }),
            1);
  const auto exported = Exported(HttpGet(d.Port(), "/metrics").body);

  std::vector<std::filesystem::path> files{kSource / "alerts" / "hbfence.rules.yml"};
  for (const auto& e : std::filesystem::directory_iterator(kSource / "dashboards")) {
    if (e.path().extension() == ".json") files.push_back(e.path());
  }
  size_t checked = 0;
  for (const auto& f : files) {
    const auto used = MetricNames(ReadAll(f));
    EXPECT_FALSE(used.empty()) << f;
    for (const auto& name : used) {
      EXPECT_TRUE(exported.count(name)) << f.filename() << " uses " << name << ", which hbfence does not export";
      ++checked;
    }
  }
  std::printf("%zu metric references checked in %zu files\n", checked, files.size());
}

}  // namespace
}  // namespace hbfence
