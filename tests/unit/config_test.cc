// SPDX-License-Identifier: Apache-2.0

// src/config.h: ParseConfig (TOML text -> Config or file:line:column error),
// ConfigError::ToString, the sources map, DescribeConfig and LoadConfigFile.
#include "src/config.h"

#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <map>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "metrics/http_server.h"
#include "tests/support/temp_dir.h"

namespace hbfence {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr char kFile[] = "hbfence.toml";

// Every key the daemon understands. Line numbers matter: the tests below point at them.
constexpr char kFull[] =
    "[host]\n"                                                   // 1
    "id = \"kvm-07\"\n"                                          // 2
    "\n"                                                         // 3
    "[web]\n"                                                    // 4
    "listen_address = \"127.0.0.1:9100\"\n"                      // 5
    "\n"                                                         // 6
    "[log]\n"                                                    // 7
    "level = \"debug\"\n"                                        // 8
    "\n"                                                         // 9
    "[heartbeat]\n"                                              // 10
    "interval_seconds = 2.5\n"                                   // 11
    "timeout_seconds = 8\n"                                      // 12
    "lease_seconds = 45\n"                                       // 13
    "startup_grace_seconds = 120\n"                              // 14
    "\n"                                                         // 15
    "[fence]\n"                                                  // 16
    "action = \"graceful-reboot\"\n"                             // 17
    "policy = \"quorum\"\n"                                      // 18
    "journal_path = \"/var/lib/hbfence-test/journal.jsonl\"\n"   // 19
    "sysrq_trigger_path = \"/tmp/hbfence-unit-fake-trigger\"\n"  // 20
    "systemctl_path = \"/usr/local/bin/systemctl\"\n"            // 21
    "agent_unit = \"cloudstack-agent@main.service\"\n"           // 22
    "custom_script = \"/etc/hbfence/fence.sh\"\n"                // 23
    "custom_timeout_seconds = 30\n"                              // 24
    "graceful_escalation_seconds = 90.5\n"                       // 25
    "sync_grace_seconds = 0\n"                                   // 26
    "systemctl_timeout_seconds = 15.25\n"                        // 27
    "\n"                                                         // 28
    "[[target]]\n"                                               // 29
    "name = \"nfs-primary\"\n"                                   // 30
    "kind = \"file\"\n"                                          // 31
    "path = \"/mnt/primary/hbfence/kvm-07\"\n"                   // 32
    "mount = \"/mnt/primary\"\n"                                 // 33
    "\n"                                                         // 34
    "[[target]]\n"                                               // 35
    "name = \"local\"\n"                                         // 36
    "path = \"/var/lib/hbfence/hb\"\n";                          // 37

// The smallest valid document, with `before` first so its line numbers start at 1.
std::string WithMinimal(const std::string& before) {
  return before +
         "\n[host]\n"
         "id = \"h1\"\n"
         "[[target]]\n"
         "name = \"a\"\n"
         "path = \"/mnt/a/hb\"\n";
}

Config MustParse(const std::string& text) {
  auto r = ParseConfig(text, kFile);
  if (!r.ok()) {
    ADD_FAILURE() << "unexpected error: " << r.error().ToString();
    return Config{};
  }
  return std::move(r).value();
}

ConfigError MustFail(const std::string& text) {
  auto r = ParseConfig(text, kFile);
  if (r.ok()) {
    ADD_FAILURE() << "parsed, but an error was expected for:\n" << text;
    return ConfigError{};
  }
  return r.error();
}

// Asserts where an error points and what it says, with the text in the failure output.
#define EXPECT_CONFIG_ERROR(text, want_line, want_column, message_part)      \
  do {                                                                       \
    const std::string text_ = (text);                                        \
    const ConfigError e_ = MustFail(text_);                                  \
    EXPECT_EQ(e_.file, kFile) << text_;                                      \
    EXPECT_EQ(e_.line, static_cast<uint32_t>(want_line)) << e_.ToString();   \
    EXPECT_EQ(e_.column, static_cast<uint32_t>(want_column)) << e_.ToString(); \
    EXPECT_THAT(e_.message, HasSubstr(message_part)) << e_.ToString();       \
  } while (0)

bool Contains(const std::vector<std::string>& lines, const std::string& line) {
  return std::find(lines.begin(), lines.end(), line) != lines.end();
}

// ---------------------------------------------------------------------------
// Valid documents

TEST(ConfigTest, FullConfigParsesEveryKey) {
  const Config c = MustParse(kFull);
  EXPECT_EQ(c.file, kFile);
  EXPECT_EQ(c.host.id, "kvm-07");
  EXPECT_EQ(c.web.listen_address, "127.0.0.1:9100");
  EXPECT_EQ(c.log.level, "debug");

  EXPECT_EQ(c.heartbeat.interval, 2500ms);
  EXPECT_EQ(c.heartbeat.timeout, 8s);
  EXPECT_EQ(c.heartbeat.lease, 45s);
  EXPECT_EQ(c.heartbeat.startup_grace, 120s);

  EXPECT_EQ(c.fence.action, FenceActionKind::kGracefulReboot);
  EXPECT_EQ(c.fence.policy, Policy::kQuorum);
  EXPECT_EQ(c.fence.journal_path, "/var/lib/hbfence-test/journal.jsonl");
  EXPECT_EQ(c.fence.sysrq_trigger_path, "/tmp/hbfence-unit-fake-trigger");
  EXPECT_EQ(c.fence.systemctl_path, "/usr/local/bin/systemctl");
  EXPECT_EQ(c.fence.agent_unit, "cloudstack-agent@main.service");
  EXPECT_EQ(c.fence.custom_script, "/etc/hbfence/fence.sh");
  EXPECT_EQ(c.fence.custom_timeout, 30s);
  EXPECT_EQ(c.fence.graceful_escalation, 90500ms);
  EXPECT_EQ(c.fence.sync_grace, Duration::zero());
  EXPECT_EQ(c.fence.systemctl_timeout, 15250ms);

  ASSERT_EQ(c.targets.size(), 2u);
  EXPECT_EQ(c.targets[0].name, "nfs-primary");
  EXPECT_EQ(c.targets[0].kind, "file");
  EXPECT_EQ(c.targets[0].path, "/mnt/primary/hbfence/kvm-07");
  ASSERT_TRUE(c.targets[0].mount.has_value());
  EXPECT_EQ(*c.targets[0].mount, "/mnt/primary");
  EXPECT_EQ(c.targets[1].name, "local");
  EXPECT_EQ(c.targets[1].kind, "file");  // default
  EXPECT_EQ(c.targets[1].path, "/var/lib/hbfence/hb");
  EXPECT_FALSE(c.targets[1].mount.has_value());
}

TEST(ConfigTest, IntegerAndFloatDurationsAreBothAccepted) {
  const Config ints = MustParse(WithMinimal(
      "[heartbeat]\ninterval_seconds = 1\ntimeout_seconds = 3\nlease_seconds = 20\nstartup_grace_seconds = 0"));
  EXPECT_EQ(ints.heartbeat.interval, 1s);
  EXPECT_EQ(ints.heartbeat.timeout, 3s);
  EXPECT_EQ(ints.heartbeat.lease, 20s);
  EXPECT_EQ(ints.heartbeat.startup_grace, Duration::zero());

  const Config floats = MustParse(WithMinimal(
      "[heartbeat]\ninterval_seconds = 0.5\ntimeout_seconds = 1.25\nlease_seconds = 20.0\n"
      "startup_grace_seconds = 0.0"));
  EXPECT_EQ(floats.heartbeat.interval, 500ms);
  EXPECT_EQ(floats.heartbeat.timeout, 1250ms);
  EXPECT_EQ(floats.heartbeat.lease, 20s);
  EXPECT_EQ(floats.heartbeat.startup_grace, Duration::zero());

  const Config fence = MustParse(WithMinimal(
      "[fence]\ncustom_timeout_seconds = 2.5\ngraceful_escalation_seconds = 600\nsync_grace_seconds = 0.75\n"
      "systemctl_timeout_seconds = 1"));
  EXPECT_EQ(fence.fence.custom_timeout, 2500ms);
  EXPECT_EQ(fence.fence.graceful_escalation, 600s);
  EXPECT_EQ(fence.fence.sync_grace, 750ms);
  EXPECT_EQ(fence.fence.systemctl_timeout, 1s);
}

TEST(ConfigTest, SecondsAreRoundedToTheNearestNanosecond) {
  // 1.001 is 1.000999999999999889… as a double: truncated, it would be 1000999999 ns.
  const Config c = MustParse(WithMinimal("[heartbeat]\ninterval_seconds = 1.001\ntimeout_seconds = 0.3\nlease_seconds = 1.701"));
  EXPECT_EQ(c.heartbeat.interval, 1001ms);
  EXPECT_EQ(c.heartbeat.lease, 1701ms);
}

TEST(ConfigTest, DefaultsWhenTablesAreMissing) {
  const Config c = MustParse(WithMinimal(""));
  const HeartbeatConfig hb_default;
  const FenceConfig fence_default;
  EXPECT_EQ(c.host.id, "h1");
  EXPECT_EQ(c.web.listen_address, "0.0.0.0:19746");
  EXPECT_EQ(c.log.level, "info");
  EXPECT_EQ(c.heartbeat.interval, 5s);
  EXPECT_EQ(c.heartbeat.timeout, 10s);
  EXPECT_EQ(c.heartbeat.lease, 60s);
  EXPECT_EQ(c.heartbeat.startup_grace, Duration::zero());
  EXPECT_EQ(c.heartbeat.interval, hb_default.interval);
  EXPECT_EQ(c.fence.action, FenceActionKind::kHardReboot);
  EXPECT_EQ(c.fence.policy, Policy::kAny);
  EXPECT_EQ(c.fence.journal_path, fence_default.journal_path);
  EXPECT_EQ(c.fence.sysrq_trigger_path, "/proc/sysrq-trigger");
  EXPECT_EQ(c.fence.systemctl_path, fence_default.systemctl_path);
  EXPECT_EQ(c.fence.agent_unit, "cloudstack-agent");
  EXPECT_EQ(c.fence.custom_script, fence_default.custom_script);
  EXPECT_EQ(c.fence.custom_timeout, 60s);
  EXPECT_EQ(c.fence.graceful_escalation, 300s);
  EXPECT_EQ(c.fence.sync_grace, 5s);
  EXPECT_EQ(c.fence.systemctl_timeout, 30s);
  ASSERT_EQ(c.targets.size(), 1u);
  EXPECT_EQ(c.targets[0].kind, "file");
  EXPECT_FALSE(c.targets[0].mount.has_value());
}

TEST(ConfigTest, EmptyTablesKeepDefaults) {
  const Config c = MustParse(WithMinimal("[web]\n[log]\n[heartbeat]\n[fence]"));
  EXPECT_EQ(c.web.listen_address, "0.0.0.0:19746");
  EXPECT_EQ(c.log.level, "info");
  EXPECT_EQ(c.heartbeat.lease, 60s);
  EXPECT_EQ(c.fence.action, FenceActionKind::kHardReboot);
}

TEST(ConfigTest, PartialHeartbeatTableKeepsOtherDefaults) {
  const Config c = MustParse(WithMinimal("[heartbeat]\nlease_seconds = 30"));
  EXPECT_EQ(c.heartbeat.interval, 5s);
  EXPECT_EQ(c.heartbeat.timeout, 10s);
  EXPECT_EQ(c.heartbeat.lease, 30s);
}

TEST(ConfigTest, RebootIsAnAliasForHardReboot) {
  const Config c = MustParse(WithMinimal("[fence]\naction = \"reboot\""));
  EXPECT_EQ(c.fence.action, FenceActionKind::kHardReboot);
  EXPECT_EQ(Name(c.fence.action), "hard-reboot");
}

TEST(ConfigTest, EveryActionAndPolicyNameParses) {
  const std::pair<const char*, FenceActionKind> actions[] = {
      {"hard-reboot", FenceActionKind::kHardReboot}, {"graceful-reboot", FenceActionKind::kGracefulReboot},
      {"restart-agent", FenceActionKind::kRestartAgent}, {"log-only", FenceActionKind::kLogOnly},
      {"custom", FenceActionKind::kCustom}};
  for (const auto& [text, want] : actions) {
    const Config c = MustParse(WithMinimal(std::string("[fence]\naction = \"") + text + "\""));
    EXPECT_EQ(c.fence.action, want) << text;
  }
  const std::pair<const char*, Policy> policies[] = {
      {"any", Policy::kAny}, {"all", Policy::kAll}, {"quorum", Policy::kQuorum}};
  for (const auto& [text, want] : policies) {
    const Config c = MustParse(WithMinimal(std::string("[fence]\npolicy = \"") + text + "\""));
    EXPECT_EQ(c.fence.policy, want) << text;
  }
}

TEST(ConfigTest, ValidAgentUnitNames) {
  for (const char* unit : {"cloudstack-agent", "libvirtd.service", "agent@instance-1.service",
                           "system-getty.slice", "dev-disk-by\\x2dlabel.device", "a:b_c"}) {
    const Config c = MustParse(WithMinimal(std::string("[fence]\nagent_unit = '") + unit + "'"));
    EXPECT_EQ(c.fence.agent_unit, unit);
  }
}

TEST(ConfigTest, PathsAreNormalized) {
  const Config c = MustParse(
      "[host]\nid = \"h\"\n[fence]\njournal_path = \"/var/lib//hbfence/./j.jsonl\"\n"
      "[[target]]\nname = \"a\"\npath = \"/mnt/x/sub/../hb\"\nmount = \"/mnt/x/\"\n");
  EXPECT_EQ(c.fence.journal_path, "/var/lib/hbfence/j.jsonl");
  ASSERT_EQ(c.targets.size(), 1u);
  EXPECT_EQ(c.targets[0].path, "/mnt/x/hb");
}

TEST(ConfigTest, PathDeepBelowMountIsAccepted) {
  const Config c = MustParse(
      "[host]\nid = \"h\"\n[[target]]\nname = \"a\"\npath = \"/mnt/x/a/b/c/hb\"\nmount = \"/mnt/x\"\n");
  ASSERT_EQ(c.targets.size(), 1u);
  EXPECT_EQ(c.targets[0].mount, std::filesystem::path("/mnt/x"));
}

TEST(ConfigTest, ZeroIsAllowedOnlyForGraces) {
  EXPECT_EQ(MustParse(WithMinimal("[heartbeat]\nstartup_grace_seconds = 0")).heartbeat.startup_grace,
            Duration::zero());
  EXPECT_EQ(MustParse(WithMinimal("[fence]\nsync_grace_seconds = 0")).fence.sync_grace, Duration::zero());
  EXPECT_CONFIG_ERROR(WithMinimal("[heartbeat]\ninterval_seconds = 0"), 2, 20,
                      "heartbeat.interval_seconds (0) must be > 0");
  EXPECT_CONFIG_ERROR(WithMinimal("[fence]\ncustom_timeout_seconds = 0.0"), 2, 26,
                      "fence.custom_timeout_seconds (0) must be > 0");
}

// ---------------------------------------------------------------------------
// Errors, each with the exact position it points at

TEST(ConfigErrorTest, UnknownKeyPointsAtTheKey) {
  EXPECT_CONFIG_ERROR(WithMinimal("[heartbeat]\nlease_seconds = 60\nlease_secs = 60"), 3, 1,
                      "unknown key heartbeat.lease_secs");
  EXPECT_CONFIG_ERROR(WithMinimal("[fence]\n  actoin = \"log-only\""), 2, 3, "unknown key fence.actoin");
  EXPECT_CONFIG_ERROR(WithMinimal("[web]\nlisten = \"0.0.0.0:1\""), 2, 1, "unknown key web.listen");
}

TEST(ConfigErrorTest, UnknownKeyInTargetPointsAtTheKey) {
  EXPECT_CONFIG_ERROR("[host]\nid = \"h\"\n[[target]]\nname = \"a\"\npath = \"/mnt/a/hb\"\ndevice = \"sdb\"\n", 6, 1,
                      "unknown key target.device");
}

TEST(ConfigErrorTest, UnknownTopLevelTable) {
  EXPECT_CONFIG_ERROR(WithMinimal("[hearbeat]\nlease_seconds = 60"), 1, 2, "unknown key hearbeat");
}

TEST(ConfigErrorTest, UnknownTopLevelKey) {
  EXPECT_CONFIG_ERROR(WithMinimal("debug = true"), 1, 1, "unknown key debug");
}

TEST(ConfigErrorTest, WrongTypes) {
  EXPECT_CONFIG_ERROR(WithMinimal("[heartbeat]\nlease_seconds = \"60\""), 2, 17,
                      "heartbeat.lease_seconds must be a number of seconds");
  EXPECT_CONFIG_ERROR(WithMinimal("[heartbeat]\ntimeout_seconds = true"), 2, 19,
                      "heartbeat.timeout_seconds must be a number of seconds");
  EXPECT_CONFIG_ERROR(WithMinimal("[fence]\naction = 1"), 2, 10, "fence.action must be a string");
  EXPECT_CONFIG_ERROR(WithMinimal("[fence]\njournal_path = [\"/a\"]"), 2, 16, "fence.journal_path must be a string");
  EXPECT_CONFIG_ERROR("[host]\nid = 7\n[[target]]\nname = \"a\"\npath = \"/a/hb\"\n", 2, 6, "host.id must be a string");
  EXPECT_CONFIG_ERROR("[host]\nid = \"h\"\n[[target]]\nname = 1\npath = \"/a/hb\"\n", 4, 8,
                      "target.name must be a string");
}

TEST(ConfigErrorTest, TableThatIsNotATable) {
  EXPECT_CONFIG_ERROR(WithMinimal("heartbeat = 5"), 1, 13, "heartbeat must be a table");
  EXPECT_CONFIG_ERROR("target = \"x\"\n[host]\nid = \"h\"\n", 1, 10, "target must be an array of tables");
}

TEST(ConfigErrorTest, NegativeDuration) {
  EXPECT_CONFIG_ERROR(WithMinimal("[heartbeat]\ntimeout_seconds = -1"), 2, 19,
                      "heartbeat.timeout_seconds (-1) must be > 0");
  EXPECT_CONFIG_ERROR(WithMinimal("[heartbeat]\nstartup_grace_seconds = -0.5"), 2, 25,
                      "heartbeat.startup_grace_seconds (-0.5) must be ≥ 0");
  EXPECT_CONFIG_ERROR(WithMinimal("[fence]\nsync_grace_seconds = -3"), 2, 22, "fence.sync_grace_seconds (-3)");
}

TEST(ConfigErrorTest, NonFiniteAndHugeDurations) {
  EXPECT_CONFIG_ERROR(WithMinimal("[heartbeat]\nlease_seconds = inf"), 2, 17, "heartbeat.lease_seconds");
  EXPECT_CONFIG_ERROR(WithMinimal("[heartbeat]\nlease_seconds = nan"), 2, 17, "heartbeat.lease_seconds");
  EXPECT_CONFIG_ERROR(WithMinimal("[heartbeat]\nlease_seconds = 31536001"), 2, 17, "at most a year");
}

// Regression (was a bug, src/config.cc:155, Parser::Seconds): `*n->value<double>()` dereferences an
// empty optional when the integer is beyond 2^53 (toml++ refuses the lossy int->double
// conversion), which is undefined behaviour: today a huge startup grace is silently
// accepted with a garbage value and a huge lease is misreported as "lease_seconds (0)".
// Expected: rejected at the value, with the number in the message.
TEST(ConfigErrorTest, IntegerBeyondDoublePrecisionIsRejected) {
  EXPECT_CONFIG_ERROR(WithMinimal("[heartbeat]\nlease_seconds = 9007199254740993"), 2, 17,
                      "heartbeat.lease_seconds (9");
  EXPECT_CONFIG_ERROR(WithMinimal("[heartbeat]\nstartup_grace_seconds = 9223372036854775807"), 2, 25,
                      "heartbeat.startup_grace_seconds (9");
}

// The lease rule (fence/timings.h): lease >= W + timeout + 2 × 0.1 s, where W is how long
// after one write began the next may start. It implies timeout < lease and interval <
// lease, the two checks it replaces.
TEST(LeaseRuleConfigTest, TheReportedFastConfigurationIsRejectedAtTheLease) {
  // interval 1 / timeout 0.5 / lease 1.001: 3-4 decisions in 20 s with 1 ms writes.
  const ConfigError e =
      MustFail(WithMinimal("[heartbeat]\ninterval_seconds = 1\ntimeout_seconds = 0.5\nlease_seconds = 1.001"));
  EXPECT_EQ(e.ToString(),
            "hbfence.toml:4:17: heartbeat.lease_seconds (1.001) must be at least 1.7, the longest healthy storage can "
            "go between lease renewals with interval_seconds 1 and timeout_seconds 0.5: the next write may start 1 s "
            "after one began, then take up to the timeout, plus 2 × 0.1 s scheduling allowance (fence/timings.h)");
}

TEST(LeaseRuleConfigTest, TheReportedSlowConfigurationIsRejectedAtTheLease) {
  // interval 0.5 / timeout 1 / lease 1.2: 10 decisions in 10 s with 0.85 s writes, no timeouts.
  const ConfigError e =
      MustFail(WithMinimal("[heartbeat]\ninterval_seconds = 0.5\ntimeout_seconds = 1\nlease_seconds = 1.2"));
  EXPECT_EQ(e.line, 4u);
  EXPECT_EQ(e.column, 17u);
  EXPECT_EQ(e.message,
            "heartbeat.lease_seconds (1.2) must be at least 2.7, the longest healthy storage can go between lease "
            "renewals with interval_seconds 0.5 and timeout_seconds 1: the next write may start 1.5 s after one "
            "began, then take up to the timeout, plus 2 × 0.1 s scheduling allowance (fence/timings.h)");
}

TEST(LeaseRuleConfigTest, ALeaseOfExactlyThePrintedMinimumIsAccepted) {
  // interval, timeout, minimum lease as check-config prints it.
  const std::tuple<const char*, const char*, const char*> cases[] = {
      {"1", "0.5", "1.7"},       {"0.5", "1", "2.7"},   {"5", "10", "25.2"},  {"1", "0.85", "3"},
      {"0.1", "0.3", "1"},       {"0.2", "0.5", "1.5"}, {"2.5", "8", "18.2"}, {"0.7", "2", "5"},
      {"1.001", "0.3", "1.501"}, {"0.3", "0.7", "1.8"}, {"60", "60", "180.2"},
  };
  for (const auto& [interval, timeout, minimum] : cases) {
    const std::string timings = std::string("[heartbeat]\ninterval_seconds = ") + interval + "\ntimeout_seconds = " + timeout;
    SCOPED_TRACE(timings);
    const Config c = MustParse(WithMinimal(timings + "\nlease_seconds = " + minimum));
    EXPECT_EQ(Derive(c.heartbeat).lease_margin, Duration::zero());
    EXPECT_EQ(ExactSeconds(Derive(c.heartbeat).worst_renewal_gap), minimum);
    const std::string just_below = ExactSeconds(Derive(c.heartbeat).worst_renewal_gap - 1ms);
    EXPECT_THAT(MustFail(WithMinimal(timings + "\nlease_seconds = " + just_below)).message,
                StartsWith("heartbeat.lease_seconds (" + just_below + ") must be at least " + minimum + ", "));
  }
}

TEST(LeaseRuleConfigTest, TimeoutAboveTheLeasePointsAtTheLease) {
  // Formerly "timeout_seconds (70) must be less than lease_seconds (60)" at the timeout:
  // the rule names the lease, the value that must change.
  EXPECT_CONFIG_ERROR(WithMinimal("[heartbeat]\ntimeout_seconds = 70\nlease_seconds = 60"), 3, 17,
                      "heartbeat.lease_seconds (60) must be at least 145.2, the longest healthy storage can go between "
                      "lease renewals with interval_seconds 5 and timeout_seconds 70: the next write may start 75 s");
  EXPECT_CONFIG_ERROR(WithMinimal("[heartbeat]\nlease_seconds = 30\ntimeout_seconds = 30"), 2, 17,
                      "heartbeat.lease_seconds (30) must be at least 65.2,");
  EXPECT_CONFIG_ERROR(WithMinimal("[heartbeat]\ntimeout_seconds = 2.5\nlease_seconds = 1.5\ninterval_seconds = 1"), 3,
                      17, "heartbeat.lease_seconds (1.5) must be at least 5.7,");
  // The default timeout (10) against a short lease.
  EXPECT_CONFIG_ERROR(WithMinimal("[heartbeat]\ninterval_seconds = 1\nlease_seconds = 8"), 3, 17,
                      "heartbeat.lease_seconds (8) must be at least 21.2,");
}

TEST(LeaseRuleConfigTest, WithoutALeaseInTheTomlTheErrorPointsAtIntervalThenTimeout) {
  EXPECT_CONFIG_ERROR(WithMinimal("[heartbeat]\ninterval_seconds = 60\nlease_seconds = 60"), 3, 17,
                      "heartbeat.lease_seconds (60) must be at least 70.2,");
  // The default lease (60): the interval, the first of interval and timeout set.
  EXPECT_CONFIG_ERROR(WithMinimal("[heartbeat]\ntimeout_seconds = 5\ninterval_seconds = 90"), 3, 20,
                      "heartbeat.lease_seconds (60) must be at least 95.2, the longest healthy storage can go between "
                      "lease renewals with interval_seconds 90 and timeout_seconds 5");
  EXPECT_CONFIG_ERROR(WithMinimal("[heartbeat]\ntimeout_seconds = 40"), 2, 19,
                      "heartbeat.lease_seconds (60) must be at least 85.2,");
}

TEST(LeaseRuleConfigTest, AJustLongEnoughLeaseIsAcceptedAndItsMarginIsZero) {
  const Config c = MustParse(WithMinimal("[heartbeat]\ninterval_seconds = 0.5\ntimeout_seconds = 1\nlease_seconds = 2.7"));
  const Timings t = Derive(c.heartbeat);
  EXPECT_EQ(t.worst_renewal_gap, 2700ms);
  EXPECT_EQ(t.lease_margin, Duration::zero());
  EXPECT_TRUE(Contains(DescribeConfig(c), "# lease_margin (lease - worst_renewal_gap) = 0s"));
}

TEST(ConfigErrorTest, UnknownFenceAction) {
  EXPECT_CONFIG_ERROR(WithMinimal("[fence]\naction = \"shutdown\""), 2, 10, "fence.action \"shutdown\" is not one of");
  EXPECT_CONFIG_ERROR(WithMinimal("[fence]\naction = \"Hard-Reboot\""), 2, 10, "fence.action \"Hard-Reboot\"");
  EXPECT_CONFIG_ERROR(WithMinimal("[fence]\naction = \"\""), 2, 10, "fence.action \"\" is not one of");
}

TEST(ConfigErrorTest, UnknownPolicy) {
  EXPECT_CONFIG_ERROR(WithMinimal("[fence]\npolicy = \"majority\""), 2, 10,
                      "fence.policy \"majority\" is not one of any, all, quorum");
}

TEST(ConfigErrorTest, TomlSyntaxErrorsCarryTomlppPositions) {
  // Positions and descriptions are toml++'s own, passed through unchanged.
  // A missing value: where the value should start.
  EXPECT_CONFIG_ERROR("[host]\nid = \"h\"\n[heartbeat]\nlease_seconds = \n", 4, 17, "expected value");
  // An unterminated string: the newline inside it.
  EXPECT_CONFIG_ERROR("[host]\nid = \"h1\n[[target]]\n", 2, 9, "Error while parsing string");
  // A key defined twice: the second definition.
  EXPECT_CONFIG_ERROR("[host]\nid = \"a\"\nid = \"b\"\n", 3, 6, "cannot redefine existing string 'id'");
  // A table header left open.
  EXPECT_CONFIG_ERROR("[host\nid = \"a\"\n", 1, 6, "expected ']'");
  // Trailing garbage after a value.
  EXPECT_CONFIG_ERROR("[host]\nid = \"a\"\n[heartbeat]\nlease_seconds = 5 5\n", 4, 19,
                      "expected a comment or whitespace");
  const ConfigError e = MustFail("[host\n");
  EXPECT_EQ(e.ToString(), "hbfence.toml:1:6: " + e.message);
}

TEST(ConfigErrorTest, MissingHostId) {
  // No [host] at all: the error points at the document.
  {
    const ConfigError e = MustFail("[[target]]\nname = \"a\"\npath = \"/mnt/a/hb\"\n");
    EXPECT_THAT(e.message, HasSubstr("host.id is required"));
    EXPECT_EQ(e.line, 1u) << e.ToString();
    EXPECT_EQ(e.column, 1u) << e.ToString();
  }
  // [host] without id: the error points at the table.
  EXPECT_CONFIG_ERROR("[web]\nlisten_address = \"[::1]:80\"\n[host]\n[[target]]\nname = \"a\"\npath = \"/a/b\"\n", 3, 1,
                      "host.id is required");
  // An empty id is no id.
  EXPECT_CONFIG_ERROR("[host]\nid = \"\"\n[[target]]\nname = \"a\"\npath = \"/a/b\"\n", 1, 1, "host.id is required");
}

// packaging/hbfence.toml marks what each host must set with REPLACE-ME: a file still
// holding one is refused at the first placeholder, whichever key it is in.
TEST(ConfigErrorTest, PlaceholdersOfTheShippedFileAreRefused) {
  EXPECT_CONFIG_ERROR("[host]\nid = \"REPLACE-ME\"\n[[target]]\nname = \"a\"\nmount = \"/mnt/REPLACE-ME\"\n"
                      "layout = \"cloudstack\"\n",
                      2, 6,
                      "host.id \"REPLACE-ME\" is a placeholder of the shipped configuration (REPLACE-ME): set this "
                      "host's identifier (CloudStack: its private IP address, which names its heartbeat file)");
  EXPECT_CONFIG_ERROR("[host]\nid = \"h1\"\n[[target]]\nname = \"a\"\nmount = \"/mnt/REPLACE-ME\"\n"
                      "layout = \"cloudstack\"\n",
                      5, 9,
                      "target.mount \"/mnt/REPLACE-ME\" is a placeholder of the shipped configuration (REPLACE-ME): "
                      "set the mount point of a shared primary storage pool (CloudStack: /mnt/<pool uuid>)");
  // The first in the file, not the first key in toml++'s (sorted) order.
  EXPECT_CONFIG_ERROR("[web.basic_auth_users]\nprometheus = \"$2y$10$REPLACE-ME-WITH-A-BCRYPT-HASH\"\n"
                      "[host]\nid = \"REPLACE-ME\"\n[[target]]\nname = \"a\"\npath = \"/a/hb\"\n",
                      2, 14, "web.basic_auth_users.prometheus \"$2y$10$REPLACE-ME-WITH-A-BCRYPT-HASH\" is a placeholder");
  EXPECT_CONFIG_ERROR(WithMinimal("[fence]\ncustom_script = \"/etc/REPLACE-ME.sh\""), 2, 17,
                      "fence.custom_script \"/etc/REPLACE-ME.sh\" is a placeholder of the shipped configuration "
                      "(REPLACE-ME): set the value this host needs");
  EXPECT_CONFIG_ERROR("[host]\nid = \"h1\"\n[[target]]\nname = \"a\"\nkind = \"exec\"\n"
                      "command = [\"/bin/true\", \"REPLACE-ME\"]\n",
                      6, 25, "target.command \"REPLACE-ME\" is a placeholder");
  // Comments are not values.
  EXPECT_EQ(MustParse(WithMinimal("# host.id = \"REPLACE-ME\"")).host.id, "h1");
}

TEST(ConfigErrorTest, HostIdWithSlash) {
  EXPECT_CONFIG_ERROR("[host]\nid = \"a/b\"\n[[target]]\nname = \"a\"\npath = \"/a/b\"\n", 2, 6,
                      "host.id \"a/b\": '/' cannot appear in it");
}

// The id names the heartbeat file hb-<id> that other hosts list (and export as a
// metric label) and goes into log lines: a newline in it forged a critical line.
TEST(ConfigErrorTest, HostIdIsLettersDigitsAndDotDashUnderscoreColon) {
  auto doc = [](const std::string& id) { return "[host]\nid = \"" + id + "\"\n[[target]]\nname = \"a\"\npath = \"/a/b\"\n"; };
  const std::string allowed = ": use letters, digits, '.', '-', '_' and ':' only (the id names the heartbeat file "
                              "hb-<id> other hosts read, and appears in log lines)";
  EXPECT_CONFIG_ERROR(doc("kvm-07\\n2026-01-01T00:00:00.000+00:00 critical hbfence will reboot system"), 2, 6,
                      "host.id \"kvm-07\\u000a2026-01-01T00:00:00.000+00:00 critical hbfence will reboot system\": a "
                      "control character (U+000A) cannot appear in it" + allowed);
  EXPECT_CONFIG_ERROR(doc("kvm 07"), 2, 6, "host.id \"kvm 07\": a space cannot appear in it" + allowed);
  EXPECT_CONFIG_ERROR(doc("kvm\\t07"), 2, 6, "a control character (U+0009) cannot appear in it");
  EXPECT_CONFIG_ERROR(doc("kvm\\u007f"), 2, 6, "a control character (U+007F) cannot appear in it");
  EXPECT_CONFIG_ERROR(doc("k\\u00e9"), 2, 6, "a non-ASCII character cannot appear in it");
  EXPECT_CONFIG_ERROR(doc("a*"), 2, 6, "'*' cannot appear in it");
  EXPECT_CONFIG_ERROR(doc(std::string(253, 'a')), 2, 6,
                      "host.id is 253 bytes; at most 252 fit the heartbeat file name hb-<id> (255 bytes)");
  for (const std::string& id : std::vector<std::string>{"10.1.1.7", "kvm-07.example.org", "fd00::7", "0b5a3c1e-7d2f-4c4e-9a55-1f2e3d4c5b6a",
                               "host_1", std::string(252, 'a')}) {
    EXPECT_EQ(MustParse(doc(id)).host.id, id);
  }
}

TEST(ConfigErrorTest, NoTarget) {
  EXPECT_CONFIG_ERROR("[host]\nid = \"h\"\n", 1, 1, "at least one [[target]] is required");
}

TEST(ConfigErrorTest, DuplicateTargetNamePointsAtTheSecond) {
  EXPECT_CONFIG_ERROR(
      "[host]\nid = \"h\"\n"
      "[[target]]\nname = \"nfs\"\npath = \"/mnt/a/hb\"\n"
      "[[target]]\nname = \"nfs\"\npath = \"/mnt/b/hb\"\n",
      7, 8, "target.name \"nfs\" is used twice");
}

// One heartbeat configured twice counted twice toward quorum and "all": the second
// is an error, pointing at what makes it the same, and naming the first.
TEST(ConfigErrorTest, TheSameHeartbeatTwiceIsAnErrorAtTheSecond) {
  auto two = [](const std::string& first, const std::string& second) {
    return "[host]\nid = \"h\"\n[[target]]\nname = \"a\"\n" + first + "[[target]]\nname = \"b\"\n" + second;
  };
  // Lines: 3 [[target]], 4 name, 5 first's key...; the second's keys follow.
  EXPECT_CONFIG_ERROR(two("path = \"/mnt/a/hb\"\n", "path = \"/mnt/a//x/../hb\"\n"), 8, 8,
                      "target \"b\" writes /mnt/a/hb, already the heartbeat of target \"a\" (hbfence.toml:5:8): "
                      "one heartbeat would count twice toward the fence policy");
  // The cloudstack layout's file, from the same mount spelled differently.
  EXPECT_CONFIG_ERROR(two("mount = \"/mnt/x\"\nlayout = \"cloudstack\"\n", "layout = \"cloudstack\"\nmount = \"/mnt/x/\"\n"), 10,
                      9, "target \"b\" writes /mnt/x/KVMHA/hb-h, already the heartbeat of target \"a\" (hbfence.toml:5:9)");
  EXPECT_CONFIG_ERROR(two("mount = \"/mnt/x\"\nlayout = \"cloudstack\"\n", "path = \"/mnt/x/KVMHA/hb-h\"\n"), 9, 8,
                      "target \"b\" writes /mnt/x/KVMHA/hb-h, already the heartbeat of target \"a\" (hbfence.toml:5:9)");
  // Block targets: the same sector; a file target on the same path clobbers it too.
  EXPECT_CONFIG_ERROR(two("kind = \"block\"\npath = \"/dev/sdb\"\n", "kind = \"block\"\npath = \"/dev/sdb\"\noffset = 0\n"),
                      10, 8, "target \"b\" writes /dev/sdb at offset 0, already the heartbeat of target \"a\" (hbfence.toml:6:8)");
  EXPECT_CONFIG_ERROR(two("kind = \"block\"\npath = \"/dev/sdb\"\noffset = 8192\n", "path = \"/dev/sdb\"\n"), 10, 8,
                      "target \"b\" writes /dev/sdb, already the heartbeat of target \"a\" (hbfence.toml:6:8)");
  EXPECT_CONFIG_ERROR(two("kind = \"exec\"\ncommand = [\"/bin/probe\", \"x\"]\n", "kind = \"exec\"\ncommand = [\"/bin/probe\", \"x\"]\n"),
                      10, 11, "target \"b\" runs the same command as target \"a\" (hbfence.toml:6:11)");
  // Relative paths anchor at the file's directory first.
  const auto relative = ParseConfig(two("path = \"hb\"\n", "path = \"/etc/hbfence/hb\"\n"), "/etc/hbfence/hbfence.toml");
  ASSERT_FALSE(relative.ok());
  EXPECT_THAT(relative.error().ToString(),
              StartsWith("/etc/hbfence/hbfence.toml:8:8: target \"b\" writes /etc/hbfence/hb, already the heartbeat of "
                         "target \"a\" (/etc/hbfence/hbfence.toml:5:8)"));

  // Different sectors of one device, and different commands, are different heartbeats.
  EXPECT_EQ(MustParse(two("kind = \"block\"\npath = \"/dev/sdb\"\n", "kind = \"block\"\npath = \"/dev/sdb\"\noffset = 4096\n"))
                .targets.size(),
            2u);
  EXPECT_EQ(MustParse(two("kind = \"exec\"\ncommand = [\"/bin/probe\", \"x\"]\n", "kind = \"exec\"\ncommand = [\"/bin/probe\", \"y\"]\n"))
                .targets.size(),
            2u);
}

TEST(ConfigErrorTest, TargetWithoutNameOrPath) {
  EXPECT_CONFIG_ERROR("[host]\nid = \"h\"\n[[target]]\npath = \"/mnt/a/hb\"\n", 3, 1, "target.name is required");
  EXPECT_CONFIG_ERROR("[host]\nid = \"h\"\n[[target]]\nname = \"a\"\nmount = \"/mnt/a\"\n", 3, 1,
                      "target \"a\" needs a path");
}

TEST(ConfigErrorTest, PathNotBelowMountPointsAtPath) {
  auto doc = [](const std::string& path, const std::string& mount) {
    return "[host]\nid = \"h\"\n[[target]]\nname = \"a\"\npath = \"" + path + "\"\nmount = \"" + mount + "\"\n";
  };
  EXPECT_CONFIG_ERROR(doc("/var/hb", "/mnt/a"), 5, 8, "target.path /var/hb is not below mount /mnt/a");
  // A sibling sharing a name prefix is not below.
  EXPECT_CONFIG_ERROR(doc("/mnt/ab/hb", "/mnt/a"), 5, 8, "is not below mount /mnt/a");
  // The mount point itself is not below it.
  EXPECT_CONFIG_ERROR(doc("/mnt/a", "/mnt/a"), 5, 8, "is not below mount");
  // ".." is resolved before the check.
  EXPECT_CONFIG_ERROR(doc("/mnt/a/../b/hb", "/mnt/a"), 5, 8, "target.path /mnt/b/hb is not below mount /mnt/a");
}

// A path ending in '/' (or normalized to one, as "/" and "x/.." are) is a directory:
// every write failed, so the host fenced after one lease.
TEST(ConfigErrorTest, TargetPathMustNameAFileNotADirectory) {
  auto doc = [](const std::string& keys) { return "[host]\nid = \"h\"\n[[target]]\nname = \"a\"\n" + keys; };
  EXPECT_CONFIG_ERROR(doc("path = \"/\"\n"), 5, 8,
                      "target.path \"/\" names a directory, not a file: every write would fail; give the heartbeat "
                      "file, e.g. \"/hb\"");
  EXPECT_CONFIG_ERROR(doc("path = \"/mnt/a/\"\n"), 5, 8, "target.path \"/mnt/a/\" names a directory, not a file");
  EXPECT_CONFIG_ERROR(doc("path = \"/mnt/a/\"\nmount = \"/mnt\"\n"), 5, 8, "names a directory, not a file");
  EXPECT_CONFIG_ERROR(doc("path = \"/mnt/a/hb/.\"\n"), 5, 8,
                      "target.path \"/mnt/a/hb/.\" (/mnt/a/hb/) names a directory, not a file: every write would "
                      "fail; give the heartbeat file, e.g. \"/mnt/a/hb/hb\"");
  EXPECT_CONFIG_ERROR(doc("path = \"/mnt/a/..\"\n"), 5, 8, "target.path \"/mnt/a/..\" (/mnt/) names a directory");
  EXPECT_CONFIG_ERROR(doc("kind = \"block\"\npath = \"/dev/\"\n"), 6, 8,
                      "target.path \"/dev/\" names a directory, not a device: give the device, e.g. \"/dev/sdb\"");
  const auto relative = ParseConfig(doc("path = \".\"\n"), "/etc/hbfence/hbfence.toml");
  ASSERT_FALSE(relative.ok());
  EXPECT_EQ(relative.error().ToString(),
            "/etc/hbfence/hbfence.toml:5:8: target.path \".\" (/etc/hbfence/) names a directory, not a file: every "
            "write would fail; give the heartbeat file, e.g. \"/etc/hbfence/hb\"");
  // A mount may end in '/': it is a directory.
  EXPECT_EQ(MustParse(doc("path = \"/mnt/a/hb\"\nmount = \"/mnt/a/\"\n")).targets[0].path, "/mnt/a/hb");
}

TEST(ConfigErrorTest, EmptyPaths) {
  EXPECT_CONFIG_ERROR("[host]\nid = \"h\"\n[[target]]\nname = \"a\"\npath = \"\"\n", 5, 8,
                      "target.path must not be empty");
  EXPECT_CONFIG_ERROR("[host]\nid = \"h\"\n[[target]]\nname = \"a\"\npath = \"/mnt/a/hb\"\nmount = ''\n", 6, 9,
                      "target.mount must not be empty");
  EXPECT_CONFIG_ERROR(WithMinimal("[fence]\njournal_path = \"\""), 2, 16, "fence.journal_path must not be empty");
  EXPECT_CONFIG_ERROR(WithMinimal("[fence]\nsysrq_trigger_path = \"\""), 2, 22,
                      "fence.sysrq_trigger_path must not be empty");
  EXPECT_CONFIG_ERROR(WithMinimal("[fence]\nsystemctl_path = ''"), 2, 18, "fence.systemctl_path must not be empty");
  EXPECT_CONFIG_ERROR(WithMinimal("[fence]\ncustom_script = ''"), 2, 17, "fence.custom_script must not be empty");
}

// Relative paths anchor at the configuration file's directory, never at the cwd.
TEST(ConfigTest, RelativePathsAnchorAtTheConfigFile) {
  auto r = ParseConfig(
      "[host]\nid = \"h\"\n"
      "[fence]\njournal_path = \"state/journal.jsonl\"\nsysrq_trigger_path = \"./fake-trigger\"\n"
      "systemctl_path = \"../bin/systemctl\"\ncustom_script = \"fence.sh\"\n"
      "[[target]]\nname = \"a\"\npath = \"mnt/a/hb\"\nmount = \"mnt/a\"\n"
      "[[target]]\nname = \"b\"\npath = \"/abs/hb\"\n",
      "/etc/hbfence/hbfence.toml");
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  const Config& c = r.value();
  EXPECT_EQ(c.fence.journal_path, "/etc/hbfence/state/journal.jsonl");
  EXPECT_EQ(c.fence.sysrq_trigger_path, "/etc/hbfence/fake-trigger");
  EXPECT_EQ(c.fence.systemctl_path, "/etc/bin/systemctl");
  EXPECT_EQ(c.fence.custom_script, "/etc/hbfence/fence.sh");
  ASSERT_EQ(c.targets.size(), 2u);
  EXPECT_EQ(c.targets[0].path, "/etc/hbfence/mnt/a/hb");
  EXPECT_EQ(c.targets[0].mount, std::filesystem::path("/etc/hbfence/mnt/a"));
  EXPECT_EQ(c.targets[1].path, "/abs/hb");  // absolute paths are left alone
}

TEST(ConfigErrorTest, RelativePathNotBelowMount) {
  const std::string text = "[host]\nid = \"h\"\n[[target]]\nname = \"a\"\npath = \"other/hb\"\nmount = \"mnt\"\n";
  auto r = ParseConfig(text, "/etc/hbfence/hbfence.toml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().ToString(),
            "/etc/hbfence/hbfence.toml:5:8: target.path /etc/hbfence/other/hb is not below mount /etc/hbfence/mnt");
}

TEST(ConfigErrorTest, BadAgentUnit) {
  EXPECT_CONFIG_ERROR(WithMinimal("[fence]\nagent_unit = \"-x\""), 2, 14,
                      "fence.agent_unit \"-x\" is not a systemd unit name");
  EXPECT_CONFIG_ERROR(WithMinimal("[fence]\nagent_unit = \"cloudstack agent\""), 2, 14,
                      "fence.agent_unit \"cloudstack agent\" is not a systemd unit name");
  EXPECT_CONFIG_ERROR(WithMinimal("[fence]\nagent_unit = \"\""), 2, 14, "is not a systemd unit name");
  EXPECT_CONFIG_ERROR(WithMinimal("[fence]\nagent_unit = \"a;reboot\""), 2, 14, "is not a systemd unit name");
  EXPECT_CONFIG_ERROR(WithMinimal("[fence]\nagent_unit = \"a/b\""), 2, 14, "is not a systemd unit name");
}

TEST(ConfigErrorTest, UnsupportedTargetKind) {
  EXPECT_CONFIG_ERROR("[host]\nid = \"h\"\n[[target]]\nname = \"a\"\nkind = \"nfs\"\npath = \"/a/hb\"\n", 5, 8,
                      "target.kind \"nfs\" is not one of file, block, exec");
}

TEST(ConfigErrorTest, BadListenAddressAndLogLevel) {
  EXPECT_CONFIG_ERROR(WithMinimal("[web]\nlisten_address = \"localhost\""), 2, 18, "must be host:port");
  EXPECT_CONFIG_ERROR(WithMinimal("[web]\nlisten_address = \"0.0.0.0:\""), 2, 18, "web.listen_address");
  EXPECT_CONFIG_ERROR(WithMinimal("[web]\nlisten_address = \"0.0.0.0:65536\""), 2, 18, "web.listen_address");
  EXPECT_CONFIG_ERROR(WithMinimal("[web]\nlisten_address = \"0.0.0.0:http\""), 2, 18, "web.listen_address");
  EXPECT_CONFIG_ERROR(WithMinimal("[log]\nlevel = \"verbose\""), 2, 9, "log.level must be one of");
  EXPECT_CONFIG_ERROR(WithMinimal("[log]\nformat = \"xml\""), 2, 10, "log.format must be one of plain, logfmt, json");
  EXPECT_EQ(MustParse(WithMinimal("")).log.format, "plain");
  EXPECT_EQ(MustParse(WithMinimal("[log]\nformat = \"logfmt\"")).log.format, "logfmt");
}

// civetweb reads listening_ports loosely: "999.1.1.1:p" bound 231.1.1.1,
// "127.0.0.257" bound 127.0.1.1 and "a:1,b:2" listened on both. One address, exactly.
TEST(ConfigErrorTest, ListenAddressIsExactlyOneHostAndPort) {
  const std::pair<std::string, std::string> bad[] = {
      {"999.1.1.1:19746", "999.1.1.1 is not an IPv4 address (four numbers from 0 to 255, without leading zeros)"},
      {"127.0.0.257:19746", "127.0.0.257 is not an IPv4 address"},
      {"a:1,b:2", "one host:port only: with a ',' civetweb would listen on every entry of a list"},
      {"127.0.0.1:80,127.0.0.2:81", "one host:port only"},
      {"010.0.0.1:80", "010.0.0.1 is not an IPv4 address"},
      {"1.2.3:80", "1.2.3 is not an IPv4 address"},
      {"1.2.3.4.5:80", "1.2.3.4.5 is not an IPv4 address"},
      {"1.2.3.4 :80", "a space cannot appear in host:port"},
      {"+1.2.3.4:80", "'+' cannot appear in host:port"},
      {"1.2.3.4/32:80", "'/' cannot appear in host:port"},
      {"127.0.0.1:80s", "must be host:port, the port a number from 0 to 65535"},
      {"127.0.0.1:65536", "must be host:port, the port a number from 0 to 65535"},
      {"1.2.3.4:5:6", "an IPv6 address goes in brackets, e.g. [::1]:19746"},
      {"host_name:80", "'_' cannot appear in host:port"},
      {"-host:80", "-host is not a host name (labels of letters, digits and '-' separated by dots, starting with a "
                   "letter)"},
      {"9host:80", "9host is not an IPv4 address"},
      {"a..b:80", "a..b is not a host name"},
      {"a-.b:80", "a-.b is not a host name"},
      {std::string(64, 'a') + ":80", std::string(64, 'a') + " is not a host name"},
      {"[::1:80", "[::1 is not an IPv6 address in brackets"},
      {"[zz]:80", "[zz] is not an IPv6 address in brackets"},
      {"[::1]:", "must be host:port"},
  };
  for (const auto& [address, problem] : bad) {
    EXPECT_CONFIG_ERROR(WithMinimal("[web]\nlisten_address = '" + address + "'"), 2, 18,
                        "web.listen_address \"" + address + "\": " + problem);
  }
  EXPECT_CONFIG_ERROR(WithMinimal("[web]\nlisten_address = \"127.0.0.1:80\\n\""), 2, 18,
                      "web.listen_address \"127.0.0.1:80\\u000a\": a control or non-ASCII character cannot appear");
  for (const std::string good : {"127.0.0.1:9100", "0.0.0.0:19746", "255.255.255.255:0", "10.1.1.7:65535",
                                 "localhost:19746", "kvm-07.example.org:19746", ":19746", ":0"}) {
    EXPECT_EQ(MustParse(WithMinimal("[web]\nlisten_address = '" + good + "'")).web.listen_address, good);
  }
}

// "[IPv6]:port" needs an HTTP library with IPv6, which Debian 12's civetweb is not:
// refused then, as the key and the flag, instead of failing to bind at start.
TEST(ConfigErrorTest, AnIpv6ListenAddressNeedsAnHttpLibraryWithIpv6) {
  for (const std::string address : {"[::1]:19746", "[::]:80", "[fe80::1]:80"}) {
    EXPECT_EQ(ListenAddressProblem(address, /*ipv6=*/true), "") << address;
    const std::string port = address.substr(address.rfind(':') + 1);
    EXPECT_EQ(ListenAddressProblem(address, /*ipv6=*/false),
              "hbfence's HTTP library (civetweb, as Debian 12 builds it) cannot listen on IPv6; use an IPv4 address, "
              "\":" + port + "\" for every IPv4 address, or an IPv6 proxy in front")
        << address;
  }
  EXPECT_EQ(ListenAddressProblem("[zz]:80", true), "[zz] is not an IPv6 address in brackets");
  EXPECT_EQ(ListenAddressProblem(":19746", false), "");
  // The configuration asks the library it runs with.
  if (HttpServerHasIpv6()) {
    EXPECT_EQ(MustParse(WithMinimal("[web]\nlisten_address = '[::1]:19746'")).web.listen_address, "[::1]:19746");
  } else {
    EXPECT_CONFIG_ERROR(WithMinimal("[web]\nlisten_address = '[::1]:19746'"), 2, 18,
                        "web.listen_address \"[::1]:19746\": hbfence's HTTP library (civetweb, as Debian 12 builds it) "
                        "cannot listen on IPv6");
  }
}

// web.telemetry_path: a plain absolute path, never one hbfence serves itself.
TEST(ConfigErrorTest, TelemetryPathIsAPlainPathOfItsOwn) {
  EXPECT_EQ(MustParse(WithMinimal("")).web.telemetry_path, "/metrics");
  for (const std::string good : {"/metrics", "/probe/metrics", "/x", "/a.b/c-d_e~f", "/metrics2"}) {
    EXPECT_EQ(TelemetryPathProblem(good), "") << good;
    EXPECT_EQ(MustParse(WithMinimal("[web]\ntelemetry_path = '" + good + "'")).web.telemetry_path, good);
  }
  const std::pair<std::string, std::string> bad[] = {
      {"", "must be an absolute URL path, e.g. /metrics"},
      {"metrics", "must be an absolute URL path, e.g. /metrics"},
      {"/", "\"/\" is the status page"},
      {"/metrics/", "must not end with '/'"},
      {"//metrics", "must not contain an empty segment (\"//\")"},
      {"/a/../metrics", "must not contain a \".\" or \"..\" segment"},
      {"/./metrics", "must not contain a \".\" or \"..\" segment"},
      {"/met rics", "only letters, digits, '/', '-', '.', '_' and '~' can appear in it (nothing to escape or decode)"},
      {"/m%65trics", "only letters, digits"},
      {"/metrics?x=1", "only letters, digits"},
      {"/healthz", "/healthz and the paths under /-/ are hbfence's own (/-/healthy, /-/ready)"},
      {"/-/ready", "/healthz and the paths under /-/ are hbfence's own"},
      {"/-/metrics", "/healthz and the paths under /-/ are hbfence's own"},
      {"/" + std::string(256, 'a'), "must be at most 256 bytes"},
  };
  for (const auto& [path, problem] : bad) {
    EXPECT_THAT(TelemetryPathProblem(path), StartsWith(problem)) << path;
    EXPECT_CONFIG_ERROR(WithMinimal("[web]\ntelemetry_path = '" + path + "'"), 2, 18,
                        "web.telemetry_path \"" + path + "\": " + problem);
  }
}

TEST(ConfigErrorTest, ToStringFormat) {
  const ConfigError e{"/etc/hbfence/hbfence.toml", 12, 7, "something is wrong"};
  EXPECT_EQ(e.ToString(), "/etc/hbfence/hbfence.toml:12:7: something is wrong");
  const ConfigError parsed = MustFail(WithMinimal("[fence]\npolicy = \"some\""));
  EXPECT_EQ(parsed.ToString(), "hbfence.toml:2:10: fence.policy \"some\" is not one of any, all, quorum");
}

// ---------------------------------------------------------------------------
// sources and DescribeConfig

TEST(ConfigSourcesTest, SetValuesRecordFileLineColumn) {
  const Config c = MustParse(kFull);
  auto at = [&](const std::string& key) {
    auto it = c.sources.find(key);
    return it == c.sources.end() ? std::string("<absent>") : it->second;
  };
  EXPECT_EQ(at("fence.action"), "hbfence.toml:17:10");
  EXPECT_EQ(at("fence.policy"), "hbfence.toml:18:10");
  EXPECT_EQ(at("fence.journal_path"), "hbfence.toml:19:16");
  EXPECT_EQ(at("fence.agent_unit"), "hbfence.toml:22:14");
  EXPECT_EQ(at("fence.systemctl_timeout_seconds"), "hbfence.toml:27:29");
  EXPECT_EQ(at("heartbeat.interval_seconds"), "hbfence.toml:11:20");
  EXPECT_EQ(at("heartbeat.timeout_seconds"), "hbfence.toml:12:19");
  EXPECT_EQ(at("heartbeat.lease_seconds"), "hbfence.toml:13:17");
  EXPECT_EQ(at("heartbeat.startup_grace_seconds"), "hbfence.toml:14:25");
  // Per-target keys are not fence/heartbeat values and are not left behind.
  EXPECT_EQ(c.sources.count("target.name"), 0u);
  EXPECT_EQ(c.sources.count("target.path"), 0u);
  EXPECT_EQ(c.sources.count("target.mount"), 0u);
}

TEST(ConfigSourcesTest, DefaultsHaveNoSource) {
  const Config c = MustParse(WithMinimal("[fence]\npolicy = \"all\""));
  EXPECT_EQ(c.sources.count("fence.action"), 0u);
  EXPECT_EQ(c.sources.count("heartbeat.lease_seconds"), 0u);
  EXPECT_EQ(c.sources.at("fence.policy"), "hbfence.toml:2:10");
}

TEST(DescribeConfigTest, ListsEveryKeyWithItsSource) {
  const Config c = MustParse(kFull);
  const auto lines = DescribeConfig(c);
  const std::string keys[] = {
      "id = ",
      "listen_address = ",
      "level = ",
      "interval_seconds = ",
      "timeout_seconds = ",
      "lease_seconds = ",
      "startup_grace_seconds = ",
      "action = ",
      "policy = ",
      "journal_path = ",
      "sysrq_trigger_path = ",
      "systemctl_path = ",
      "agent_unit = ",
      "custom_script = ",
      "custom_timeout_seconds = ",
      "graceful_escalation_seconds = ",
      "sync_grace_seconds = ",
      "systemctl_timeout_seconds = ",
      "name = ",
      "kind = ",
      "path = ",
      "mount = ",
  };
  for (const auto& key : keys) {
    EXPECT_TRUE(std::any_of(lines.begin(), lines.end(), [&](const std::string& l) { return l.rfind(key, 0) == 0; }))
        << "no line for " << key;
  }
  for (const char* table : {"[host]", "[web]", "[log]", "[heartbeat]", "[fence]", "[[target]]"}) {
    EXPECT_TRUE(Contains(lines, table)) << table;
  }
  EXPECT_TRUE(Contains(lines, "id = \"kvm-07\"  # hbfence.toml:2:6"));
  EXPECT_TRUE(Contains(lines, "listen_address = \"127.0.0.1:9100\""));
  EXPECT_TRUE(Contains(lines, "level = \"debug\""));
  EXPECT_TRUE(Contains(lines, "interval_seconds = 2.5  # hbfence.toml:11:20"));
  EXPECT_TRUE(Contains(lines, "lease_seconds = 45  # hbfence.toml:13:17"));
  EXPECT_TRUE(Contains(lines, "action = \"graceful-reboot\"  # hbfence.toml:17:10"));
  EXPECT_TRUE(Contains(lines, "policy = \"quorum\"  # hbfence.toml:18:10"));
  EXPECT_TRUE(Contains(lines, "graceful_escalation_seconds = 90.5  # hbfence.toml:25:31"));
  EXPECT_TRUE(Contains(lines, "sync_grace_seconds = 0  # hbfence.toml:26:22"));
  EXPECT_TRUE(Contains(lines, "name = \"nfs-primary\""));
  EXPECT_TRUE(Contains(lines, "path = \"/mnt/primary/hbfence/kvm-07\""));
  EXPECT_TRUE(Contains(lines, "mount = \"/mnt/primary\""));
  EXPECT_TRUE(Contains(lines, "name = \"local\""));
  EXPECT_EQ(std::count(lines.begin(), lines.end(), "[[target]]"), 2);
  // The second target has no mount, so only one mount line.
  EXPECT_EQ(std::count_if(lines.begin(), lines.end(), [](const std::string& l) { return l.rfind("mount = ", 0) == 0; }),
            1);
  EXPECT_TRUE(Contains(lines, "# fencing is ARMED"));
  // The derived timings are appended as comments.
  EXPECT_TRUE(Contains(lines, "# attempts_per_lease = 18"));
}

TEST(DescribeConfigTest, DefaultsAreMarkedDefault) {
  const Config c = MustParse(WithMinimal("[fence]\naction = \"reboot\""));
  const auto lines = DescribeConfig(c);
  EXPECT_TRUE(Contains(lines, "action = \"hard-reboot\"  # hbfence.toml:2:10"));
  EXPECT_TRUE(Contains(lines, "policy = \"any\"  # default"));
  EXPECT_TRUE(Contains(lines, "lease_seconds = 60  # default"));
  EXPECT_TRUE(Contains(lines, "interval_seconds = 5  # default"));
  EXPECT_TRUE(Contains(lines, "timeout_seconds = 10  # default"));
  EXPECT_TRUE(Contains(lines, "startup_grace_seconds = 0  # default"));
  EXPECT_TRUE(Contains(lines, "sysrq_trigger_path = \"/proc/sysrq-trigger\"  # default"));
  EXPECT_TRUE(Contains(lines, "agent_unit = \"cloudstack-agent\"  # default"));
  EXPECT_TRUE(Contains(lines, "sync_grace_seconds = 5  # default"));
}

TEST(DescribeConfigTest, LogOnlyIsDisarmed) {
  const auto lines = DescribeConfig(MustParse(WithMinimal("[fence]\naction = \"log-only\"")));
  EXPECT_TRUE(Contains(lines, "# fencing is DISARMED (log-only)"));
  EXPECT_FALSE(Contains(lines, "# fencing is ARMED"));
}

TEST(LoadConfigFileTest, ReadsAFileAndNamesItInErrors) {
  testing::TempDir dir;
  const auto good = dir / "good.toml";
  testing::WriteFile(good, kFull);
  auto r = LoadConfigFile(good);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r.value().file, good.string());
  EXPECT_EQ(r.value().sources.at("fence.action"), good.string() + ":17:10");

