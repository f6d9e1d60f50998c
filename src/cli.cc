#include "src/cli.h"

#include <algorithm>

namespace hbfence {

std::string Usage() {
  return R"(usage:
  hbfence [run] [--config FILE] [--web.listen-address ADDR] [--log.level LEVEL]
      Write heartbeats, decide and fence, serve /metrics. Runs in the foreground.
  hbfence check-config [--config FILE]
      Validate the configuration and print every effective value with its source.
      Exit 0 when valid, 2 with file:line:column: message when not.
  hbfence peer-check --path FILE [--window SECONDS]
      Judge another host by its heartbeat file (CloudStack: <pool>/KVMHA/hb-<host IP>):
      read it, wait SECONDS on this host's monotonic clock, read it again. ALIVE only
      if the value advanced; missing, empty, unparsable, unreadable within 10 s or
      frozen is DEAD. No clocks are compared, so a writer running ahead is not ALIVE.
      First line, as CloudStack's kvmheartbeat.sh -r prints it:
  =====> ALIVE <=====
  =====> Considering host as DEAD because last write on [FILE] was [N] seconds ago, but the max interval is [W] <======
      then the reasons. N = our clock minus the file's value (negative: the writer's
      clock runs ahead; our Unix time when nothing was readable). Exit 0 either way,
      2 on a usage error. Rule: SECONDS must exceed the writer's interval + 1 s (the
      file holds whole seconds) plus its write latency; default 60, what CloudStack
      passes with -t. Returns within SECONDS + 20 s even on hung storage.
  hbfence control [--socket PATH] status TARGET
  hbfence control [--socket PATH] fence REASON...
      Ask the running daemon over its root-only control socket ([control] socket_path,
      default /run/hbfence/control.sock). status: TARGET is a target name, its
      heartbeat file or its mount. fence: fence now through the configured action,
      journaled like the daemon's own decisions. Prints the reply; exit 0 for ok or
      accepted, 1 for failing, unknown or refused, 2 for usage or connection errors.
  hbfence --version
      Print the version and git revision.

flags:
  --config FILE               configuration file (default /etc/hbfence/hbfence.toml)
  --web.listen-address ADDR   host:port for /metrics, overrides [web] listen_address
  --log.level LEVEL           trace|debug|info|warn|error|critical|off, overrides [log] level
  --path FILE                 peer-check: the heartbeat file to judge
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

}  // namespace

Result<CliOptions> ParseCli(const std::vector<std::string>& args) {
  CliOptions o;
  size_t i = 0;
  if (!args.empty() && args[0] == "control") return ParseControl(args, o);
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
    } else if (flag == "--path" || flag == "--window") {
      if (!peer_check) return Err{flag + " is only for peer-check"};
      auto v = take();
      if (!v) return Err{v.error()};
      if (flag == "--path") {
        if (v.value().empty()) return Err{"--path needs a file name"};
        o.peer_path = v.value();
      } else {
        auto window = ParseWindow(v.value());
        if (!window) return Err{window.error()};
        o.peer_window = window.value();
      }
    } else if (flag == "--config" || flag == "--web.listen-address" || flag == "--log.level") {
      if (peer_check) return Err{flag + " does not apply to peer-check"};
      auto v = take();
      if (!v) return Err{v.error()};
      if (flag == "--config") o.config_path = v.value();
      if (flag == "--web.listen-address") o.listen_address = v.value();
      if (flag == "--log.level") {
        if (std::find(std::begin(kLogLevels), std::end(kLogLevels), v.value()) == std::end(kLogLevels)) {
          return Err{"--log.level " + v.value() + " is not one of trace, debug, info, warn, error, critical, off"};
        }
        o.log_level = v.value();
      }
    } else {
      return Err{"unknown argument " + args[i]};
    }
  }
  if (o.command == Command::kPeerCheck && o.peer_path.empty()) return Err{"peer-check needs --path FILE"};
  return o;
}

void ApplyOverrides(const CliOptions& cli, Config& cfg) {
  if (cli.listen_address) cfg.web.listen_address = *cli.listen_address;
  if (cli.log_level) cfg.log.level = *cli.log_level;
}

}  // namespace hbfence
