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

Result<CliOptions> ParseCli(const std::vector<std::string>& args) {
  CliOptions o;
  size_t i = 0;
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