  const auto bad = dir / "bad.toml";
  testing::WriteFile(bad, WithMinimal("[fence]\npolicy = \"none\""));
  auto e = LoadConfigFile(bad);
  ASSERT_FALSE(e.ok());
  EXPECT_THAT(e.error().ToString(), StartsWith(bad.string() + ":2:10: fence.policy"));
}

TEST(LoadConfigFileTest, RelativePathsAnchorAtTheFilesDirectory) {
  testing::TempDir dir;
  const auto file = dir / "etc/hbfence.toml";
  testing::WriteFile(file, "[host]\nid = \"h\"\n[fence]\njournal_path = \"../state/j.jsonl\"\n"
                        "[[target]]\nname = \"a\"\npath = \"hb\"\n");
  // Loaded through a path with a detour: the file name is normalized first.
  auto r = LoadConfigFile(dir / "etc/../etc/hbfence.toml");
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r.value().file, file.string());
  EXPECT_EQ(r.value().fence.journal_path, dir / "state/j.jsonl");
  ASSERT_EQ(r.value().targets.size(), 1u);
  EXPECT_EQ(r.value().targets[0].path, dir / "etc/hb");
}

TEST(LoadConfigFileTest, MissingFileIsAnErrorWithTheReason) {
  testing::TempDir dir;
  auto r = LoadConfigFile(dir / "absent.toml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().file, (dir / "absent.toml").string());
  EXPECT_EQ(r.error().message, "cannot open " + (dir / "absent.toml").string() + ": No such file or directory");
}

// Once "host.id is required" (a directory read as an empty document); now what it
// is, with no made-up position.
TEST(LoadConfigFileTest, ADirectoryIsNamedAsADirectory) {
  testing::TempDir dir;
  auto r = LoadConfigFile(dir.path());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().ToString(), dir.path().string() + " is a directory, not a regular file: --config takes the "
                                                        "configuration file itself (by default /etc/hbfence/hbfence.toml)");
}

