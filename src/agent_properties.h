// SPDX-License-Identifier: Apache-2.0

// CloudStack's /etc/cloudstack/agent/agent.properties, read (never written) for
// defaults that hbfence.toml does not set. Two pure steps, no I/O:
//   ParseJavaProperties: the text, with java.util.Properties.load() semantics.
//   MapAgentProperties:  the keys hbfence understands, as hbfence settings.
// Precedence (the caller applies it): hbfence.toml, then agent.properties, then
// built-in defaults. docs/agent-properties.md has the mapping table.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fence/fence_config.h"
#include "src/sys/result.h"
#include "src/sys/time.h"

namespace hbfence {

struct PropertyValue {
  std::string value;
  uint32_t line = 0;  // 1-based natural line where the key's logical line starts

  bool operator==(const PropertyValue&) const = default;
};
using Properties = std::map<std::string, PropertyValue>;

// Exactly what Java's Properties.load() keeps: comments, separators, escapes and
// continuation lines as its javadoc describes; the last duplicate wins. Bytes pass
// through unchanged except escapes (\uXXXX becomes UTF-8). The only error is the one
// Java throws, a malformed \uXXXX: "line N: malformed \uXXXX escape ...".
Result<Properties, std::string> ParseJavaProperties(std::string_view text);

// The CloudStack property names hbfence reads.
inline constexpr std::string_view kPropFenceAction = "kvm.heartbeat.fence.action";
inline constexpr std::string_view kPropFenceCustomScript = "kvm.heartbeat.fence.custom.script";
inline constexpr std::string_view kPropRebootOnTimeout = "reboot.host.and.alert.management.on.heartbeat.timeout";
inline constexpr std::string_view kPropUpdateFrequency = "kvm.heartbeat.update.frequency";     // ms
inline constexpr std::string_view kPropUpdateMaxTries = "kvm.heartbeat.update.max.tries";      // count
inline constexpr std::string_view kPropUpdateRetrySleep = "kvm.heartbeat.update.retry.sleep";  // ms
inline constexpr std::string_view kPropUpdateTimeout = "heartbeat.update.timeout";             // ms
// The device whose IPv4 address names this host in CloudStack's heartbeat files
// (KVMHAMonitor's hb-<private IP>); not a setting, only checked against host.id.
inline constexpr std::string_view kPropPrivateNetworkDevice = "private.network.device";

// CloudStack's own defaults (AgentProperties / KVMHABase), used to complete the
// lease when only some timing keys are present.
inline constexpr int64_t kCloudStackUpdateFrequencyMs = 60000;
inline constexpr int64_t kCloudStackUpdateMaxTries = 5;
inline constexpr int64_t kCloudStackUpdateRetrySleepMs = 10000;
inline constexpr int64_t kCloudStackUpdateTimeoutMs = 60000;
inline constexpr std::string_view kCloudStackPrivateNetworkDevice = "cloudbr1";  // AgentProperties' default

struct AgentDefaults {  // every field empty when its keys are absent
  std::optional<FenceActionKind> action;
  std::optional<std::filesystem::path> custom_script;  // absolute; relative ones are anchored at the file's folder
  std::optional<Duration> interval, timeout, lease;
  std::optional<std::string> private_network_device;  // trimmed
  uint32_t private_network_device_line = 0;
  // hbfence key ("fence.action", "heartbeat.lease_seconds", ...) -> "FILE:LINE (property.name)".
  std::map<std::string, std::string> sources;
  std::vector<std::string> warnings;  // "FILE:LINE: property.name ...", one per problem
  bool unknown_fence_action = false;  // kvm.heartbeat.fence.action was not a known action
};

// `file` names agent.properties in sources and warnings. Never fails: a bad value is
// a warning and that key is ignored (an unknown fence action is the exception: it
// becomes hard-reboot, as CloudStack's shell helper does).
AgentDefaults MapAgentProperties(const Properties& props, std::string_view file);

}  // namespace hbfence
