// SPDX-License-Identifier: Apache-2.0

#include "src/cli.h"

#include <algorithm>
#include <charconv>
#include <cstdint>

#include "storage/block_sector.h"

namespace hbfence {

std::string Usage() {
  return R"(usage:
  hbfence [run] [--config FILE] [--web.listen-address ADDR] [--web.telemetry-path PATH]
          [--web.config.file FILE] [--log.level LEVEL] [--log.format FORMAT]
      Write heartbeats, decide and fence, serve /metrics and the probes /healthz,
      /-/healthy and /-/ready. Runs in the foreground.
  hbfence check-config [--config FILE] [--web.config.file FILE] [other run flags]
      Validate the configuration and print every effective value with its source.
      Exit 0 when valid, 2 with file:line:column: message when not.
  hbfence peer-check --path FILE [--window SECONDS]
  hbfence peer-check --block DEVICE [--offset BYTES] [--window SECONDS]
      Judge another host by its heartbeat: the file (CloudStack: <pool>/KVMHA/hb-<host IP>)
      or the HBFENCE1 sector at BYTES into DEVICE (a block target). Read it, then
      again every 250 ms for up to SECONDS on this host's monotonic clock: ALIVE as
      soon as it advanced (file: the Unix seconds it holds; block: the sector's
      sequence number). DEAD only after the whole window, by its last read: missing,
      empty, unparsable, never written, bad checksum, unreadable within 10 s or
      frozen. No clocks are compared, so a writer running ahead is not ALIVE.
      First line, as CloudStack's kvmheartbeat.sh -r prints it (old and new agents
      alike find "> DEAD <"):
  =====> ALIVE <=====
  =====> DEAD <====== Considering host as DEAD because last write on [FILE] was [N] seconds ago, but the max interval is [W]
      then the reasons. FILE is the file, or DEVICE (DEVICE@BYTES when BYTES is not 0).
      N = our clock minus the time written (negative: the writer's clock runs ahead;
      our Unix time when nothing was readable). Exit 0 either way, 2 on a usage error.
      Rule: SECONDS must exceed the writer's interval + 1 s (the file holds whole
      seconds) plus its write latency; the sequence advances on every write, so for a
      block target SECONDS need only exceed its interval + write latency. Default 60,
      what CloudStack passes with -t. Returns within SECONDS + 20 s even on hung storage.
  hbfence control [--socket PATH] status TARGET
  hbfence control [--socket PATH] fence REASON...
      Ask the running daemon over its root-only control socket ([control] socket_path,
      default /run/hbfence/control.sock). status: TARGET is a target name, its
      heartbeat file or its mount; ok while it is within its lease, failing once the
      lease expired. fence: only when some target has failed its lease, fence now
      through the configured action, journaled like the daemon's own decisions;
      refused on a healthy host, in the startup grace, or when a fence already stands.
      Prints the reply; exit 0 for ok or accepted, 1 for failing, unknown or refused,
      2 for usage or connection errors, and for a socket not served by root (its
      answer is never believed, and it is sent nothing).
  hbfence fence [--config FILE] [--socket PATH] [--target TARGET] REASON...
      Fence this host for REASON (CloudStack's kvmheartbeat.sh -c), daemon or not.
      First asks the running daemon (the configuration's [control] socket_path, or
      PATH), whose verdict stands: accepted, or refused on a healthy host. When it
      does not answer (not running, wedged), runs the configured fence.action here,
      through the daemon's code: hourly limits from the journal, the journal entry
      first, the same actions and stand-ins. TARGET (a target's name, heartbeat file
      or mount) names the failed pool for the journal and a custom script.
      Exit 0 when the daemon accepted or the action ran as planned (log-only and
      limited ones included), 1 when the daemon refused or restart-agent failed, 2
      on a usage error or a configuration that cannot be loaded (nothing done), 3
      when a reboot was planned and the host is still up.
  hbfence replay [--config FILE] [--since DURATION] [--timeout S] [--lease S] [--policy P]
                 [--target NAME]... [--format text|json]
      Feed the recorded write history ([history] path) through the daemon's own
      timeout rules and decision engine under these settings (default: the
      configuration's) and print per target the attempts, timeouts, errors by
      reason and the longest gap without a successful write, then every fence
      decision the settings would have taken. DURATION: 90s, 30m, 24h, 7d.
      The interval cannot be replayed (the recorded ticks depend on it).
  hbfence advise [--config FILE] [--since DURATION] [--margin FACTOR] [--target NAME]...
      The smallest timeout and lease that would have taken no decision over the
      history, each FACTOR (default 2) times the worst moment that drove it, the
      detection time they give, and the same as CloudStack agent.properties keys.
  hbfence --version
      Print the version and git revision.

flags:
  --config FILE               configuration file (default /etc/hbfence/hbfence.toml)
  --web.listen-address ADDR   host:port for /metrics (:port = every address), overrides [web] listen_address
  --web.telemetry-path PATH   where the metrics are served (default /metrics), overrides [web] telemetry_path
  --web.config.file FILE      basic auth users from an exporter-toolkit web config (YAML: basic_auth_users);
                              not together with [web.basic_auth_users]; tls_server_config is refused
  --log.level LEVEL           trace|debug|info|warn|error|critical|off, overrides [log] level
  --log.format FORMAT         plain (default)|logfmt|json: one record per line, overrides [log] format
  --path FILE                 peer-check: the heartbeat file to judge
  --block DEVICE              peer-check: the device (or file) holding a block target's sector
  --offset BYTES              peer-check --block: where the sector starts, a multiple of 4096 (default 0)
  --window SECONDS            peer-check: whole seconds between the two reads, 1 to 86400 (default 60)
  -h, --help                  this text

signals: SIGHUP reloads the configuration (an invalid one is rejected and the running
one kept); SIGTERM or SIGINT stop the daemon.
)";
}