// A FIFO where the config was: refused at once, never a read that blocks (a reload
// blocked here held the signal thread, and SIGTERM with it).
TEST(LoadConfigFileTest, FifoIsRefusedWithoutBlocking) {
  testing::TempDir dir;
  ASSERT_EQ(::mkfifo((dir / "hbfence.toml").c_str(), 0600), 0);
  auto r = LoadConfigFile(dir / "hbfence.toml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().ToString(), (dir / "hbfence.toml").string() + " is a FIFO, not a regular file");
}

TEST(LoadConfigFileTest, AgentPropertiesFifoIsRefusedWithoutBlocking) {
  testing::TempDir dir;
  ASSERT_EQ(::mkfifo((dir / "agent.properties").c_str(), 0600), 0);
  testing::WriteFile(dir / "hbfence.toml", WithMinimal("[cloudstack]\nagent_properties = \"agent.properties\""));
  auto r = LoadConfigFile(dir / "hbfence.toml");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message, HasSubstr("is a FIFO, not a regular file"));
}

}  // namespace
}  // namespace hbfence

namespace hbfence {
namespace {

TEST(ConfigOperationsTest, FenceLimitsWatchdogAndAuthParse) {
  const Config c = MustParse(WithMinimal(
      "[fence]\nrestart_agent_max_per_hour = 5\nrestart_agent_escalation = \"graceful-reboot\"\nmax_fences_per_hour = 0\n"
      "[watchdog]\ndevice = \"/dev/watchdog\"\ntimeout_seconds = 30\n"
      "[web.basic_auth_users]\nprometheus = \"$2y$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234\"\n"));
  EXPECT_EQ(c.fence.restart_agent_max_per_hour, 5);
  EXPECT_EQ(c.fence.restart_agent_escalation, FenceActionKind::kGracefulReboot);
  EXPECT_EQ(c.fence.max_fences_per_hour, 0);
  EXPECT_EQ(c.watchdog.device, "/dev/watchdog");
  EXPECT_EQ(c.watchdog.timeout, std::chrono::seconds(30));
  EXPECT_EQ(c.web.basic_auth_users.count("prometheus"), 1u);
}

TEST(ConfigOperationsTest, DefaultsAreSafe) {
  const Config c = MustParse(WithMinimal(""));
  EXPECT_EQ(c.fence.restart_agent_max_per_hour, 3);
  EXPECT_EQ(c.fence.restart_agent_escalation, FenceActionKind::kHardReboot);
  EXPECT_EQ(c.fence.max_fences_per_hour, 3);
  EXPECT_TRUE(c.watchdog.device.empty());
  EXPECT_TRUE(c.web.basic_auth_users.empty());
}

TEST(ConfigOperationsTest, ErrorsPointAtTheValue) {
  EXPECT_CONFIG_ERROR(WithMinimal("[fence]\nmax_fences_per_hour = -1"), 2, 23, "whole number");
  EXPECT_CONFIG_ERROR(WithMinimal("[fence]\nmax_fences_per_hour = 1.5"), 2, 23, "whole number");
  EXPECT_CONFIG_ERROR(WithMinimal("[fence]\nrestart_agent_escalation = \"custom\""), 2, 28,
                      "not one of hard-reboot, graceful-reboot, log-only");
  EXPECT_CONFIG_ERROR(WithMinimal("[watchdog]\ntimeout_seconds = 1"), 2, 19, "at least 2");
  EXPECT_CONFIG_ERROR(WithMinimal("[web.basic_auth_users]\nalice = \"plaintext\""), 2, 9, "bcrypt");
  EXPECT_CONFIG_ERROR(WithMinimal("[web]\ntls_cert_file = \"/etc/cert.pem\""), 2, 17, "in-process TLS is not supported");
}

}  // namespace
}  // namespace hbfence

