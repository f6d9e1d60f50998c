// SPDX-License-Identifier: Apache-2.0

// src/cli.h: ParseCli (argv without argv[0] -> CliOptions or a message), Usage and
// ApplyOverrides (flags win over the file).
#include "src/cli.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "metrics/http_server.h"

namespace hbfence {
namespace {

using ::testing::HasSubstr;

CliOptions MustParse(const std::vector<std::string>& args) {
  auto r = ParseCli(args);
  if (!r.ok()) {
    ADD_FAILURE() << "unexpected error: " << r.error();
    return CliOptions{};
  }
  return r.value();
}

std::string MustFail(const std::vector<std::string>& args) {
  auto r = ParseCli(args);
  if (r.ok()) {
    ADD_FAILURE() << "parsed, but an error was expected";
    return "";
  }
  return r.error();
}

TEST(CliTest, NoArgumentsMeansRunWithDefaults) {
  const CliOptions o = MustParse({});
  EXPECT_EQ(o.command, Command::kRun);
  EXPECT_EQ(o.config_path, "/etc/hbfence/hbfence.toml");
  EXPECT_FALSE(o.listen_address.has_value());
  EXPECT_FALSE(o.log_level.has_value());
}

TEST(CliTest, RunSubcommand) {
  const CliOptions o = MustParse({"run"});
  EXPECT_EQ(o.command, Command::kRun);
  EXPECT_EQ(o.config_path, "/etc/hbfence/hbfence.toml");
}

TEST(CliTest, CheckConfigSubcommand) {
  EXPECT_EQ(MustParse({"check-config"}).command, Command::kCheckConfig);
  const CliOptions o = MustParse({"check-config", "--config", "/tmp/x.toml"});
  EXPECT_EQ(o.command, Command::kCheckConfig);
  EXPECT_EQ(o.config_path, "/tmp/x.toml");
}

TEST(CliTest, VersionAndHelp) {
  EXPECT_EQ(MustParse({"--version"}).command, Command::kVersion);
  EXPECT_EQ(MustParse({"--help"}).command, Command::kHelp);
  EXPECT_EQ(MustParse({"-h"}).command, Command::kHelp);
  EXPECT_EQ(MustParse({"run", "--help"}).command, Command::kHelp);
  EXPECT_EQ(MustParse({"check-config", "--version"}).command, Command::kVersion);
}

TEST(CliTest, FlagWithSeparateValue) {
  const CliOptions o = MustParse(
      {"run", "--config", "/etc/a.toml", "--web.listen-address", "127.0.0.1:9000", "--log.level", "debug"});
  EXPECT_EQ(o.command, Command::kRun);
  EXPECT_EQ(o.config_path, "/etc/a.toml");
  EXPECT_EQ(o.listen_address, "127.0.0.1:9000");
  EXPECT_EQ(o.log_level, "debug");
}

TEST(CliTest, FlagWithEqualsValue) {
  const CliOptions o = MustParse({"--config=/etc/b.toml", "--web.listen-address=:19746", "--log.level=warn"});
  EXPECT_EQ(o.command, Command::kRun);
  EXPECT_EQ(o.config_path, "/etc/b.toml");
  EXPECT_EQ(o.listen_address, ":19746");
  EXPECT_EQ(o.log_level, "warn");
}

TEST(CliTest, EqualsValueMayContainEquals) {
  EXPECT_EQ(MustParse({"--config=/tmp/a=b.toml"}).config_path, "/tmp/a=b.toml");
}

TEST(CliTest, MixedFormsAndLastOneWins) {
  const CliOptions o = MustParse({"--config", "/a.toml", "--log.level=error", "--config=/b.toml", "--log.level", "off"});
  EXPECT_EQ(o.config_path, "/b.toml");
  EXPECT_EQ(o.log_level, "off");
}

TEST(CliTest, EveryLogLevelIsAccepted) {
  for (std::string_view level : kLogLevels) {
    EXPECT_EQ(MustParse({"--log.level", std::string(level)}).log_level, std::string(level));
    EXPECT_EQ(MustParse({"--log.level=" + std::string(level)}).log_level, std::string(level));
  }
}

TEST(CliTest, UnknownArgument) {
  EXPECT_EQ(MustFail({"--bogus"}), "unknown argument --bogus");
  EXPECT_EQ(MustFail({"--bogus=1"}), "unknown argument --bogus=1");
  EXPECT_EQ(MustFail({"frobnicate"}), "unknown argument frobnicate");
  EXPECT_EQ(MustFail({"-c", "/a.toml"}), "unknown argument -c");
  // Subcommands only come first.
  EXPECT_EQ(MustFail({"--config", "/a.toml", "check-config"}), "unknown argument check-config");
  EXPECT_EQ(MustFail({"run", "run"}), "unknown argument run");
  EXPECT_EQ(MustFail({"run", "--log.level", "info", "extra"}), "unknown argument extra");
}

TEST(CliTest, MissingValue) {
  EXPECT_EQ(MustFail({"--config"}), "--config needs a value");
  EXPECT_EQ(MustFail({"run", "--web.listen-address"}), "--web.listen-address needs a value");
  EXPECT_EQ(MustFail({"check-config", "--log.level"}), "--log.level needs a value");
}

TEST(CliTest, TelemetryPathFlagIsCheckedLikeTheConfigKeyAndWins) {
  EXPECT_FALSE(MustParse({}).telemetry_path.has_value());
  EXPECT_EQ(MustParse({"--web.telemetry-path=/probe/metrics"}).telemetry_path, "/probe/metrics");
  EXPECT_EQ(MustParse({"check-config", "--web.telemetry-path", "/m"}).telemetry_path, "/m");
  EXPECT_EQ(MustFail({"--web.telemetry-path", "/-/ready"}),
            "--web.telemetry-path \"/-/ready\": " + TelemetryPathProblem("/-/ready"));
  EXPECT_EQ(MustFail({"--web.telemetry-path"}), "--web.telemetry-path needs a value");
  EXPECT_EQ(MustFail({"peer-check", "--path", "/p", "--web.telemetry-path=/m"}),
            "--web.telemetry-path does not apply to peer-check");
  Config c;
  ApplyOverrides(MustParse({"--web.telemetry-path=/probe"}), c);
  EXPECT_EQ(c.web.telemetry_path, "/probe");
  Config untouched;
  ApplyOverrides(MustParse({}), untouched);
  EXPECT_EQ(untouched.web.telemetry_path, "/metrics");
}

TEST(CliTest, WebConfigFileFlag) {
  EXPECT_FALSE(MustParse({}).web_config_file.has_value());
  EXPECT_EQ(MustParse({"--web.config.file", "/etc/hbfence/web.yml"}).web_config_file, "/etc/hbfence/web.yml");
  EXPECT_EQ(MustParse({"check-config", "--web.config.file=web.yml"}).web_config_file, "web.yml");
  EXPECT_EQ(MustFail({"--web.config.file="}), "--web.config.file needs a file name");
  EXPECT_EQ(MustFail({"peer-check", "--path", "/p", "--web.config.file", "w.yml"}),
            "--web.config.file does not apply to peer-check");
}

TEST(CliTest, LogFormatFlag) {
  EXPECT_FALSE(MustParse({}).log_format.has_value());
  for (const char* format : {"plain", "logfmt", "json"}) {
    EXPECT_EQ(MustParse({"--log.format", format}).log_format, format);
  }
  EXPECT_EQ(MustFail({"--log.format=JSON"}), "--log.format JSON is not one of plain, logfmt, json");
  Config c;
  ApplyOverrides(MustParse({"--log.format=json"}), c);
  EXPECT_EQ(c.log.format, "json");
}

TEST(CliTest, ListenAddressFlagIsCheckedLikeTheConfigKey) {
  EXPECT_EQ(MustFail({"--web.listen-address", "999.1.1.1:80"}),
            "--web.listen-address \"999.1.1.1:80\": 999.1.1.1 is not an IPv4 address (four numbers from 0 to 255, "
            "without leading zeros)");
  EXPECT_EQ(MustFail({"check-config", "--web.listen-address=a:1,b:2"}),
            "--web.listen-address \"a:1,b:2\": one host:port only: with a ',' civetweb would listen on every entry "
            "of a list");
  EXPECT_EQ(MustParse({"--web.listen-address", "localhost:0"}).listen_address, "localhost:0");
  EXPECT_EQ(MustParse({"--web.listen-address", ":19746"}).listen_address, ":19746");
  if (HttpServerHasIpv6()) {
    EXPECT_EQ(MustParse({"--web.listen-address", "[::1]:19746"}).listen_address, "[::1]:19746");
  } else {
    EXPECT_EQ(MustFail({"--web.listen-address", "[::1]:19746"}),
              "--web.listen-address \"[::1]:19746\": " + ListenAddressProblem("[::1]:19746", false));
  }
}

TEST(CliTest, BadLogLevel) {
  EXPECT_THAT(MustFail({"--log.level", "verbose"}),
              HasSubstr("--log.level verbose is not one of trace, debug, info, warn, error, critical, off"));
  EXPECT_THAT(MustFail({"--log.level=INFO"}), HasSubstr("--log.level INFO is not one of"));
  EXPECT_THAT(MustFail({"--log.level="}), HasSubstr("is not one of"));
}

TEST(CliTest, PeerCheckWithPathAndDefaultWindow) {
  const CliOptions o = MustParse({"peer-check", "--path", "/mnt/pool/KVMHA/hb-10.0.0.2"});
  EXPECT_EQ(o.command, Command::kPeerCheck);
  EXPECT_EQ(o.peer_path, "/mnt/pool/KVMHA/hb-10.0.0.2");
  EXPECT_EQ(o.peer_window, std::chrono::seconds(60));
}

TEST(CliTest, PeerCheckWindowInBothForms) {
  EXPECT_EQ(MustParse({"peer-check", "--path=/p", "--window", "7"}).peer_window, std::chrono::seconds(7));
  EXPECT_EQ(MustParse({"peer-check", "--window=1", "--path", "/p"}).peer_window, std::chrono::seconds(1));
  EXPECT_EQ(MustParse({"peer-check", "--path", "/p", "--window", "86400"}).peer_window, std::chrono::hours(24));
}

TEST(CliTest, PeerCheckBadWindow) {
  for (const char* bad : {"0", "86401", "1.5", "-3", "", "60s", "99999999999999999999", " 5"}) {
    EXPECT_EQ(MustFail({"peer-check", "--path", "/p", "--window", bad}),
              std::string("--window ") + bad + " is not a whole number of seconds from 1 to 86400");
  }
  EXPECT_EQ(MustFail({"peer-check", "--path", "/p", "--window"}), "--window needs a value");
}

TEST(CliTest, PeerCheckNeedsAPath) {
  EXPECT_EQ(MustFail({"peer-check"}), "peer-check needs --path FILE or --block DEVICE");
  EXPECT_EQ(MustFail({"peer-check", "--window", "5"}), "peer-check needs --path FILE or --block DEVICE");
  EXPECT_EQ(MustFail({"peer-check", "--path="}), "--path needs a file name");
  EXPECT_EQ(MustFail({"peer-check", "--path"}), "--path needs a value");
  // Help and version need nothing else.
  EXPECT_EQ(MustParse({"peer-check", "--help"}).command, Command::kHelp);
}

TEST(CliTest, PeerCheckOnABlockDeviceWithOffsetAndWindow) {
  const CliOptions o = MustParse({"peer-check", "--block", "/dev/drbd7", "--offset", "8192", "--window=1"});
  EXPECT_EQ(o.command, Command::kPeerCheck);
  EXPECT_EQ(o.peer_source, PeerSource::kBlock);
  EXPECT_EQ(o.peer_path, "/dev/drbd7");
  EXPECT_EQ(o.peer_offset, 8192u);
  EXPECT_EQ(o.peer_window, std::chrono::seconds(1));
  EXPECT_EQ(MustParse({"peer-check", "--offset=4096", "--block=/dev/sdb"}).peer_offset, 4096u) << "any order";
  const CliOptions defaults = MustParse({"peer-check", "--block", "/dev/sdb"});
  EXPECT_EQ(defaults.peer_offset, 0u);
  EXPECT_EQ(defaults.peer_window, std::chrono::seconds(60));
  EXPECT_EQ(MustParse({"peer-check", "--path", "/p"}).peer_source, PeerSource::kFile);
}

TEST(CliTest, PeerCheckTakesExactlyOneOfPathAndBlock) {
  EXPECT_EQ(MustFail({"peer-check", "--path", "/p", "--block", "/dev/sdb"}),
            "peer-check takes one of --path FILE and --block DEVICE, not both");
  EXPECT_EQ(MustFail({"peer-check", "--block=/dev/sdb", "--path=/p"}),
            "peer-check takes one of --path FILE and --block DEVICE, not both");
  EXPECT_EQ(MustFail({"peer-check", "--block="}), "--block needs a device");
  EXPECT_EQ(MustFail({"peer-check", "--block"}), "--block needs a value");
  EXPECT_EQ(MustFail({"peer-check", "--offset", "4096"}), "peer-check needs --path FILE or --block DEVICE");
}

TEST(CliTest, PeerCheckOffsetIsForBlockAndAMultipleOf4096) {
  EXPECT_EQ(MustFail({"peer-check", "--path", "/p", "--offset", "4096"}), "--offset is only for peer-check --block");
  for (const std::string bad : {"4095", "1", "-4096", "+4096", "4096x", "0x1000", "", " 4096", "9223372036854771712",
                                "99999999999999999999"}) {
    EXPECT_EQ(MustFail({"peer-check", "--block", "/dev/sdb", "--offset=" + bad}),
              "--offset " + bad + " is not a whole number of bytes ≥ 0, a multiple of 4096");
  }
  EXPECT_EQ(MustParse({"peer-check", "--block", "/dev/sdb", "--offset", "9223372036854767616"}).peer_offset,
            9223372036854767616u)
      << "the last sector that fits in an off_t";
  EXPECT_EQ(MustFail({"run", "--offset", "0"}), "--offset is only for peer-check");
  EXPECT_EQ(MustFail({"--block", "/dev/sdb"}), "--block is only for peer-check");
}

TEST(CliTest, PeerCheckFlagsBelongToPeerCheckOnly) {
  EXPECT_EQ(MustFail({"--path", "/p"}), "--path is only for peer-check");
  EXPECT_EQ(MustFail({"run", "--window=5"}), "--window is only for peer-check");
  EXPECT_EQ(MustFail({"check-config", "--path", "/p"}), "--path is only for peer-check");
  EXPECT_EQ(MustFail({"peer-check", "--path", "/p", "--config", "/a.toml"}), "--config does not apply to peer-check");
  EXPECT_EQ(MustFail({"peer-check", "--path", "/p", "--log.level=info"}), "--log.level does not apply to peer-check");
  EXPECT_EQ(MustFail({"peer-check", "--path", "/p", "extra"}), "unknown argument extra");
  EXPECT_EQ(MustFail({"--path", "/p", "peer-check"}), "--path is only for peer-check");
}

TEST(CliTest, UsageMentionsEveryCommandAndFlag) {
  const std::string u = Usage();
  for (const char* s : {"run", "check-config", "peer-check", "--path", "--block", "--offset", "--window", "--version",
                        "--config",
                        "--web.listen-address", "--web.telemetry-path", "/-/ready", "--log.level", "--log.format", "--web.config.file", "--help", "-h", "SIGHUP", "=====> ALIVE <=====",
                        "interval + 1 s"}) {
    EXPECT_THAT(u, HasSubstr(s));
  }
}

Config SampleConfig() {
  Config c;
  c.file = "/etc/hbfence/hbfence.toml";
  c.host.id = "h1";
  c.web.listen_address = "0.0.0.0:19746";
  c.log.level = "info";
  c.fence.action = FenceActionKind::kLogOnly;
  c.sources["fence.action"] = "x:1:1";
  return c;
}

TEST(ApplyOverridesTest, NoFlagsLeaveTheConfigAlone) {
  Config c = SampleConfig();
  ApplyOverrides(MustParse({"run", "--config", "/x.toml"}), c);
  EXPECT_EQ(c.web.listen_address, "0.0.0.0:19746");
  EXPECT_EQ(c.log.level, "info");
  EXPECT_EQ(c.file, "/etc/hbfence/hbfence.toml");
  EXPECT_EQ(c.host.id, "h1");
}

TEST(ApplyOverridesTest, FlagsWinOverTheFile) {
  Config c = SampleConfig();
  ApplyOverrides(MustParse({"--web.listen-address", "127.0.0.1:1234", "--log.level=trace"}), c);
  EXPECT_EQ(c.web.listen_address, "127.0.0.1:1234");
  EXPECT_EQ(c.log.level, "trace");
  // Nothing else changes.
  EXPECT_EQ(c.host.id, "h1");
  EXPECT_EQ(c.fence.action, FenceActionKind::kLogOnly);
  EXPECT_EQ(c.sources.at("fence.action"), "x:1:1");
}

TEST(ApplyOverridesTest, OnlyTheGivenFlagOverrides) {
  Config c = SampleConfig();
  ApplyOverrides(MustParse({"--log.level", "error"}), c);
  EXPECT_EQ(c.web.listen_address, "0.0.0.0:19746");
  EXPECT_EQ(c.log.level, "error");

  Config d = SampleConfig();
  ApplyOverrides(MustParse({"--web.listen-address=10.0.0.1:80"}), d);
  EXPECT_EQ(d.web.listen_address, "10.0.0.1:80");
  EXPECT_EQ(d.log.level, "info");
}

TEST(ApplyOverridesTest, IsIdempotentAcrossReloads) {
  const CliOptions cli = MustParse({"--log.level", "warn"});
  Config first = SampleConfig();
  ApplyOverrides(cli, first);
  Config reloaded = SampleConfig();  // a reload builds a fresh Config from the file
  reloaded.log.level = "debug";
  ApplyOverrides(cli, reloaded);
  EXPECT_EQ(first.log.level, "warn");
  EXPECT_EQ(reloaded.log.level, "warn");
}

TEST(CliTest, ControlStatusAndFence) {
  CliOptions o = MustParse({"control", "status", "/mnt/pool one"});
  EXPECT_EQ(o.command, Command::kControl);
  EXPECT_EQ(o.control_socket, "/run/hbfence/control.sock");
  EXPECT_EQ(o.control_request, "status /mnt/pool one");
  o = MustParse({"control", "--socket", "/tmp/s", "fence", "agent", "says", "so"});
  EXPECT_EQ(o.control_socket, "/tmp/s");
  EXPECT_EQ(o.control_request, "fence agent says so");
  EXPECT_EQ(MustParse({"control", "--socket=/tmp/t", "status", "a"}).control_socket, "/tmp/t");
}

TEST(CliTest, ControlUsageErrors) {
  EXPECT_THAT(MustFail({"control"}), HasSubstr("needs a request"));
  EXPECT_THAT(MustFail({"control", "status"}), HasSubstr("exactly one TARGET"));
  EXPECT_THAT(MustFail({"control", "status", "a", "b"}), HasSubstr("exactly one TARGET"));
  EXPECT_THAT(MustFail({"control", "fence"}), HasSubstr("needs a REASON"));
  EXPECT_THAT(MustFail({"control", "reboot"}), HasSubstr("unknown request reboot"));
  EXPECT_THAT(MustFail({"control", "--socket"}), HasSubstr("--socket needs a value"));
  EXPECT_THAT(MustFail({"control", "--socket="}), HasSubstr("--socket needs a value"));
  EXPECT_THAT(MustFail({"control", "fence", "two\nlines"}), HasSubstr("one line"));
}

TEST(CliTest, FenceTakesConfigSocketTargetAndAReason) {
  CliOptions o = MustParse({"fence", "--config", "/etc/h.toml", "--target", "/mnt/p", "--", "cloudstack", "agent:", "-c"});
  EXPECT_EQ(o.command, Command::kFence);
  EXPECT_EQ(o.config_path, "/etc/h.toml");
  EXPECT_EQ(o.fence_target, "/mnt/p");
  EXPECT_FALSE(o.fence_socket) << "the configuration's socket unless given";
  EXPECT_EQ(o.fence_reason, "cloudstack agent: -c") << "after --, words that look like flags are the reason";
  o = MustParse({"fence", "--socket=/tmp/s", "--target=", "drill"});
  EXPECT_EQ(o.fence_socket, "/tmp/s");
  EXPECT_EQ(o.fence_target, "") << "an empty pool (-c without -m) is allowed";
  EXPECT_EQ(o.config_path, "/etc/hbfence/hbfence.toml");
  EXPECT_EQ(o.fence_reason, "drill");
}

TEST(CliTest, FenceUsageErrors) {
  EXPECT_THAT(MustFail({"fence"}), HasSubstr("fence needs a REASON"));
  EXPECT_THAT(MustFail({"fence", "--config", "x.toml"}), HasSubstr("fence needs a REASON"));
  EXPECT_THAT(MustFail({"fence", "--reboot", "now", "why"}), HasSubstr("unknown argument --reboot"));
  EXPECT_THAT(MustFail({"fence", "--socket=", "why"}), HasSubstr("--socket needs a value"));
  EXPECT_THAT(MustFail({"fence", "two\nlines"}), HasSubstr("one line"));
  EXPECT_THAT(Usage(), HasSubstr("hbfence fence [--config FILE] [--socket PATH] [--target TARGET] REASON..."));
}

TEST(CliTest, ReplayTakesSettingsTargetsAndAFormat) {
  const auto o = MustParse({"replay", "--config", "x.toml", "--since=7d", "--timeout", "2.5", "--lease", "90s",
                            "--policy", "quorum", "--target", "a", "--target=b", "--format", "json"});
  EXPECT_EQ(o.command, Command::kReplay);
  EXPECT_EQ(o.config_path, "x.toml");
  EXPECT_EQ(o.replay_since, std::chrono::hours(24 * 7));
  EXPECT_EQ(o.replay_timeout, std::chrono::milliseconds(2500));
  EXPECT_EQ(o.replay_lease, std::chrono::seconds(90));
  EXPECT_EQ(o.replay_policy, Policy::kQuorum);
  EXPECT_EQ(o.replay_targets, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(o.replay_json);
  const auto a = MustParse({"advise", "--margin", "1.5", "--since", "24h"});
  EXPECT_EQ(a.command, Command::kAdvise);
  EXPECT_EQ(a.advise_margin, 1.5);
  EXPECT_EQ(a.replay_since, std::chrono::hours(24));
}

TEST(CliTest, ReplayAndAdviseUsageErrors) {
  EXPECT_THAT(MustFail({"replay", "--interval", "2"}), HasSubstr("--interval cannot be replayed"));
  EXPECT_THAT(MustFail({"replay", "--since", "-5d"}), HasSubstr("is not a span of time"));
  EXPECT_THAT(MustFail({"replay", "--since", "1e400"}), HasSubstr("is not a span of time"));
  EXPECT_THAT(MustFail({"replay", "--lease", "nan"}), HasSubstr("is not a span of time"));
  EXPECT_THAT(MustFail({"replay", "--since", "5y"}), HasSubstr("is not a span of time"));
  EXPECT_THAT(MustFail({"replay", "--policy", "most"}), HasSubstr("must be any, all or quorum"));
  EXPECT_THAT(MustFail({"replay", "--format", "yaml"}), HasSubstr("must be text or json"));
  EXPECT_THAT(MustFail({"replay", "--margin", "2"}), HasSubstr("--margin is not for replay"));
  EXPECT_THAT(MustFail({"advise", "--lease", "60"}), HasSubstr("--lease is not for advise"));
  EXPECT_THAT(MustFail({"advise", "--margin", "0.5"}), HasSubstr("from 1 to 100"));
  EXPECT_THAT(MustFail({"advise", "--since"}), HasSubstr("--since needs a value"));
  EXPECT_THAT(MustFail({"advise", "now"}), HasSubstr("unknown argument now"));
  EXPECT_THAT(Usage(), HasSubstr("hbfence replay [--config FILE]"));
  EXPECT_THAT(Usage(), HasSubstr("hbfence advise [--config FILE]"));
}

}  // namespace
}  // namespace hbfence
