// SPDX-License-Identifier: Apache-2.0

// The real hbfence binary, a temp config, HTTP on 127.0.0.1:0, the tripwire
// preloaded: what an operator would see.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>

#include <gtest/gtest.h>

#include "fence/journal.h"
#include "metrics/http_server.h"
#include "src/config.h"
#include "tests/support/daemon_process.h"
#include "tests/support/temp_dir.h"

namespace hbfence {
namespace {

using namespace std::chrono_literals;
using testing::DaemonProcess;
using testing::HttpGet;
using testing::HttpGetAt;
using testing::MetricValue;
using testing::ReadAll;
using testing::RunCapture;
using testing::SimulateReboot;
using testing::SwapWithAFile;
using testing::TempDir;
using testing::WaitForMetric;
using testing::WriteFile;
using testing::WriteRecorderScript;

// A series that must exist: a missing one fails the test instead of reading garbage.
double Metric(const std::string& text, const std::string& series) {
  const auto v = MetricValue(text, series);
  EXPECT_TRUE(v) << series << " is missing";
  return v.value_or(std::nan(""));
}

constexpr double kInterval = 0.1, kTimeout = 0.3, kLease = 1.0;

struct Options {
  std::string action = "log-only";
  std::string policy = "any";
  std::string listen = "127.0.0.1:0";
  std::string extra_fence;  // more [fence] lines
  double timeout = kTimeout;
};

class DaemonTest : public ::testing::Test {
 protected:
  std::filesystem::path config() const { return dir / "hbfence.toml"; }
  std::filesystem::path pool() const { return dir / "pool"; }
  std::filesystem::path hb_file() const { return pool() / "KVMHA" / "hb-10.1.34.125"; }
  std::filesystem::path journal() const { return dir / "state" / "fence-journal.jsonl"; }

  std::string ConfigText(const Options& o) const {
    std::ostringstream s;
    s << "[host]\nid = \"10.1.34.125\"\n"
      << "[web]\nlisten_address = \"" << o.listen << "\"\n"
      << "[heartbeat]\ninterval_seconds = " << kInterval << "\ntimeout_seconds = " << o.timeout
      << "\nlease_seconds = " << kLease << "\n"
      << "[fence]\naction = \"" << o.action << "\"\npolicy = \"" << o.policy << "\"\n"
      << "journal_path = \"" << journal().string() << "\"\n"
      << "runtime_directory = \"" << (dir / "run").string() << "\"\n"
      << "sysrq_trigger_path = \"" << (dir / "sysrq").string() << "\"\n"
      << "systemctl_path = \"" << (dir / "systemctl").string() << "\"\n"
      << "sync_grace_seconds = 0.1\n"
      << o.extra_fence << "[[target]]\nname = \"primary\"\npath = \"" << hb_file().string() << "\"\n";
    return s.str();
  }

  std::unique_ptr<DaemonProcess> Start(const Options& o = {}) {
    WriteFile(config(), ConfigText(o));
    auto d = std::make_unique<DaemonProcess>(std::vector<std::string>{"--config", config().string()}, dir / "daemon.log");
    return d;
  }

  // Makes the target's directory unusable the way a dead pool does for a writer.
  void BreakTarget() {
    const int err = SwapWithAFile(pool() / "KVMHA");
    ASSERT_EQ(err, 0) << std::strerror(err);
    std::filesystem::remove_all(pool() / "KVMHA.swapped");  // the old directory, out of the daemon's way
  }
  void RepairTarget() { std::filesystem::remove(pool() / "KVMHA"); }

  std::string Scrape(DaemonProcess& d) { return HttpGet(d.Port(), "/metrics").body; }