namespace hbfence {
namespace {

TEST(ConfigFuzzRegressionTest, NonAsciiOnlyInStringsAndComments) {
  const Config c = MustParse(WithMinimal("# höst ≥ 1\n[fence]\nagent_unit = \"cloudstack-agent\"\ncustom_script = \"/opt/fence→ipmi.sh\"\n"));
  EXPECT_EQ(c.fence.custom_script, "/opt/fence→ipmi.sh");
  // Latin-1, Greek and Cyrillic letters send toml++ 3.3 into undefined behaviour
  // even inside strings (fuzz regressions crash-4841…, crash-5762…).
  EXPECT_CONFIG_ERROR(WithMinimal("[fence]\ncustom_script = \"/opt/ä.sh\""), 2, 23, "not supported in strings");
  EXPECT_CONFIG_ERROR("x = \"\"\"\\\xd0\x96", 1, 9, "not supported in strings");
  EXPECT_CONFIG_ERROR(WithMinimal("[fence]\nactiön = \"log-only\""), 2, 5, "non-ASCII character outside a string or comment");
  EXPECT_CONFIG_ERROR("\xcb\x8f", 1, 1, "non-ASCII");  // made toml++ 3.3 reach an unreachable branch
  EXPECT_CONFIG_ERROR("i=4'\xce\x9e", 1, 5, "non-ASCII");   // a quote after a value opens no string
}

TEST(ConfigFuzzRegressionTest, DurationsBelowAMillisecondAreRejected) {
  // 1e-10 s truncated to 0 ns once, and lease / interval divided by zero.
  EXPECT_CONFIG_ERROR(WithMinimal("[heartbeat]\ninterval_seconds = 1e-10"), 2, 20, "at least 0.001");
}

TEST(ConfigTest, ControlSocketIsOffByDefaultAndDescribed) {
  const Config off = MustParse(WithMinimal(""));
  EXPECT_TRUE(off.control.socket_path.empty());
  EXPECT_TRUE(Contains(DescribeConfig(off), "socket_path = \"\"  # none: no control socket"));
  const Config on = MustParse(WithMinimal("[control]\nsocket_path = \"/run/hbfence/control.sock\"\n"));
  EXPECT_EQ(on.control.socket_path, "/run/hbfence/control.sock");
  EXPECT_TRUE(Contains(DescribeConfig(on), "socket_path = \"/run/hbfence/control.sock\""));
}

TEST(ConfigTest, ControlSocketPathErrors) {
  EXPECT_CONFIG_ERROR(WithMinimal("[control]\nsocket = \"/x\"\n"), 2, 1, "unknown key control.socket");
  EXPECT_CONFIG_ERROR(WithMinimal("[control]\nsocket_path = \"\"\n"), 2, 15, "must not be empty");
  EXPECT_CONFIG_ERROR(WithMinimal("[control]\nsocket_path = 1\n"), 2, 15, "must be a string");
  EXPECT_CONFIG_ERROR(WithMinimal("[control]\nsocket_path = \"/" + std::string(120, 'a') + "\"\n"), 2, 15,
                      "at most 107 bytes");
  EXPECT_CONFIG_ERROR(WithMinimal("control = 1\n"), 1, 11, "control must be a table");
}

}  // namespace
}  // namespace hbfence

