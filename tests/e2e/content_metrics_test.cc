// Every metric name the shipped rules and dashboards use is exported by a live
// daemon: a renamed metric must fail here, not silently blank a panel or an alert.
#include <regex>
#include <set>

#include <gtest/gtest.h>

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

TEST(ShippedContentTest, EveryMetricNameIsExportedByALiveDaemon) {
  TempDir dir;
  WriteFile(dir / "hbfence.toml",
            "[host]\nid = \"h\"\n[web]\nlisten_address = \"127.0.0.1:0\"\n"
            "[heartbeat]\ninterval_seconds = 0.1\ntimeout_seconds = 0.3\nlease_seconds = 1\n"
            "[fence]\naction = \"log-only\"\njournal_path = \"" + (dir / "j.jsonl").string() + "\"\n"
            "[[target]]\nname = \"t\"\npath = \"" + (dir / "hb").string() + "\"\n");
  DaemonProcess d({"--config", (dir / "hbfence.toml").string()}, dir / "log");
  ASSERT_GT(d.Port(), 0) << d.Log();
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