  TempDir dir;
};

TEST_F(DaemonTest, ServesMetricsThatPromtoolAccepts) {
  auto d = Start();
  ASSERT_GT(d->Port(), 0) << d->Log();
  ASSERT_TRUE(WaitForMetric(d->Port(), "hbfence_heartbeat_writes_total{target=\"primary\"}", [](double v) { return v >= 3; }));
  const std::string text = Scrape(*d);
  for (const char* name :
       {"hbfence_heartbeat_write_duration_seconds_bucket{target=\"primary\",le=\"0.001\"}",
        "hbfence_heartbeat_write_timeouts_total{target=\"primary\"}",
        "hbfence_heartbeat_write_errors_total{reason=\"io_error\",target=\"primary\"}",
        "hbfence_heartbeat_last_success_timestamp_seconds{target=\"primary\"}",
        "hbfence_heartbeat_consecutive_failures{target=\"primary\"}", "hbfence_heartbeat_stuck_writes{target=\"primary\"}",
        "hbfence_target_up{target=\"primary\"}", "hbfence_fence_decisions_total{action=\"log-only\"}",
        "hbfence_fence_pending", "hbfence_fence_armed", "hbfence_last_fence_timestamp_seconds",
        "hbfence_config_info{fence_action=\"log-only\",policy=\"any\"}", "process_cpu_seconds_total",
        "process_resident_memory_bytes", "process_virtual_memory_bytes", "process_open_fds", "process_max_fds",
        "process_start_time_seconds"}) {
    EXPECT_TRUE(MetricValue(text, name)) << name;
  }
  EXPECT_EQ(MetricValue(text, "hbfence_target_up{target=\"primary\"}"), 1);
  EXPECT_EQ(MetricValue(text, "hbfence_fence_armed"), 0);
  EXPECT_NE(text.find("hbfence_build_info{"), std::string::npos);
  EXPECT_EQ(ReadAll(hb_file()).size(), 11u);

  const auto [rc, out] = RunCapture({"promtool", "check", "metrics"}, text);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(out, "") << "promtool must report nothing";
}

// Dashboards and rate() need the fence action series before the first action: a
// healthy armed host exports every step its configuration can produce, at 0, and
// no other.
// The names a README metric-table row documents: `name`, `name{labels}`,
// `a_{b,c}_d` (each alternative) and `prefix_*`.
std::vector<std::string> DocumentedNames(const std::string& readme) {
  std::vector<std::string> names;
  const auto section = readme.find("\n## Metrics\n");
  std::istringstream lines(readme.substr(section, readme.find("\n## ", section + 1) - section));
  for (std::string line; std::getline(lines, line);) {
    if (!line.starts_with("| `")) continue;
    const std::string cell = line.substr(0, line.find(" | "));
    for (size_t at = 0; (at = cell.find('`', at)) != std::string::npos;) {
      const size_t end = cell.find('`', at + 1);
      std::string code = cell.substr(at + 1, end - at - 1);
      at = end + 1;
      if (code.back() == '}') code = code.substr(0, code.find('{'));  // labels
      const auto open = code.find('{');
      if (open == std::string::npos) {
        names.push_back(code);
        continue;
      }
      const auto close = code.find('}', open);
      std::istringstream alternatives(code.substr(open + 1, close - open - 1));
      for (std::string alt; std::getline(alternatives, alt, ',');) {
        names.push_back(code.substr(0, open) + alt + code.substr(close + 1));
      }
    }
  }
  return names;
}

// Every family a running daemon exports (prometheus-cpp's exposer_* included) has
// a row in the README's metric table.
TEST_F(DaemonTest, EveryExportedFamilyIsInTheReadmesMetricTable) {
  auto d = Start();
  ASSERT_GT(d->Port(), 0) << d->Log();
  ASSERT_TRUE(WaitForMetric(d->Port(), "exposer_scrapes_total", [](double v) { return v >= 1; }));
  const std::string text = Scrape(*d);
  const auto documented = DocumentedNames(ReadAll(std::filesystem::path(HBFENCE_SOURCE_DIR) / "README.md"));
  ASSERT_GT(documented.size(), 20u);
  std::istringstream lines(text);
  size_t families = 0;
  for (std::string line; std::getline(lines, line);) {
    if (!line.starts_with("# TYPE ")) continue;
    ++families;
    const std::string name = line.substr(7, line.find(' ', 7) - 7);
    const bool found = std::any_of(documented.begin(), documented.end(), [&](const std::string& doc) {
      return doc == name || (doc.ends_with("*") && name.starts_with(doc.substr(0, doc.size() - 1)));
    });
    EXPECT_TRUE(found) << name << " is not in README.md's metric table";
  }
  EXPECT_GT(families, 20u);
}

TEST_F(DaemonTest, FenceActionSeriesStartAtZeroOnAHealthyHost) {
  auto d = Start({.action = "hard-reboot"});
  ASSERT_GT(d->Port(), 0) << d->Log();
  ASSERT_TRUE(WaitForMetric(d->Port(), "hbfence_heartbeat_writes_total{target=\"primary\"}", [](double v) { return v >= 1; }));
  const std::string text = Scrape(*d);
  for (const char* series : {"{action=\"hard-reboot\",result=\"success\"}", "{action=\"hard-reboot\",result=\"failed\"}",
                             "{action=\"hard-reboot\",result=\"rate_limited\"}", "{action=\"log-only\",result=\"logged\"}"}) {
    EXPECT_EQ(MetricValue(text, std::string("hbfence_fence_actions_total") + series), 0) << series;
  }
  size_t series = 0;
  for (size_t at = 0; (at = text.find("\nhbfence_fence_actions_total{", at)) != std::string::npos; ++at) ++series;
  EXPECT_EQ(series, 4u) << text;
  EXPECT_FALSE(std::filesystem::exists(dir / "sysrq"));
}

TEST_F(DaemonTest, LandingPageHealthAndMethods) {
  auto d = Start();
  ASSERT_GT(d->Port(), 0) << d->Log();
  const auto landing = HttpGet(d->Port(), "/");
  EXPECT_EQ(landing.status, 200);
  EXPECT_NE(landing.body.find("/metrics"), std::string::npos);
  EXPECT_NE(landing.body.find("primary"), std::string::npos);
  EXPECT_NE(landing.body.find("DISARMED"), std::string::npos);
  EXPECT_EQ(HttpGet(d->Port(), "/healthz").status, 200);
  EXPECT_EQ(HttpGet(d->Port(), "/metrics", "POST").status, 405);
  EXPECT_EQ(HttpGet(d->Port(), "/", "DELETE").status, 405);
  EXPECT_EQ(HttpGet(d->Port(), "/nothing-here").status, 404);
}

TEST_F(DaemonTest, LogOnlyDecisionArrivesAtLeaseTimeAndEpisodesRestart) {
  auto d = Start();
  ASSERT_GT(d->Port(), 0) << d->Log();
  const std::string up = "hbfence_target_up{target=\"primary\"}";
  ASSERT_TRUE(WaitForMetric(d->Port(), "hbfence_heartbeat_writes_total{target=\"primary\"}", [](double v) { return v >= 2; }));
  BreakTarget();
  ASSERT_EQ(WaitForMetric(d->Port(), "hbfence_fence_pending", [](double v) { return v == 1; }), 1) << d->Log();
  const std::string text = Scrape(*d);
  EXPECT_EQ(MetricValue(text, up), 0);
  EXPECT_EQ(MetricValue(text, "hbfence_fence_decisions_total{action=\"log-only\"}"), 1);
  EXPECT_GE(Metric(text, "hbfence_heartbeat_write_errors_total{reason=\"other\",target=\"primary\"}"), 1);
  EXPECT_EQ(MetricValue(text, "hbfence_last_fence_timestamp_seconds"), 0) << "log-only is not a fence";

  // The journal entry lands one lease after the last success, give or take an interval.
  // fence_pending rises as the decision is handed over; the action runs only once its
  // entry is durable.
  ASSERT_TRUE(WaitForMetric(d->Port(), "hbfence_fence_actions_total{action=\"log-only\",result=\"logged\"}",
                            [](double v) { return v == 1; }));
  const auto entry = ParseJsonLine(ReadAll(journal()).substr(0, ReadAll(journal()).find('\n')));
  ASSERT_TRUE(entry) << ReadAll(journal());
  EXPECT_EQ(entry->action, "log-only");
  EXPECT_EQ(entry->failed_targets, std::vector<std::string>{"primary"});
  const double last_success = Metric(text, "hbfence_heartbeat_last_success_timestamp_seconds{target=\"primary\"}");
  const double lateness = ToUnixSeconds(entry->time) - last_success - kLease;
  std::printf("decision %.3fs after lease expiry\n", lateness);
  EXPECT_GE(lateness, -0.01);  // wall and monotonic clocks are sampled a moment apart
  EXPECT_LE(lateness, kInterval * 2);
  ASSERT_TRUE(WaitForMetric(d->Port(), "hbfence_fence_actions_total{action=\"log-only\",result=\"logged\"}",
                            [](double v) { return v == 1; }));
  EXPECT_TRUE(d->WaitForLog("would reboot system because it was unable to write the heartbeat to the storage"));

  // Storage comes back: the episode ends; a new failure makes a new decision.
  RepairTarget();
  ASSERT_EQ(WaitForMetric(d->Port(), "hbfence_fence_pending", [](double v) { return v == 0; }), 0);
  EXPECT_EQ(WaitForMetric(d->Port(), up, [](double v) { return v == 1; }), 1);
  EXPECT_EQ(MetricValue(Scrape(*d), "hbfence_heartbeat_consecutive_failures{target=\"primary\"}"), 0);
  BreakTarget();
  EXPECT_EQ(WaitForMetric(d->Port(), "hbfence_fence_decisions_total{action=\"log-only\"}", [](double v) { return v == 2; }), 2);
}

size_t Count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = 0; (at = text.find(needle, at)) != std::string::npos; at += needle.size()) ++n;
  return n;
}