namespace hbfence {
namespace {

// A document with one [[target]] whose keys are `target`, after [host] id = "10.1.1.7".
std::string WithTarget(const std::string& target) {
  return "[host]\nid = \"10.1.1.7\"\n[[target]]\nname = \"t\"\n" + target;  // target keys start on line 5
}

TEST(TargetKindsTest, CloudStackLayoutDerivesThePathNeighboursRead) {
  const Config c = MustParse(WithTarget("mount = \"/mnt/0b5a\"\nlayout = \"cloudstack\"\npeer_watch = true\n"));
  ASSERT_EQ(c.targets.size(), 1u);
  const auto& t = c.targets[0];
  EXPECT_EQ(t.path, "/mnt/0b5a/KVMHA/hb-10.1.1.7");
  EXPECT_EQ(t.mount, std::filesystem::path("/mnt/0b5a"));
  EXPECT_TRUE(t.cloudstack_layout);
  EXPECT_FALSE(t.allow_local_filesystem) << "shared storage is expected by default";
  EXPECT_TRUE(t.peer_watch);
  EXPECT_TRUE(MustParse(WithTarget("mount = \"/mnt/x\"\nlayout = \"cloudstack\"\nallow_local_filesystem = true\n"))
                  .targets[0]
                  .allow_local_filesystem);
  EXPECT_TRUE(MustParse(WithTarget("path = \"/var/lib/hb\"\n")).targets[0].allow_local_filesystem)
      << "plain targets keep working on local disks";
}

TEST(TargetKindsTest, CloudStackLayoutErrors) {
  EXPECT_CONFIG_ERROR(WithTarget("layout = \"cloudstack\"\n"), 3, 1, "layout = \"cloudstack\" needs mount");
  EXPECT_CONFIG_ERROR(WithTarget("mount = \"/mnt/x\"\nlayout = \"cloudstack\"\npath = \"/mnt/x/hb\"\n"), 7, 8,
                      "target.path is derived from mount");
  EXPECT_CONFIG_ERROR(WithTarget("path = \"/a\"\nlayout = \"kvmha\"\n"), 6, 10, "not one of plain, cloudstack");
  EXPECT_CONFIG_ERROR(WithTarget("path = \"/a\"\npeer_watch = true\n"), 6, 14, "peer_watch needs layout = \"cloudstack\"");
  EXPECT_CONFIG_ERROR(WithTarget("path = \"/a\"\nallow_local_filesystem = 1\n"), 6, 26, "must be true or false");
}

TEST(TargetKindsTest, BlockTargets) {
  const Config c = MustParse(WithTarget("kind = \"block\"\npath = \"/dev/drbd100\"\noffset = 8192\n"));
  EXPECT_EQ(c.targets[0].kind, "block");
  EXPECT_EQ(c.targets[0].path, "/dev/drbd100");
  EXPECT_EQ(c.targets[0].offset, 8192u);
  EXPECT_EQ(MustParse(WithTarget("kind = \"block\"\npath = \"/dev/sdz\"\n")).targets[0].offset, 0u);
  EXPECT_CONFIG_ERROR(WithTarget("kind = \"block\"\npath = \"/dev/sdz\"\noffset = 512\n"), 7, 10, "multiple of 4096");
  EXPECT_CONFIG_ERROR(WithTarget("kind = \"block\"\npath = \"/dev/sdz\"\noffset = -4096\n"), 7, 10, "multiple of 4096");
  EXPECT_CONFIG_ERROR(WithTarget("kind = \"block\"\n"), 3, 1, "needs a path (the device)");
  EXPECT_CONFIG_ERROR(WithTarget("kind = \"block\"\npath = \"/dev/sdz\"\nmount = \"/mnt\"\n"), 7, 9,
                      "target.mount does not apply to kind = \"block\"");
}

TEST(TargetKindsTest, ExecTargetsTakeAnArgvNeverAShellLine) {
  const Config c = MustParse(WithTarget("kind = \"exec\"\ncommand = [\"/usr/sbin/drbdsetup\", \"status\", \"--json\"]\n"));
  EXPECT_EQ(c.targets[0].command, (std::vector<std::string>{"/usr/sbin/drbdsetup", "status", "--json"}));
  EXPECT_CONFIG_ERROR(WithTarget("kind = \"exec\"\n"), 3, 1, "needs a command");
  EXPECT_CONFIG_ERROR(WithTarget("kind = \"exec\"\ncommand = \"storpool -j service list\"\n"), 6, 11,
                      "must be a non-empty array of strings");
  EXPECT_CONFIG_ERROR(WithTarget("kind = \"exec\"\ncommand = []\n"), 6, 11, "non-empty array");
  EXPECT_CONFIG_ERROR(WithTarget("kind = \"exec\"\ncommand = [\"storpool\", \"-j\"]\n"), 6, 12, "absolute path");
  EXPECT_CONFIG_ERROR(WithTarget("kind = \"exec\"\ncommand = [\"/bin/true\", 1]\n"), 6, 25, "only strings");
  EXPECT_CONFIG_ERROR(WithTarget("kind = \"exec\"\ncommand = [\"/bin/true\"]\npath = \"/x\"\n"), 7, 8,
                      "target.path does not apply to kind = \"exec\"");
}

TEST(TargetKindsTest, CheckConfigShowsEachKindsOwnKeys) {
  const Config c = MustParse(WithTarget("kind = \"exec\"\ncommand = [\"/bin/probe\", \"a \\\"b\\\"\"]\n"));
  const auto lines = DescribeConfig(c);
  EXPECT_TRUE(Contains(lines, "command = [\"/bin/probe\", \"a \\\"b\\\"\"]"));
  // Within the target: [history] has a path of its own.
  const auto target = std::find(lines.begin(), lines.end(), "[[target]]");
  ASSERT_NE(target, lines.end());
  EXPECT_FALSE(std::any_of(target, lines.end(), [](const std::string& l) { return l.starts_with("path = "); }));
  const auto block = DescribeConfig(MustParse(WithTarget("kind = \"block\"\npath = \"/dev/sdz\"\noffset = 4096\n")));
  EXPECT_TRUE(Contains(block, "offset = 4096"));
}

}  // namespace
}  // namespace hbfence

