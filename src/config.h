// SPDX-License-Identifier: Apache-2.0

// The configuration: parsed once from TOML into plain structs, validated whole,
// and then read through these structs only. Reload builds a new Config and swaps
// it in only if it validates.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "fence/decide.h"
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
  // Where the exposition is served (Prometheus' --web.telemetry-path); "/metrics".
  std::string telemetry_path = "/metrics";
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

// CloudStack interop (docs/cloudstack.md, docs/agent-properties.md).
struct CloudStackConfig {
  // Read (never written) for fence and timing defaults; empty: not read.
  std::filesystem::path agent_properties;
  // Heartbeat every shared filesystem mounted directly below mount_prefix
  // (CloudStack mounts primary storage pools at /mnt/<pool uuid>).
  bool discover_pools = false;
  Duration rediscover_interval = std::chrono::seconds(30);  // new pools join without a SIGHUP
  std::filesystem::path mount_prefix = "/mnt";
  std::filesystem::path mountinfo_path = "/proc/self/mountinfo";
  bool peer_watch = false;              // on discovered pools
  bool allow_local_filesystem = false;  // discover pools on ext4, xfs, tmpfs... too
  // agent.properties' private.network.device (CloudStack's default when it is not
  // set), whose IPv4 address is this host's name in CloudStack's heartbeat files;
  // empty when agent.properties is not read. Only checked against host.id
  // (src/host_identity.h), and where it came from: "FILE:LINE" or a sentence.
  std::string private_network_device;
  std::string private_network_device_source;
};

// The write history (storage/history.h), for `hbfence replay` and `hbfence advise`.
struct HistoryConfig {
  bool enabled = true;
  // Default: history/ beside fence.journal_path, /var/lib/hbfence/history.
  std::filesystem::path path = "/var/lib/hbfence/history";
  uint64_t max_bytes = 16ull << 20;  // per target, both segments together
};

struct LogConfig {
  std::string level = "info";
  std::string format = "plain";  // plain, logfmt or json (src/log_format.h)
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
  HistoryConfig history;
  CloudStackConfig cloudstack;
  std::vector<TargetConfig> targets;  // configured ones first, then discovered pools
  // Where each fence/heartbeat value came from: "file:line:column",
  // "agent.properties-file:line (property)" or "default".
  std::map<std::string, std::string> sources;
  // Accepted but worth an operator's attention (agent.properties values, skipped
  // pools): logged on every load, listed by check-config.
  std::vector<std::string> warnings;
  // agent.properties named a fence action hbfence does not know, and hbfence.toml
  // does not set one: hard-reboot is used (as CloudStack's helper does).
  bool unknown_fence_action = false;
};

struct ConfigError {
  std::string file;
  uint32_t line = 0;  // 1-based; 0 only when `file` could not be read at all
  uint32_t column = 0;
  std::string message;
  // "file:line:column: message"; for line 0 the message alone, which names the file.
  std::string ToString() const;
};

// How the parser reads the other files a configuration names (agent.properties,
// mountinfo): the whole file, or why not.
using FileReader = std::function<Result<std::string, std::string>(const std::filesystem::path&)>;

// No I/O of its own: `file` names the text in messages and anchors relative paths;
// other files are read through `read` (none when it is empty).
Result<Config, ConfigError> ParseConfig(std::string_view text, std::string_view file, const FileReader& read = {});
Result<Config, ConfigError> LoadConfigFile(const std::filesystem::path& path);

// Periodic pool discovery: makes the discovered targets of `running` those of
// `fresh` (a new load of the same file), leaving everything else as it runs (other
// changes wait for a SIGHUP). A pool CloudStack unmounts (maintenance, removal)
// stops being a target instead of failing every host at once; dead storage stays
// mounted (a hard NFS mount hangs) and keeps failing.
struct PoolChanges {
  std::vector<TargetConfig> added, removed;
};
PoolChanges SyncDiscoveredPools(const Config& fresh, Config& running);

// Why `address` is not one listen address civetweb reads exactly as meant, or ""
// when it is: host:port, the host a dotted quad (each number 0 to 255, no leading
// zeros), a host name (RFC 1123 labels, starting with a letter; civetweb resolves
// it to IPv4 at start), [IPv6] (only with `ipv6`: an HTTP library that has IPv6), or
// none (":port", every address; metrics/http_server.h). For web.listen_address and
// --web.listen-address; the one-argument form asks the HTTP library.
std::string ListenAddressProblem(std::string_view address, bool ipv6);
std::string ListenAddressProblem(std::string_view address);

// Why `path` cannot be web.telemetry_path (--web.telemetry-path), or "": an absolute
// URL path of letters, digits and "-._~" in non-empty segments, no "." or ".."
// segment, no trailing '/', at most 256 bytes, and none of the paths hbfence
// serves itself ("/", "/healthz", anything under "/-/").
std::string TelemetryPathProblem(std::string_view path);

// Where each named target's storage is (kind, mount), for actions that fence what a
// pool holds; names no target has are left out.
// A target named over the control socket or by a CloudStack drop-in, by its name,
// heartbeat file or mount: a trailing slash on a path must not matter.
std::filesystem::path WithoutTrailingSlash(std::string_view s);

std::vector<TargetPlace> PlacesOf(const std::vector<TargetConfig>& targets, const std::vector<std::string>& names);

// Every effective value, one "key = value  # source" line each, for check-config.
std::vector<std::string> DescribeConfig(const Config& cfg);

// A bcrypt hash as htpasswd -B writes it ($2y$, $2b$ or $2a$), for basic auth users.
bool IsBcryptHash(std::string_view hash);

inline constexpr std::string_view kLogFormatNames[] = {"plain", "logfmt", "json"};
inline constexpr std::string_view kLogLevels[] = {"trace", "debug", "info", "warn", "error", "critical", "off"};

}  // namespace hbfence