// Between start-up and the first decision the log used to say nothing: it now says
// when each target's first heartbeat landed, and once that the daemon is ready and
// where it serves. A recovery is logged as such, not as a first write.
TEST_F(DaemonTest, LogsEachTargetsFirstWriteAndReadinessOnce) {
  const auto second = dir / "second" / "hb";
  WriteFile(config(), ConfigText({}) + "[[target]]\nname = \"second\"\npath = \"" + second.string() + "\"\n");
  DaemonProcess d({"--config", config().string()}, dir / "daemon.log");
  ASSERT_GT(d.Port(), 0) << d.Log();
  const std::string ready = "ready: 2 targets, serving http://127.0.0.1:" + std::to_string(d.Port()) + "/metrics\n";
  ASSERT_TRUE(d.WaitForLog(ready)) << d.Log();
  for (const char* target : {"primary", "second"}) {
    ASSERT_TRUE(WaitForMetric(d.Port(), "hbfence_heartbeat_writes_total{target=\"" + std::string(target) + "\"}",
                              [](double v) { return v >= 5; }));
  }
  BreakTarget();
  ASSERT_TRUE(d.WaitForLog("target primary: heartbeat write failed")) << d.Log();
  RepairTarget();
  ASSERT_TRUE(d.WaitForLog("target primary: heartbeat writes recovered after")) << d.Log();

  const std::string log = d.Log();
  const std::string first_primary = "target primary: first heartbeat written to " + hb_file().string() + " in ";
  const std::string first_second = "target second: first heartbeat written to " + second.string() + " in ";
  EXPECT_EQ(Count(log, first_primary), 1u) << log;
  EXPECT_EQ(Count(log, first_second), 1u) << log;
  EXPECT_EQ(Count(log, "first heartbeat written"), 2u) << log;
  EXPECT_EQ(Count(log, "ready: "), 1u) << log;
  // Ready comes once every target's first write is decided, so after both.
  EXPECT_GT(log.find(ready), log.find(first_primary)) << log;
  EXPECT_GT(log.find(ready), log.find(first_second)) << log;
}

