// SPDX-License-Identifier: Apache-2.0

// What the operator asked the fence engine to do. Plain data, parsed once by
// src/config.cc; components take `const FenceConfig&` and never read TOML.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "src/sys/time.h"

namespace hbfence {

enum class FenceActionKind { kHardReboot, kGracefulReboot, kRestartAgent, kLogOnly, kCustom, kDestroyVms };
enum class Policy { kAny, kAll, kQuorum };

// Canonical names: "hard-reboot", "graceful-reboot", "restart-agent", "log-only",
// "custom", "destroy-vms".
std::string_view Name(FenceActionKind action);
std::string_view Name(Policy policy);
// Accepts the canonical names and the alias "reboot" (= hard-reboot).
std::optional<FenceActionKind> ParseFenceAction(std::string_view text);
std::optional<Policy> ParsePolicy(std::string_view text);

struct FenceConfig {
  FenceActionKind action = FenceActionKind::kHardReboot;
  Policy policy = Policy::kAny;
  std::filesystem::path journal_path = "/var/lib/hbfence/fence-journal.jsonl";
  // The action waits at most this long for the journal append (open, write,
  // fdatasync, directory fsync): a healthy disk takes milliseconds even under load,
  // and a hung one must not hold back the fence.
  Duration journal_timeout = std::chrono::seconds(2);
  uint64_t journal_rotate_bytes = 1 << 20;  // then renamed to <journal_path>.1
  // Per-boot state (tmpfs): the lease record that a crash restart continues, and
  // the lock that keeps a second instance out.
  std::filesystem::path runtime_directory = "/run/hbfence";
  std::filesystem::path sysrq_trigger_path = "/proc/sysrq-trigger";
  std::filesystem::path systemctl_path = "/usr/bin/systemctl";
  std::string agent_unit = "cloudstack-agent";
  std::filesystem::path custom_script = "/etc/cloudstack/agent/heartbeat-fence-custom.sh";
  Duration custom_timeout = std::chrono::seconds(60);
  Duration graceful_escalation = std::chrono::seconds(300);  // still alive after this: hard-reboot
  Duration sync_grace = std::chrono::seconds(5);              // hard-reboot waits this long for sync
  Duration systemctl_timeout = std::chrono::seconds(30);      // bound on `systemctl ...` calls
  // Limits, counted from the journal over the past hour so they survive restarts.
  int restart_agent_max_per_hour = 3;  // then restart_agent_escalation runs instead; 0: no limit
  FenceActionKind restart_agent_escalation = FenceActionKind::kHardReboot;
  int max_fences_per_hour = 3;         // reboot-type fences; beyond it: log-only; 0: no limit
  // destroy-vms (fence/destroy_vms.h): the VMs on a failed pool must be gone (and the
  // pool force-unmounted) within this, or the escalation runs.
  Duration destroy_timeout = std::chrono::seconds(30);
  bool force_unmount = true;  // abort the pool's in-flight I/O after the VMs are destroyed
  FenceActionKind destroy_escalation = FenceActionKind::kHardReboot;
  std::string libvirt_uri = "qemu:///system";  // [libvirt] uri
};

// hard-reboot, graceful-reboot and custom take the host down; the others do not.
bool RebootsHost(FenceActionKind action);

}  // namespace hbfence