namespace hbfence {
namespace {

// The files a configuration names, served from memory: ParseConfig never touches disk.
struct Files {
  std::map<std::string, std::string> content;
  FileReader reader() const {
    return [this](const std::filesystem::path& p) -> Result<std::string, std::string> {
      auto it = content.find(p.string());
      if (it == content.end()) return Err{"cannot read " + p.string() + ": No such file or directory"};
      return it->second;
    };
  }
};

constexpr char kAgentFile[] = "/etc/cloudstack/agent/agent.properties";

std::string WithCloudStack(const std::string& cloudstack, const std::string& rest = "") {
  return "[host]\nid = \"10.1.1.7\"\n[cloudstack]\n" + cloudstack + "\n" + rest;
}

Config MustParseWith(const std::string& text, const Files& files) {
  auto r = ParseConfig(text, kFile, files.reader());
  if (!r.ok()) {
    ADD_FAILURE() << "unexpected error: " << r.error().ToString();
    return Config{};
  }
  return std::move(r).value();
}

ConfigError MustFailWith(const std::string& text, const Files& files) {
  auto r = ParseConfig(text, kFile, files.reader());
  if (r.ok()) {
    ADD_FAILURE() << "parsed, but an error was expected for:\n" << text;
    return ConfigError{};
  }
  return r.error();
}

const std::string kAgentKeys = "agent_properties = \"" + std::string(kAgentFile) + "\"";
const std::string kOneTarget = "[[target]]\nname = \"a\"\npath = \"/mnt/a/hb\"\n";

TEST(AgentPropertiesConfigTest, HbfenceTomlWinsThenAgentPropertiesThenDefaults) {
  Files files{{{kAgentFile,
                "# agent\n"
                "kvm.heartbeat.fence.action=log-only\n"
                "kvm.heartbeat.update.frequency=5000\n"
                "heartbeat.update.timeout=10000\n"}}};
  const Config c = MustParseWith(WithCloudStack(kAgentKeys, "[heartbeat]\nlease_seconds = 90\n" + kOneTarget), files);
  EXPECT_EQ(c.fence.action, FenceActionKind::kLogOnly);
  EXPECT_EQ(c.heartbeat.interval, 5s);
  EXPECT_EQ(c.heartbeat.timeout, 10s);
  EXPECT_EQ(c.heartbeat.lease, 90s) << "hbfence.toml wins";
  EXPECT_EQ(c.sources.at("fence.action"), std::string(kAgentFile) + ":2 (kvm.heartbeat.fence.action)");
  EXPECT_EQ(c.sources.at("heartbeat.interval_seconds"), std::string(kAgentFile) + ":3 (kvm.heartbeat.update.frequency)");
  EXPECT_EQ(c.sources.at("heartbeat.lease_seconds"), "hbfence.toml:6:17");
  EXPECT_EQ(c.sources.count("fence.policy"), 0u) << "built-in default";
  const auto lines = DescribeConfig(c);
  EXPECT_TRUE(Contains(lines, "action = \"log-only\"  # " + std::string(kAgentFile) + ":2 (kvm.heartbeat.fence.action)"));
  EXPECT_TRUE(Contains(lines, "policy = \"any\"  # default"));

  const Config toml_action =
      MustParseWith(WithCloudStack(kAgentKeys, "[fence]\naction = \"graceful-reboot\"\n" + kOneTarget), files);
  EXPECT_EQ(toml_action.fence.action, FenceActionKind::kGracefulReboot);
  EXPECT_EQ(toml_action.sources.at("fence.action"), "hbfence.toml:6:10");
}

TEST(AgentPropertiesConfigTest, RebootFlagFalseDisarms) {
  Files files{{{kAgentFile, "reboot.host.and.alert.management.on.heartbeat.timeout=false\n"}}};
  const Config c = MustParseWith(WithCloudStack(kAgentKeys, kOneTarget), files);
  EXPECT_EQ(c.fence.action, FenceActionKind::kLogOnly);
  EXPECT_TRUE(Contains(DescribeConfig(c), "# fencing is DISARMED (log-only)"));
}

TEST(AgentPropertiesConfigTest, UnknownActionFallsBackToHardRebootWithAWarningUnlessTheTomlSetsOne) {
  // A missing newline glues two lines: Java reads one key whose value is the rest.
  Files files{{{kAgentFile, "kvm.heartbeat.fence.action=log-onlykvm.heartbeat.update.frequency=1000\n"}}};
  const Config c = MustParseWith(WithCloudStack(kAgentKeys, kOneTarget), files);
  EXPECT_EQ(c.fence.action, FenceActionKind::kHardReboot);
  EXPECT_TRUE(c.unknown_fence_action);
  ASSERT_FALSE(c.warnings.empty());
  EXPECT_THAT(c.warnings[0], HasSubstr("log-onlykvm.heartbeat.update.frequency=1000"));
  const auto lines = DescribeConfig(c);
  EXPECT_TRUE(std::any_of(lines.begin(), lines.end(), [](const std::string& l) {
    return l.starts_with("# warning: ") && l.find("falling back") != std::string::npos;
  }));

  const Config overridden = MustParseWith(WithCloudStack(kAgentKeys, "[fence]\naction = \"log-only\"\n" + kOneTarget), files);
  EXPECT_EQ(overridden.fence.action, FenceActionKind::kLogOnly);
  EXPECT_FALSE(overridden.unknown_fence_action) << "hbfence.toml sets the action: nothing falls back";
}

TEST(AgentPropertiesConfigTest, ErrorsNameTheFileThatHoldsTheValue) {
  const Files none;
  const ConfigError unreadable = MustFailWith(WithCloudStack(kAgentKeys, kOneTarget), none);
  EXPECT_EQ(unreadable.file, kFile);
  EXPECT_EQ(unreadable.line, 4u);
  EXPECT_THAT(unreadable.message, HasSubstr("cannot read /etc/cloudstack/agent/agent.properties"));

  Files malformed{{{kAgentFile, "a=1\nb=\\u12G4\n"}}};
  const ConfigError escape = MustFailWith(WithCloudStack(kAgentKeys, kOneTarget), malformed);
  EXPECT_EQ(escape.file, kAgentFile);
  EXPECT_EQ(escape.line, 2u);
  EXPECT_THAT(escape.message, HasSubstr("malformed \\uXXXX"));

  // agent.properties' timeout against hbfence.toml's shorter lease: the TOML key is named.
  Files slow{{{kAgentFile, "heartbeat.update.timeout=60000\n"}}};
  const ConfigError toml_lease = MustFailWith(WithCloudStack(kAgentKeys, "[heartbeat]\nlease_seconds = 30\n" + kOneTarget), slow);
  EXPECT_EQ(toml_lease.file, kFile);
  EXPECT_EQ(toml_lease.line, 6u);
  EXPECT_EQ(toml_lease.column, 17u);
  EXPECT_THAT(toml_lease.message, StartsWith("heartbeat.lease_seconds (30) must be at least 125.2, the longest healthy "
                                             "storage can go between lease renewals with interval_seconds 5 and "
                                             "timeout_seconds 60:"));
  EXPECT_THAT(toml_lease.message, Not(HasSubstr("agent.properties"))) << "the lease is hbfence.toml's";
}

// lease = frequency + max.tries × (timeout + retry.sleep) must satisfy the lease rule.
TEST(AgentPropertiesConfigTest, CloudStackDefaultsSatisfyTheLeaseRule) {
  Files files{{{kAgentFile,
                "kvm.heartbeat.update.frequency=60000\n"
                "kvm.heartbeat.update.max.tries=5\n"
                "kvm.heartbeat.update.retry.sleep=10000\n"
                "heartbeat.update.timeout=60000\n"}}};
  const Config c = MustParseWith(WithCloudStack(kAgentKeys, kOneTarget), files);
  EXPECT_EQ(c.heartbeat.lease, 410s);
  const Timings t = Derive(c.heartbeat);
  EXPECT_EQ(t.worst_renewal_gap, 180200ms);  // 120 + 60 + 0.2
  EXPECT_EQ(t.lease_margin, 229800ms);
  // Each key alone, the others CloudStack's defaults (or hbfence's for interval and timeout).
  for (const char* one : {"kvm.heartbeat.update.frequency=60000\n", "kvm.heartbeat.update.max.tries=2\n",
                          "kvm.heartbeat.update.retry.sleep=1\n", "heartbeat.update.timeout=60000\n"}) {
    SCOPED_TRACE(one);
    MustParseWith(WithCloudStack(kAgentKeys, kOneTarget), Files{{{kAgentFile, one}}});
  }
}

// docs/agent-properties.md: with max.tries >= 2 and retry.sleep >= 150 ms the lease is at
// least frequency + 2 × timeout + 0.3 s, never below the minimum.
TEST(AgentPropertiesConfigTest, TwoTriesAndARetrySleepOf150MsAlwaysSatisfyTheLeaseRule) {
  std::mt19937_64 rng(410);
  auto pick = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
  for (int i = 0; i < 2000; ++i) {
    const int64_t decade = std::array<int64_t, 6>{1, 10, 100, 1000, 10'000, 100'000}[pick(0, 5)];
    const std::string text = "kvm.heartbeat.update.frequency=" + std::to_string(pick(1, 100) * decade) +
                             "\nheartbeat.update.timeout=" + std::to_string(pick(1, 100) * decade) +
                             "\nkvm.heartbeat.update.max.tries=" + std::to_string(pick(2, 4)) +
                             "\nkvm.heartbeat.update.retry.sleep=" + std::to_string(pick(150, 2000)) + "\n";
    SCOPED_TRACE(text);
    const Config c = MustParseWith(WithCloudStack(kAgentKeys, kOneTarget), Files{{{kAgentFile, text}}});
    ASSERT_GE(Derive(c.heartbeat).lease_margin, Duration::zero());
  }
}

TEST(AgentPropertiesConfigTest, ALeaseTooShortFromAgentPropertiesPointsAtMaxTries) {
  // One try: 60 + 1 × (60 + 10) = 130 s, but a 60 s write can make the next wait for the
  // 120 s tick: 180.2 s.
  Files files{{{kAgentFile,
                "# agent\n"
                "kvm.heartbeat.update.frequency=60000\n"
                "kvm.heartbeat.update.max.tries=1\n"
                "heartbeat.update.timeout=60000\n"}}};
  const ConfigError e = MustFailWith(WithCloudStack(kAgentKeys, kOneTarget), files);
  EXPECT_EQ(e.file, kAgentFile);
  EXPECT_EQ(e.line, 3u) << "kvm.heartbeat.update.max.tries";
  EXPECT_EQ(e.column, 1u);
  EXPECT_EQ(e.message,
            "heartbeat.lease_seconds (130) must be at least 180.2, the longest healthy storage can go between lease "
            "renewals with interval_seconds 60 and timeout_seconds 60: the next write may start 120 s after one "
            "began, then take up to the timeout, plus 2 × 0.1 s scheduling allowance (fence/timings.h); this lease is "
            "agent.properties' frequency + max.tries × (timeout + retry.sleep): raise kvm.heartbeat.update.max.tries "
            "or kvm.heartbeat.update.retry.sleep, or set [heartbeat] lease_seconds in hbfence.toml");

  // Without max.tries (5), a 1 ms retry.sleep and timeout: 1 + 5 × 0.002 = 1.01 s < 1.201 s.
  Files sleepy{{{kAgentFile,
                 "kvm.heartbeat.update.frequency=1000\n"
                 "heartbeat.update.timeout=1\n"
                 "kvm.heartbeat.update.retry.sleep=1\n"}}};
  const ConfigError s = MustFailWith(WithCloudStack(kAgentKeys, kOneTarget), sleepy);
  EXPECT_EQ(s.file, kAgentFile);
  EXPECT_EQ(s.line, 3u) << "kvm.heartbeat.update.retry.sleep";
  EXPECT_THAT(s.message, StartsWith("heartbeat.lease_seconds (1.01) must be at least 1.201,"));

  // A lease in hbfence.toml fixes it, and check-config names the margin.
  const Config fixed = MustParseWith(WithCloudStack(kAgentKeys, "[heartbeat]\nlease_seconds = 190\n" + kOneTarget), files);
  EXPECT_TRUE(Contains(DescribeConfig(fixed), "# lease_margin (lease - worst_renewal_gap) = 9.8s"));
}

TEST(AgentPropertiesConfigTest, AnIntervalFromTheTomlAgainstTheAgentLeasePointsAtTheInterval) {
  // max.tries alone: lease 60 + 2 × 70 = 200 s; hbfence.toml's interval 200 needs 210.2 s.
  Files files{{{kAgentFile, "kvm.heartbeat.update.max.tries=2\n"}}};
  const ConfigError e =
      MustFailWith(WithCloudStack(kAgentKeys, "[heartbeat]\ninterval_seconds = 200\n" + kOneTarget), files);
  EXPECT_EQ(e.file, kFile);
  EXPECT_EQ(e.line, 6u);
  EXPECT_EQ(e.column, 20u);
  EXPECT_THAT(e.message, StartsWith("heartbeat.lease_seconds (200) must be at least 210.2,"));
  EXPECT_THAT(e.message, HasSubstr("this lease is agent.properties'"));
}

const std::string kMountInfo =
    "22 1 253:0 / / rw - ext4 /dev/vda rw\n"
    "41 22 0:61 / /mnt/0b5a rw shared:7 - nfs4 10.0.0.1:/export/p1 rw\n"
    "42 22 0:62 / /mnt/ssd rw - xfs /dev/vdb rw\n"
    "43 22 0:63 / /mnt/gluster rw - fuse.glusterfs g1:/vol rw\n"
    "44 22 0:64 / /mnt/0b5a/nested rw - nfs4 10.0.0.1:/x rw\n";

TEST(PoolDiscoveryTest, SharedPoolsBelowThePrefixBecomeCloudStackTargets) {
  Files files{{{"/proc/self/mountinfo", kMountInfo}}};
  const Config c = MustParseWith(WithCloudStack("discover_pools = true\npeer_watch = true"), files);
  ASSERT_EQ(c.targets.size(), 2u);
  EXPECT_EQ(c.targets[0].name, "0b5a");
  EXPECT_EQ(c.targets[0].path, "/mnt/0b5a/KVMHA/hb-10.1.1.7");
  EXPECT_EQ(c.targets[0].mount, std::filesystem::path("/mnt/0b5a"));
  EXPECT_TRUE(c.targets[0].cloudstack_layout);
  EXPECT_TRUE(c.targets[0].discovered);
  EXPECT_TRUE(c.targets[0].peer_watch);
  EXPECT_FALSE(c.targets[0].allow_local_filesystem);
  EXPECT_EQ(c.targets[1].name, "gluster");
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_THAT(c.warnings[0], HasSubstr("skipped /mnt/ssd: a local xfs filesystem"));

  const Config local = MustParseWith(WithCloudStack("discover_pools = true\nallow_local_filesystem = true"), files);
  EXPECT_EQ(local.targets.size(), 3u);
}

TEST(PoolDiscoveryTest, ConfiguredTargetsWinAndNothingMountedIsAWarningNotAnError) {
  Files files{{{"/proc/self/mountinfo", kMountInfo}, {"/tmp/empty", ""}}};
  const Config c = MustParseWith(
      WithCloudStack("discover_pools = true", "[[target]]\nname = \"primary\"\nmount = \"/mnt/0b5a\"\nlayout = \"cloudstack\"\n"),
      files);
  ASSERT_EQ(c.targets.size(), 2u);
  EXPECT_EQ(c.targets[0].name, "primary");
  EXPECT_FALSE(c.targets[0].discovered);
  EXPECT_EQ(c.targets[1].name, "gluster");

  const Config none = MustParseWith(WithCloudStack("discover_pools = true\nmountinfo_path = \"/tmp/empty\""), files);
  EXPECT_TRUE(none.targets.empty());
  ASSERT_EQ(none.warnings.size(), 1u);
  EXPECT_THAT(none.warnings[0], HasSubstr("no shared filesystem is mounted below /mnt yet"));

  const ConfigError unreadable = MustFailWith(WithCloudStack("discover_pools = true\nmountinfo_path = \"/nope\""), files);
  EXPECT_EQ(unreadable.line, 4u);
  EXPECT_THAT(unreadable.message, HasSubstr("cannot read /nope"));
  EXPECT_CONFIG_ERROR("[host]\nid = \"h\"\n", 1, 1, "at least one [[target]] is required (or [cloudstack] discover_pools = true)");
}

TEST(PoolDiscoveryTest, PeriodicDiscoveryFollowsTheMountTableAndNothingElse) {
  Files before{{{"/proc/self/mountinfo", "41 22 0:61 / /mnt/a rw - nfs4 s:/a rw\n"}}};
  Files after{{{"/proc/self/mountinfo", "42 22 0:62 / /mnt/b rw - nfs4 s:/b rw\n"}}};
  const std::string local = "[[target]]\nname = \"local\"\npath = \"/var/lib/hbfence/hb\"\n";
  Config running = MustParseWith(WithCloudStack("discover_pools = true", local), before);
  ASSERT_EQ(running.targets.size(), 2u);
  // The file changed too (a new policy): periodic discovery leaves that to a SIGHUP.
  const Config fresh =
      MustParseWith(WithCloudStack("discover_pools = true", "[fence]\npolicy = \"all\"\n" + local), after);
  const auto changes = SyncDiscoveredPools(fresh, running);
  ASSERT_EQ(changes.added.size(), 1u);
  EXPECT_EQ(changes.added[0].name, "b");
  ASSERT_EQ(changes.removed.size(), 1u);
  EXPECT_EQ(changes.removed[0].name, "a") << "unmounted by CloudStack: not a failure of every host";
  ASSERT_EQ(running.targets.size(), 2u);
  EXPECT_EQ(running.targets[0].name, "local") << "the configured target stays";
  EXPECT_FALSE(running.targets[0].discovered);
  EXPECT_EQ(running.targets[1].name, "b");
  EXPECT_EQ(running.fence.policy, Policy::kAny);
  const auto again = SyncDiscoveredPools(fresh, running);
  EXPECT_TRUE(again.added.empty() && again.removed.empty()) << "nothing changes the second time";
}

// A pool a running configured target already heartbeats never becomes a second
// target, even when the file no longer configures it (edited, not yet reloaded).
TEST(PoolDiscoveryTest, PeriodicDiscoveryNeverAddsAPoolARunningTargetWrites) {
  Files mounted{{{"/proc/self/mountinfo", "41 22 0:61 / /mnt/b rw - nfs4 s:/b rw\n"}}};
  const std::string on_b = "[[target]]\nname = \"primary\"\npath = \"/mnt/b/hbfence/hb\"\n";
  Config running = MustParseWith(WithCloudStack("discover_pools = true", on_b), mounted);
  ASSERT_EQ(running.targets.size(), 1u) << "the configured target covers the pool";
  const Config fresh = MustParseWith(WithCloudStack("discover_pools = true"), mounted);
  ASSERT_EQ(fresh.targets.size(), 1u);
  ASSERT_TRUE(fresh.targets[0].discovered);
  const auto changes = SyncDiscoveredPools(fresh, running);
  EXPECT_TRUE(changes.added.empty()) << changes.added.size() << " added: " << changes.added[0].path;
  ASSERT_EQ(running.targets.size(), 1u);
  EXPECT_EQ(running.targets[0].name, "primary");
}

}  // namespace
}  // namespace hbfence