namespace {

constexpr int64_t kMaxPeerWindowSeconds = 86400;

Result<Duration> ParseWindow(const std::string& text) {
  const std::string error = "--window " + text + " is not a whole number of seconds from 1 to 86400";
  if (text.empty() || text.size() > 5 || text.find_first_not_of("0123456789") != std::string::npos) return Err{error};
  const int64_t seconds = std::stoll(text);
  if (seconds < 1 || seconds > kMaxPeerWindowSeconds) return Err{error};
  return Duration(std::chrono::seconds(seconds));
}

// Bounded so that the sector's end still fits in an off_t.
constexpr uint64_t kMaxPeerOffset = INT64_MAX - kBlockSectorSize;

Result<uint64_t> ParseOffset(const std::string& text) {
  const std::string error = "--offset " + text + " is not a whole number of bytes ≥ 0, a multiple of " +
                            std::to_string(kBlockSectorSize);
  if (text.empty() || text.size() > 19 || text.find_first_not_of("0123456789") != std::string::npos) return Err{error};
  const uint64_t offset = std::stoull(text);
  if (offset > kMaxPeerOffset || offset % kBlockSectorSize != 0) return Err{error};
  return offset;
}

Result<CliOptions> ParseControl(const std::vector<std::string>& args, CliOptions o) {
  o.command = Command::kControl;
  size_t i = 1;  // after "control"
  for (; i < args.size() && args[i].rfind("--socket", 0) == 0; ++i) {
    if (args[i].rfind("--socket=", 0) == 0) {
      o.control_socket = args[i].substr(std::string_view("--socket=").size());
    } else if (args[i] == "--socket" && i + 1 < args.size()) {
      o.control_socket = args[++i];
    } else {
      return Err{args[i] == "--socket" ? std::string("--socket needs a value") : "unknown argument " + args[i]};
    }
    if (o.control_socket.empty()) return Err{std::string("--socket needs a value")};
  }
  if (i == args.size()) return Err{std::string("control needs a request: status TARGET or fence REASON...")};
  const std::string& verb = args[i++];
  const size_t words = args.size() - i;
  std::string argument;
  for (; i < args.size(); ++i) {
    if (args[i].find_first_of("\r\n") != std::string::npos) return Err{std::string("control: arguments must be one line")};
    argument += (argument.empty() ? "" : " ") + args[i];
  }
  if (verb == "status") {
    if (words != 1 || argument.empty()) return Err{std::string("control status needs exactly one TARGET")};
  } else if (verb == "fence") {
    if (argument.empty()) return Err{std::string("control fence needs a REASON")};
  } else {
    return Err{"control: unknown request " + verb + " (status TARGET or fence REASON...)"};
  }
  o.control_request = verb + " " + argument;
  return o;
}

// "--flag=value" or "--flag value": the flag and its value, nullopt when none follows
// ("--" takes none). Moves `i` past a value taken from the next argument.
std::pair<std::string, std::optional<std::string>> TakeFlag(const std::vector<std::string>& args, size_t& i) {
  const std::string& arg = args[i];
  if (arg.rfind("--", 0) != 0) return {arg, std::nullopt};
  if (auto eq = arg.find('='); eq != std::string::npos) return {arg.substr(0, eq), arg.substr(eq + 1)};
  if (arg != "--" && i + 1 < args.size()) return {arg, args[++i]};
  return {arg, std::nullopt};
}

Result<CliOptions> ParseReplay(const std::vector<std::string>& args, CliOptions o) {
  const bool advise = args[0] == "advise";
  o.command = advise ? Command::kAdvise : Command::kReplay;
  const std::string verb = args[0];
  for (size_t i = 1; i < args.size(); ++i) {
    const auto taken = TakeFlag(args, i);
    const std::string& flag = taken.first;
    const std::optional<std::string>& value = taken.second;
    auto bad = [&](const std::string& why) { return Err{verb + ": " + flag + " " + why}; };
    const bool replay_only = flag == "--timeout" || flag == "--lease" || flag == "--policy" || flag == "--format";
    if (flag == "--interval") {
      return Err{verb + ": --interval cannot be replayed: when each write starts depends on the tick grid it was "
                        "recorded on; record a history at the new interval instead"};
    }
    if (flag != "--config" && flag != "--since" && flag != "--target" && flag != "--margin" && !replay_only) {
      return Err{verb + ": unknown argument " + flag};
    }
    if ((replay_only && advise) || (flag == "--margin" && !advise)) return Err{verb + ": " + flag + " is not for " + verb};
    if (!value || value->empty()) return bad("needs a value");
    if (flag == "--config") {
      o.config_path = *value;
    } else if (flag == "--target") {
      o.replay_targets.push_back(*value);
    } else if (flag == "--since") {
      auto span = ParseSpan(*value);
      if (!span) return bad(span.error());
      o.replay_since = span.value();
    } else if (flag == "--timeout" || flag == "--lease") {
      auto span = ParseSpan(*value);
      if (!span) return bad(span.error());
      (flag == "--timeout" ? o.replay_timeout : o.replay_lease) = span.value();
    } else if (flag == "--policy") {
      o.replay_policy = ParsePolicy(*value);
      if (!o.replay_policy) return bad("must be any, all or quorum");
    } else if (flag == "--format") {
      if (*value != "text" && *value != "json") return bad("must be text or json");
      o.replay_json = *value == "json";
    } else {  // --margin
      double margin = 0;
      const auto [end, ec] = std::from_chars(value->data(), value->data() + value->size(), margin);
      if (ec != std::errc() || end != value->data() + value->size() || !(margin >= 1) || margin > 100) {
        return bad("must be a factor from 1 to 100 (2: twice the worst moment)");
      }
      o.advise_margin = margin;
    }
  }
  return o;
}

Result<CliOptions> ParseFence(const std::vector<std::string>& args, CliOptions o) {
  o.command = Command::kFence;
  size_t i = 1;  // after "fence"
  for (; i < args.size() && args[i].rfind("--", 0) == 0; ++i) {
    const auto taken = TakeFlag(args, i);
    const std::string& flag = taken.first;
    const std::optional<std::string>& value = taken.second;
    if (flag == "--") {
      ++i;
      break;
    }
    if (flag != "--config" && flag != "--socket" && flag != "--target") return Err{"fence: unknown argument " + flag};
    if (!value || (value->empty() && flag != "--target")) return Err{"fence: " + flag + " needs a value"};
    if (value->find_first_of("\r\n") != std::string::npos) return Err{"fence: " + flag + " must be one line"};
    if (flag == "--config") o.config_path = *value;
    if (flag == "--socket") o.fence_socket = *value;
    if (flag == "--target") o.fence_target = *value;
  }
  for (; i < args.size(); ++i) {
    if (args[i].find_first_of("\r\n") != std::string::npos) return Err{std::string("fence: the reason must be one line")};
    o.fence_reason += (o.fence_reason.empty() ? "" : " ") + args[i];
  }
  if (o.fence_reason.empty()) return Err{std::string("fence needs a REASON")};
  return o;
}

}  // namespace