// A logfmt line "ts=T level=L msg="…"" as (level, unescaped message); nullopt when
// the line is not exactly that.
std::optional<std::pair<std::string, std::string>> ParseLogfmt(const std::string& line) {
  static const std::regex head(R"(^ts=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z level=([a-z]+) msg=")");
  std::smatch m;
  if (!std::regex_search(line, m, head) || line.size() < static_cast<size_t>(m.length(0)) + 1 || line.back() != '"') {
    return std::nullopt;
  }
  std::string msg;
  for (size_t i = static_cast<size_t>(m.length(0)); i + 1 < line.size(); ++i) {
    if (line[i] == '"') return std::nullopt;  // an unescaped quote inside
    if (line[i] != '\\') {
      msg += line[i];
      continue;
    }
    const char e = line[++i];
    if (e == 'n') msg += '\n';
    else if (e == 't') msg += '\t';
    else if (e == 'r') msg += '\r';
    else if (e == '"' || e == '\\') msg += e;
    else if (e == 'u' && i + 4 < line.size()) msg += "\\u" + line.substr(i + 1, 4), i += 4;
    else return std::nullopt;
  }
  return std::pair{m[1].str(), msg};
}

// --log.format=json and [log] format = "logfmt": every line is one record that
// parses, a target name with quotes, a backslash and non-ASCII comes back intact.
TEST_F(DaemonTest, LogFormatsJsonAndLogfmtParseLineByLine) {
  const std::string name = "pool \"q\" \\ \xe2\x82\xac";
  std::string text = ConfigText({});
  text.replace(text.find("name = \"primary\""), 16, "name = \"pool \\\"q\\\" \\\\ \xe2\x82\xac\"");
  const std::string first_write = "target " + name + ": first heartbeat written to " + hb_file().string() + " in ";

  WriteFile(config(), text);
  {
    DaemonProcess d({"--config", config().string(), "--log.format=json"}, dir / "json.log");
    ASSERT_TRUE(d.WaitForLog("ready: 1 target")) << d.Log();
    d.Signal(SIGTERM);
    ASSERT_TRUE(d.WaitExit(10s));
    const std::string log = d.Log();
    const auto [rc, out] = RunCapture({"jq", "-r", "-e", R"(.ts + " " + .level + " " + .msg)"}, log);
    ASSERT_EQ(rc, 0) << "jq could not parse every line:\n" << log << "\n" << out;
    EXPECT_EQ(Count(out, "\n"), Count(log, "\n")) << out;
    EXPECT_TRUE(std::regex_search(out, std::regex(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z info hbfence )")))
        << out;
    EXPECT_NE(out.find(" info " + first_write), std::string::npos) << out;
    EXPECT_NE(out.find(" warn fencing is DISARMED"), std::string::npos) << out;
    EXPECT_NE(out.find(" info hbfence stopped\n"), std::string::npos) << out;
  }

  WriteFile(config(), text + "[log]\nformat = \"logfmt\"\n");
  DaemonProcess d({"--config", config().string()}, dir / "logfmt.log");
  ASSERT_TRUE(d.WaitForLog("ready: 1 target")) << d.Log();
  d.Signal(SIGTERM);
  ASSERT_TRUE(d.WaitExit(10s));
  std::istringstream lines(d.Log());
  bool found = false;
  size_t parsed = 0;
  for (std::string line; std::getline(lines, line); ++parsed) {
    const auto record = ParseLogfmt(line);
    ASSERT_TRUE(record) << "not logfmt: " << line;
    if (record->first == "info" && record->second.starts_with(first_write)) found = true;
  }
  EXPECT_GE(parsed, 4u);
  EXPECT_TRUE(found) << d.Log();
}

TEST_F(DaemonTest, ReloadRejectsABadConfigAndKeepsRunning) {
  auto d = Start();
  ASSERT_GT(d->Port(), 0) << d->Log();
  WriteFile(config(), ConfigText({}) + "[heartbeat2]\nx = 1\n");
  d->Signal(SIGHUP);
  ASSERT_TRUE(d->WaitForLog("configuration rejected")) << d->Log();
  EXPECT_NE(d->Log().find(config().string() + ":"), std::string::npos) << "names file:line:column";
  EXPECT_EQ(WaitForMetric(d->Port(), "hbfence_config_reloads_total{result=\"failure\"}", [](double v) { return v == 1; }), 1);
  EXPECT_EQ(MetricValue(Scrape(*d), "hbfence_config_last_reload_successful"), 0);
  const double writes = Metric(Scrape(*d), "hbfence_heartbeat_writes_total{target=\"primary\"}");
  EXPECT_TRUE(WaitForMetric(d->Port(), "hbfence_heartbeat_writes_total{target=\"primary\"}",
                            [&](double v) { return v >= writes + 3; }))
      << "still writing heartbeats with the old config";

  Options all;
  all.policy = "all";
  WriteFile(config(), ConfigText(all));
  d->Signal(SIGHUP);
  EXPECT_EQ(WaitForMetric(d->Port(), "hbfence_config_info{fence_action=\"log-only\",policy=\"all\"}",
                          [](double v) { return v == 1; }),
            1);
  EXPECT_FALSE(MetricValue(Scrape(*d), "hbfence_config_info{fence_action=\"log-only\",policy=\"any\"}"));
  EXPECT_EQ(MetricValue(Scrape(*d), "hbfence_config_last_reload_successful"), 1);
}

TEST_F(DaemonTest, AReloadThatOnlyChangesATargetsFlagsKeepsItsFailure) {
  auto d = Start();
  ASSERT_GT(d->Port(), 0) << d->Log();
  ASSERT_TRUE(WaitForMetric(d->Port(), "hbfence_heartbeat_writes_total{target=\"primary\"}", [](double v) { return v >= 2; }));
  BreakTarget();
  ASSERT_EQ(WaitForMetric(d->Port(), "hbfence_fence_decisions_total{action=\"log-only\"}", [](double v) { return v == 1; }), 1);

  WriteFile(config(), ConfigText({}) + "allow_local_filesystem = false\n");  // same heartbeat, another flag
  d->Signal(SIGHUP);
  ASSERT_EQ(WaitForMetric(d->Port(), "hbfence_config_reloads_total{result=\"success\"}", [](double v) { return v == 1; }), 1);
  const double writes = Metric(Scrape(*d), "hbfence_heartbeat_writes_total{target=\"primary\"}");
  // More than a lease later: a target rebuilt with a fresh lease would have ended the
  // episode and been decided again.
  ASSERT_TRUE(WaitForMetric(d->Port(), "hbfence_heartbeat_writes_total{target=\"primary\"}",
                            [&](double v) { return v >= writes + 2 * kLease / kInterval; }));
  const std::string text = Scrape(*d);
  EXPECT_EQ(MetricValue(text, "hbfence_fence_decisions_total{action=\"log-only\"}"), 1) << d->Log();
  EXPECT_EQ(MetricValue(text, "hbfence_fence_pending"), 1);
  EXPECT_EQ(d->Log().find("target primary stopped"), std::string::npos) << d->Log();
}

TEST_F(DaemonTest, AReloadThatChangesTheTimeoutKeepsTheLastSuccessTime) {
  auto d = Start();
  ASSERT_GT(d->Port(), 0) << d->Log();
  const std::string last_success = "hbfence_heartbeat_last_success_timestamp_seconds{target=\"primary\"}";
  ASSERT_TRUE(WaitForMetric(d->Port(), last_success, [](double v) { return v > 0; }));
  BreakTarget();  // no success after this one
  ASSERT_TRUE(WaitForMetric(d->Port(), "hbfence_heartbeat_consecutive_failures{target=\"primary\"}",
                            [](double v) { return v >= 1; }));
  const double before = Metric(Scrape(*d), last_success);

  // New histogram buckets: the series are re-created. Shorter, not longer: with interval
  // 0.1 and lease 1, the lease rule (fence/timings.h) allows a timeout of at most 0.3.
  WriteFile(config(), ConfigText({.timeout = kTimeout / 2}));
  d->Signal(SIGHUP);
  ASSERT_EQ(WaitForMetric(d->Port(), "hbfence_config_reloads_total{result=\"success\"}", [](double v) { return v == 1; }), 1);
  EXPECT_EQ(MetricValue(Scrape(*d), last_success), before) << "a reload is not a lost heartbeat";
}

TEST_F(DaemonTest, SigtermAndSigintExitPromptly) {
  for (int sig : {SIGTERM, SIGINT}) {
    auto d = Start();
    ASSERT_GT(d->Port(), 0) << d->Log();
    const auto start = std::chrono::steady_clock::now();
    d->Signal(sig);
    const auto status = d->WaitExit(5s);
    const double took = ToSeconds(std::chrono::steady_clock::now() - start);
    std::printf("signal %d: exited in %.3fs\n", sig, took);
    ASSERT_TRUE(status);
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << d->Log();
    EXPECT_LT(took, 1.0);
  }
}

TEST_F(DaemonTest, HardRebootWritesTheJournalThenTheSysrqStandIn) {
  WriteFile(dir / "sysrq", "");
  auto d = Start({.action = "hard-reboot"});
  ASSERT_GT(d->Port(), 0) << d->Log();
  ASSERT_TRUE(WaitForMetric(d->Port(), "hbfence_heartbeat_writes_total{target=\"primary\"}", [](double v) { return v >= 2; }));
  EXPECT_EQ(MetricValue(Scrape(*d), "hbfence_fence_armed"), 1);
  BreakTarget();
  ASSERT_EQ(WaitForMetric(d->Port(), "hbfence_fence_actions_total{action=\"hard-reboot\",result=\"success\"}",
                          [](double v) { return v == 1; }),
            1)
      << d->Log();
  EXPECT_EQ(ReadAll(dir / "sysrq"), "b");
  const auto last = ReadJournalTail(journal(), std::chrono::system_clock::now(), kJournalWindow, 1 << 20).last_fence;
  ASSERT_TRUE(last);
  EXPECT_EQ(last->action, "hard-reboot");
  const double exported = Metric(Scrape(*d), "hbfence_last_fence_timestamp_seconds");
  EXPECT_NEAR(exported, ToUnixSeconds(last->time), 0.01);
  EXPECT_TRUE(d->WaitForLog("will reboot system because it was unable to write the heartbeat to the storage"));

  // After the "reboot", the new daemon reports the last fence from the journal.
  d.reset();
  ASSERT_TRUE(SimulateReboot(dir / "run"));
  RepairTarget();
  auto again = Start({.action = "hard-reboot"});
  ASSERT_GT(again->Port(), 0) << again->Log();
  // The journal is read in the background at start: wait for it, not for a fixed time.
  const auto reported = WaitForMetric(again->Port(), "hbfence_last_fence_timestamp_seconds", [](double v) { return v > 0; });
  ASSERT_TRUE(reported) << again->Log();
  EXPECT_NEAR(*reported, ToUnixSeconds(last->time), 0.01);
  // The lease of the killed daemon belonged to the boot before: no second fence.
  ASSERT_TRUE(WaitForMetric(again->Port(), "hbfence_heartbeat_writes_total{target=\"primary\"}",
                            [](double v) { return v >= 2; }));
  EXPECT_EQ(Metric(Scrape(*again), "hbfence_fence_decisions_total{action=\"hard-reboot\"}"), 0) << again->Log();
}

TEST_F(DaemonTest, RestartAgentRunsTheSystemctlStandIn) {
  WriteRecorderScript(dir / "systemctl", dir / "systemctl.log");
  auto d = Start({.action = "restart-agent", .extra_fence = "agent_unit = \"cloudstack-agent\"\n"});
  ASSERT_GT(d->Port(), 0) << d->Log();
  // The pool's directory exists once the first write landed (BreakTarget swaps it).
  ASSERT_TRUE(d->WaitForLog("first heartbeat written")) << d->Log();
  BreakTarget();
  ASSERT_EQ(WaitForMetric(d->Port(), "hbfence_fence_actions_total{action=\"restart-agent\",result=\"success\"}",
                          [](double v) { return v == 1; }),
            1)
      << d->Log();
  EXPECT_EQ(ReadAll(dir / "systemctl.log"), "restart cloudstack-agent\n");
}

TEST_F(DaemonTest, CheckConfigPrintsEffectiveValuesOrFileLineColumn) {
  WriteFile(config(), ConfigText({}));
  const auto [ok_rc, ok_out] = RunCapture({HBFENCE_BIN, "check-config", "--config", config().string()});
  EXPECT_EQ(ok_rc, 0) << ok_out;
  EXPECT_NE(ok_out.find("action = \"log-only\"  # " + config().string() + ":"), std::string::npos) << ok_out;
  EXPECT_NE(ok_out.find("agent_unit = \"cloudstack-agent\"  # default"), std::string::npos) << ok_out;
  EXPECT_NE(ok_out.find("DISARMED"), std::string::npos);
  // interval 0.1, timeout 0.3, lease 1: exactly the minimum the lease rule allows.
  EXPECT_NE(ok_out.find("# worst_renewal_gap (the minimum lease) = 1s\n"), std::string::npos) << ok_out;
  EXPECT_NE(ok_out.find("# lease_margin (lease - worst_renewal_gap) = 0s\n"), std::string::npos) << ok_out;

  WriteFile(config(), "[host]\nid = \"h\"\n[heartbeat]\nlease_seconds = 60\ntimeout_seconds = 70\n");
  const auto [bad_rc, bad_out] = RunCapture({HBFENCE_BIN, "check-config", "--config", config().string()});
  EXPECT_EQ(bad_rc, 2);
  EXPECT_EQ(bad_out, config().string() +
                         ":4:17: heartbeat.lease_seconds (60) must be at least 145.2, the longest healthy storage can go "
                         "between lease renewals with interval_seconds 5 and timeout_seconds 70: the next write may "
                         "start 75 s after one began, then take up to the timeout, plus 2 × 0.1 s scheduling allowance "
                         "(fence/timings.h)\n");

  const auto [run_rc, run_out] = RunCapture({HBFENCE_BIN, "--config", config().string()});
  EXPECT_EQ(run_rc, 2) << "run refuses a bad config the same way";

  const auto [v_rc, v_out] = RunCapture({HBFENCE_BIN, "--version"});
  EXPECT_EQ(v_rc, 0);
  EXPECT_EQ(v_out.rfind("hbfence 0.1.0 (revision ", 0), 0u) << v_out;
}

// A configuration that cannot be read says why, with the file, and exits 2: missing,
// unreadable (checked as an unprivileged user), a directory.
TEST_F(DaemonTest, AnUnreadableConfigurationSaysWhy) {
  const auto absent = dir / "absent.toml";
  for (const char* command : {"check-config", "run"}) {
    const auto [rc, out] = RunCapture({HBFENCE_BIN, command, "--config", absent.string()});
    EXPECT_EQ(rc, 2) << out;
    EXPECT_EQ(out, "cannot open " + absent.string() + ": No such file or directory\n") << command;
  }
  WriteFile(config(), ConfigText({}));
  std::filesystem::permissions(config(), std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  std::filesystem::permissions(dir.path(), std::filesystem::perms::all);  // the file, not its directory, is unreadable
  const auto [rc, out] = RunCapture({"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", HBFENCE_BIN,
                                     "check-config", "--config", config().string()});
  EXPECT_EQ(rc, 2) << out;
  EXPECT_NE(out.find("cannot open " + config().string() + ": Permission denied\n"), std::string::npos) << out;
  const auto [dir_rc, dir_out] = RunCapture({HBFENCE_BIN, "check-config", "--config", dir.path().string()});
  EXPECT_EQ(dir_rc, 2);
  EXPECT_NE(dir_out.find(dir.path().string() + " is a directory, not a regular file"), std::string::npos) << dir_out;
}

// A usage error names the problem and where help is; the 50-line help buried it.
TEST_F(DaemonTest, AUsageErrorPrintsOneLineAndPointsAtHelp) {
  for (const auto& [args, error] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"--bogus"}, "unknown argument --bogus"},
           {{"check-config", "--config"}, "--config needs a value"},
           {{"--log.level", "loud"}, "--log.level loud is not one of trace, debug, info, warn, error, critical, off"}}) {
    std::vector<std::string> argv{HBFENCE_BIN};
    argv.insert(argv.end(), args.begin(), args.end());
    const auto [rc, out] = RunCapture(argv);
    EXPECT_EQ(rc, 2) << out;
    EXPECT_EQ(out, "hbfence: " + error + "\nsee 'hbfence --help'\n");
  }
  const auto [help_rc, help] = RunCapture({HBFENCE_BIN, "--help"});
  EXPECT_EQ(help_rc, 0);
  EXPECT_NE(help.find("usage:"), std::string::npos) << help;
}

