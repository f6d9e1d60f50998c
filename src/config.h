// The configuration: parsed once from TOML into plain structs, validated whole,
// and then read through these structs only. Reload builds a new Config and swaps
// it in only if it validates.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "fence/fence_config.h"
#include "fence/timings.h"
#include "src/sys/result.h"
#include "storage/target_config.h"

namespace hbfence {

struct HostConfig {
  std::string id;  // used in heartbeat file names and the journal
};

struct WebConfig {
  std::string listen_address = "0.0.0.0:19746";
  // user -> bcrypt hash ($2y$/$2b$, as htpasswd -B writes). Empty: no auth.
  std::map<std::string, std::string> basic_auth_users;
};

struct WatchdogConfig {
  std::filesystem::path device;  // empty: no hardware watchdog
  Duration timeout = std::chrono::seconds(60);
};

struct ControlConfig {
  // The root-only control socket (src/control_socket.h); empty: none.
  std::filesystem::path socket_path;
};

struct LogConfig {
  std::string level = "info";
};

struct Config {
  std::string file;  // where it came from, for messages
  HostConfig host;
  WebConfig web;
  LogConfig log;
  HeartbeatConfig heartbeat;
  FenceConfig fence;
  WatchdogConfig watchdog;
  ControlConfig control;
  std::vector<TargetConfig> targets;
  // Where each fence/heartbeat value came from: "file:line:column" or "default".
  std::map<std::string, std::string> sources;
};

struct ConfigError {
  std::string file;
  uint32_t line = 0;
  uint32_t column = 0;
  std::string message;
  std::string ToString() const;  // "file:line:column: message"
};

// No I/O: `file` names the text in messages and anchors relative paths.
Result<Config, ConfigError> ParseConfig(std::string_view text, std::string_view file);
Result<Config, ConfigError> LoadConfigFile(const std::filesystem::path& path);

// Every effective value, one "key = value  # source" line each, for check-config.
std::vector<std::string> DescribeConfig(const Config& cfg);

inline constexpr std::string_view kLogLevels[] = {"trace", "debug", "info", "warn", "error", "critical", "off"};

}  // namespace hbfence