namespace hbfence {
namespace {

TEST(DestroyVmsConfigTest, KeysParseWithTheirDefaults) {
  const Config d = MustParse(WithMinimal("[fence]\naction = \"destroy-vms\""));
  EXPECT_EQ(d.fence.action, FenceActionKind::kDestroyVms);
  EXPECT_EQ(d.fence.destroy_timeout, std::chrono::seconds(30));
  EXPECT_TRUE(d.fence.force_unmount);
  EXPECT_EQ(d.fence.destroy_escalation, FenceActionKind::kHardReboot);
  EXPECT_EQ(d.fence.libvirt_uri, "qemu:///system");
  const Config c = MustParse(WithMinimal(
      "[fence]\naction = \"destroy-vms\"\ndestroy_timeout_seconds = 12.5\nforce_unmount = false\n"
      "destroy_escalation = \"log-only\"\n[libvirt]\nuri = \"qemu+ssh://h/system\""));
  EXPECT_EQ(c.fence.destroy_timeout, std::chrono::milliseconds(12500));
  EXPECT_FALSE(c.fence.force_unmount);
  EXPECT_EQ(c.fence.destroy_escalation, FenceActionKind::kLogOnly);
  EXPECT_EQ(c.fence.libvirt_uri, "qemu+ssh://h/system");
}

TEST(DestroyVmsConfigTest, BadValuesNameTheirPlace) {
  EXPECT_CONFIG_ERROR(WithMinimal("[fence]\ndestroy_escalation = \"destroy-vms\""), 2, 22,
                      "is not one of hard-reboot, graceful-reboot, custom, log-only");
  EXPECT_CONFIG_ERROR(WithMinimal("[fence]\nrestart_agent_escalation = \"custom\""), 2, 28,
                      "fence.restart_agent_escalation \"custom\" is not one of hard-reboot, graceful-reboot, log-only");
  EXPECT_CONFIG_ERROR(WithMinimal("[fence]\ndestroy_timeout_seconds = 0"), 2, 27, "fence.destroy_timeout_seconds");
  EXPECT_CONFIG_ERROR(WithMinimal("[libvirt]\nuri = \"\""), 2, 7, "libvirt.uri must not be empty");
  EXPECT_CONFIG_ERROR(WithMinimal("[libvirt]\nurl = \"x\""), 2, 1, "unknown key libvirt.url");
}

// A target destroy-vms cannot scope by a mount escalates when it fails: said up front.
TEST(DestroyVmsConfigTest, TargetsItCannotScopeAreWarnedAbout) {
  const Config c = MustParse(
      "[host]\nid = \"h1\"\n[fence]\naction = \"destroy-vms\"\n"
      "[[target]]\nname = \"pool\"\npath = \"/mnt/p/hb\"\nmount = \"/mnt/p\"\n"
      "[[target]]\nname = \"plain\"\npath = \"/srv/hb\"\n"
      "[[target]]\nname = \"lun\"\nkind = \"block\"\npath = \"/dev/sdb\"\n");
  ASSERT_EQ(c.warnings.size(), 2u);
  EXPECT_THAT(c.warnings[0], HasSubstr("target plain is a file target without a mount"));
  EXPECT_THAT(c.warnings[1], HasSubstr("target lun is a block target"));
  EXPECT_THAT(DescribeConfig(c), ::testing::Contains("destroy_escalation = \"hard-reboot\"  # default"));
}

// An escalation that only logs leaves a pool's VMs running when they could not be
// fenced: accepted, as log-only is, but never without saying so.
TEST(DestroyVmsConfigTest, AnEscalationThatOnlyLogsIsWarnedAbout) {
  const Config c = MustParse(WithMinimal("[fence]\naction = \"destroy-vms\"\ndestroy_escalation = \"log-only\""));
  EXPECT_THAT(c.warnings, ::testing::Contains(HasSubstr("destroy_escalation = \"log-only\": a pool whose VMs cannot be "
                                                         "fenced safely")));
  const Config rebooting = MustParse(WithMinimal("[fence]\naction = \"destroy-vms\"\ndestroy_escalation = \"hard-reboot\""));
  EXPECT_THAT(rebooting.warnings, ::testing::Not(::testing::Contains(HasSubstr("is only logged"))));
}

}  // namespace
}  // namespace hbfence