// A listening socket on 127.0.0.1 with a port the kernel picked; closed by the caller.
std::pair<int, int> ListenOnLoopback() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  EXPECT_EQ(::listen(fd, 1), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  return {fd, ntohs(addr.sin_port)};
}

// civetweb said only "null context … Possible problem binding to port": the message
// now names what bind(2) said.
TEST_F(DaemonTest, BindFailureExitsOneWithAClearMessage) {
  const auto [fd, port] = ListenOnLoopback();
  for (const std::string& taken : {"127.0.0.1:" + std::to_string(port), ":" + std::to_string(port)}) {
    auto d = Start({.listen = taken});
    const auto status = d->WaitExit(10s);
    ASSERT_TRUE(status);
    EXPECT_TRUE(WIFEXITED(*status));
    EXPECT_EQ(WEXITSTATUS(*status), 1);
    EXPECT_NE(d->Log().find("cannot listen on " + taken + ": Address already in use (EADDRINUSE)\n"), std::string::npos)
        << d->Log();
    EXPECT_EQ(d->Log().find("null context"), std::string::npos) << d->Log();
  }
  ::close(fd);
}

// ":PORT" (Prometheus' convention) is every address, as the key and as the flag:
// the daemon answers on 127.0.0.2 too, which a daemon bound to 127.0.0.1 does not.
TEST_F(DaemonTest, AListenAddressWithoutAHostIsEveryAddress) {
  const int v6 = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (v6 >= 0) ::close(v6);
  const bool dual = HttpServerHasIpv6() && v6 >= 0;  // the HTTP library and the host both have IPv6
  {
    auto only_loopback = Start();
    ASSERT_GT(only_loopback->Port(), 0) << only_loopback->Log();
    EXPECT_EQ(HttpGetAt("127.0.0.2", only_loopback->Port(), "/healthz").status, 0);
  }
  auto check = [&](DaemonProcess& d) {
    ASSERT_GT(d.Port(), 0) << d.Log();
    for (const char* ip : {"127.0.0.1", "127.0.0.2"}) EXPECT_EQ(HttpGetAt(ip, d.Port(), "/healthz").status, 200) << ip;
    if (dual) {
      EXPECT_EQ(HttpGetAt("::1", d.Port(), "/healthz").status, 200);
    }
    EXPECT_TRUE(d.WaitForLog("ready: 1 target, serving http://" + std::string(dual ? "[::]" : "0.0.0.0") + ":" +
                             std::to_string(d.Port()) + "/metrics\n"))
        << d.Log();
    EXPECT_NE(d.Log().find("(port " + std::to_string(d.Port()) + "): every IPv4 "), std::string::npos) << d.Log();
  };
  {
    auto d = Start({.listen = ":0"});
    check(*d);
  }
  WriteFile(config(), ConfigText({}));
  DaemonProcess flagged({"--config", config().string(), "--web.listen-address=:0"}, dir / "flagged.log");
  check(flagged);

  const auto [rc, out] = RunCapture({HBFENCE_BIN, "check-config", "--config", config().string(), "--web.listen-address", ":19746"});
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("\nlisten_address = \":19746\"\n"), std::string::npos) << out;
}

