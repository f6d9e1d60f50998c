// SPDX-License-Identifier: Apache-2.0

// How CloudStack names this host, and whether hbfence's host.id agrees.
//
// KVMHAMonitor writes <pool mount>/KVMHA/hb-<private IP> (it passes that IP to the
// heartbeat script as -h) and the neighbours read that file. The private IP is the
// first IPv4 address of agent.properties' private.network.device (default cloudbr1)
// that is not loopback, link-local or multicast (NetUtils.getNetworkParams; some
// releases walk the addresses in reverse). hbfence writes hb-<host.id>: when the
// two differ, the neighbours read a file nobody writes and find a live host dead.
//
// CheckHostId() is pure; ListIPv4Addresses() is the one call that asks the kernel.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "src/config.h"
#include "src/sys/result.h"

namespace hbfence {

struct InterfaceAddress {
  std::string interface;  // "cloudbr1"
  std::string address;    // IPv4, dotted quad
};

// Every interface's IPv4 addresses, in the order the kernel lists them (getifaddrs).
Result<std::vector<InterfaceAddress>, std::string> ListIPv4Addresses();

// The addresses of `device` KVMHAMonitor may name this host by, in the kernel's order:
// IPv4, not loopback (127/8), link-local (169.254/16) or multicast (224/4).
std::vector<std::string> AgentAddresses(std::span<const InterfaceAddress> addresses, std::string_view device);

struct HostIdCheck {
  std::vector<std::string> notes;     // how host.id was matched, for check-config
  std::vector<std::string> warnings;  // host.id is not what CloudStack calls this host
};

// With [cloudstack] agent_properties: host.id against private.network.device's
// addresses. Without it, for a configuration that writes CloudStack's files
// (layout = "cloudstack" or discover_pools): host.id against every address of this
// host. Otherwise host.id is no CloudStack name and nothing is said.
HostIdCheck CheckHostId(const Config& cfg, const Result<std::vector<InterfaceAddress>, std::string>& addresses);

}  // namespace hbfence
