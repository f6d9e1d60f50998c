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
  -h, --help                  this text

signals: SIGHUP reloads the configuration (an invalid one is rejected and the running
one kept); SIGTERM or SIGINT stop the daemon.
)";
}

namespace {

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
  }
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
    } else if (flag == "--config" || flag == "--web.listen-address" || flag == "--log.level") {
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
  return o;
}

void ApplyOverrides(const CliOptions& cli, Config& cfg) {
  if (cli.listen_address) cfg.web.listen_address = *cli.listen_address;
  if (cli.log_level) cfg.log.level = *cli.log_level;
}

}  // namespace hbfence