Result<CliOptions> ParseCli(const std::vector<std::string>& args) {
  CliOptions o;
  size_t i = 0;
  if (!args.empty() && args[0] == "control") return ParseControl(args, o);
  if (!args.empty() && args[0] == "fence") return ParseFence(args, o);
  if (!args.empty() && (args[0] == "replay" || args[0] == "advise")) return ParseReplay(args, o);
  if (i < args.size() && args[i] == "run") {
    ++i;
  } else if (i < args.size() && args[i] == "check-config") {
    o.command = Command::kCheckConfig;
    ++i;
  } else if (i < args.size() && args[i] == "peer-check") {
    o.command = Command::kPeerCheck;
    ++i;
  }
  const bool peer_check = o.command == Command::kPeerCheck;
  bool offset_given = false;
  for (; i < args.size(); ++i) {
    std::string flag = args[i];
    std::optional<std::string> value;
    if (auto eq = flag.find('='); flag.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
    }
    auto take = [&]() -> Result<std::string> {
      if (value) return *value;
      if (i + 1 >= args.size()) return Err{flag + " needs a value"};
      return args[++i];
    };
    if ((flag == "--version" || flag == "--help") && value) {
      return Err{flag + " takes no value"};
    }
    if (flag == "--version") {
      o.command = Command::kVersion;
    } else if (flag == "-h" || flag == "--help") {
      o.command = Command::kHelp;
    } else if (flag == "--path" || flag == "--block" || flag == "--offset" || flag == "--window") {
      if (!peer_check) return Err{flag + " is only for peer-check"};
      auto v = take();
      if (!v) return Err{v.error()};
      if (flag == "--path" || flag == "--block") {
        const PeerSource source = flag == "--path" ? PeerSource::kFile : PeerSource::kBlock;
        if (v.value().empty()) return Err{flag + (source == PeerSource::kFile ? " needs a file name" : " needs a device")};
        if (!o.peer_path.empty() && o.peer_source != source) {
          return Err{std::string("peer-check takes one of --path FILE and --block DEVICE, not both")};
        }
        o.peer_source = source;
        o.peer_path = v.value();
      } else if (flag == "--offset") {
        auto offset = ParseOffset(v.value());
        if (!offset) return Err{offset.error()};
        o.peer_offset = offset.value();
        offset_given = true;
      } else {
        auto window = ParseWindow(v.value());
        if (!window) return Err{window.error()};
        o.peer_window = window.value();
      }
    } else if (flag == "--config" || flag == "--web.listen-address" || flag == "--web.telemetry-path" ||
               flag == "--web.config.file" ||
               flag == "--log.level" || flag == "--log.format") {
      if (peer_check) return Err{flag + " does not apply to peer-check"};
      auto v = take();
      if (!v) return Err{v.error()};
      if (flag == "--config") o.config_path = v.value();
      if (flag == "--web.config.file") {
        if (v.value().empty()) return Err{std::string("--web.config.file needs a file name")};
        o.web_config_file = v.value();
      }
      if (flag == "--web.listen-address") {
        if (const std::string problem = ListenAddressProblem(v.value()); !problem.empty()) {
          return Err{"--web.listen-address \"" + v.value() + "\": " + problem};
        }
        o.listen_address = v.value();
      }
      if (flag == "--web.telemetry-path") {
        if (const std::string problem = TelemetryPathProblem(v.value()); !problem.empty()) {
          return Err{"--web.telemetry-path \"" + v.value() + "\": " + problem};
        }
        o.telemetry_path = v.value();
      }
      if (flag == "--log.level") {
        if (std::find(std::begin(kLogLevels), std::end(kLogLevels), v.value()) == std::end(kLogLevels)) {
          return Err{"--log.level " + v.value() + " is not one of trace, debug, info, warn, error, critical, off"};
        }
        o.log_level = v.value();
      }
      if (flag == "--log.format") {
        if (std::find(std::begin(kLogFormatNames), std::end(kLogFormatNames), v.value()) == std::end(kLogFormatNames)) {
          return Err{"--log.format " + v.value() + " is not one of plain, logfmt, json"};
        }
        o.log_format = v.value();
      }
    } else {
      return Err{"unknown argument " + args[i]};
    }
  }
  if (o.command == Command::kPeerCheck) {
    if (o.peer_path.empty()) return Err{"peer-check needs --path FILE or --block DEVICE"};
    if (offset_given && o.peer_source != PeerSource::kBlock) return Err{"--offset is only for peer-check --block"};
  }
  return o;
}

Result<Duration> ParseSpan(std::string_view text) {
  double number = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  const std::string_view unit = text.substr(static_cast<size_t>(end - text.data()));
  double scale = 0;
  if (unit.empty() || unit == "s") scale = 1;
  if (unit == "m") scale = 60;
  if (unit == "h") scale = 3600;
  if (unit == "d") scale = 86400;
  if (unit == "w") scale = 7 * 86400;
  const double seconds = number * scale;
  if (ec != std::errc() || scale == 0 || !(seconds >= 0.001) || seconds > 10 * 365 * 86400.0) {
    return Err{"\"" + std::string(text) + "\" is not a span of time: a number with s, m, h, d or w (90s, 24h, 7d), "
               "from 1 ms to 10 years"};
  }
  return FromSeconds(seconds);
}

void ApplyOverrides(const CliOptions& cli, Config& cfg) {
  if (cli.listen_address) cfg.web.listen_address = *cli.listen_address;
  if (cli.telemetry_path) cfg.web.telemetry_path = *cli.telemetry_path;
  if (cli.log_level) cfg.log.level = *cli.log_level;
  if (cli.log_format) cfg.log.format = *cli.log_format;
}

}  // namespace hbfence