// Debian 12's civetweb has no IPv6: "[::1]:PORT" is refused when the configuration
// is checked (key and flag alike, exit 2) instead of failing to bind at start. With
// a civetweb that has it, the daemon serves on ::1.
TEST_F(DaemonTest, AnIpv6ListenAddressIsServedOrRefusedUpFront) {
  WriteFile(config(), ConfigText({.listen = "[::1]:0"}));
  if (HttpServerHasIpv6()) {
    DaemonProcess d({"--config", config().string()}, dir / "daemon.log");
    ASSERT_GT(d.Port(), 0) << d.Log();
    EXPECT_EQ(HttpGetAt("::1", d.Port(), "/healthz").status, 200);
    return;
  }
  const std::string why = ListenAddressProblem("[::1]:0", false);
  const auto [check_rc, check_out] = RunCapture({HBFENCE_BIN, "check-config", "--config", config().string()});
  EXPECT_EQ(check_rc, 2);
  EXPECT_EQ(check_out, config().string() + ":4:18: web.listen_address \"[::1]:0\": " + why + "\n");
  const auto [run_rc, run_out] = RunCapture({HBFENCE_BIN, "--config", config().string()});
  EXPECT_EQ(run_rc, 2) << run_out;
  WriteFile(config(), ConfigText({}));
  const auto [flag_rc, flag_out] =
      RunCapture({HBFENCE_BIN, "--config", config().string(), "--web.listen-address=[::1]:0"});
  EXPECT_EQ(flag_rc, 2);
  EXPECT_EQ(flag_out, "hbfence: --web.listen-address \"[::1]:0\": " + why + "\nsee 'hbfence --help'\n");
}

}  // namespace
}  // namespace hbfence
