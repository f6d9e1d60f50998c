// SPDX-License-Identifier: Apache-2.0

#include "src/host_identity.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>

#include <algorithm>
#include <cerrno>

#include "src/sys/fs_util.h"

namespace hbfence {
namespace {

// NetUtils.getNetworkParams skips these (isLoopbackAddress, isLinkLocalAddress,
// isMulticastAddress).
bool AgentUsable(std::string_view dotted) {
  in_addr a{};
  if (inet_pton(AF_INET, std::string(dotted).c_str(), &a) != 1) return false;
  const uint32_t ip = ntohl(a.s_addr);
  const bool loopback = (ip >> 24) == 127;
  const bool link_local = (ip >> 16) == 0xA9FE;  // 169.254/16
  const bool multicast = (ip >> 28) == 0xE;      // 224/4
  return !loopback && !link_local && !multicast;
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

bool WritesCloudStackFiles(const Config& cfg) {
  return cfg.cloudstack.discover_pools ||
         std::any_of(cfg.targets.begin(), cfg.targets.end(), [](const TargetConfig& t) { return t.cloudstack_layout; });
}

}  // namespace

Result<std::vector<InterfaceAddress>, std::string> ListIPv4Addresses() {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return Err{ErrnoMessage("getifaddrs", errno)};
  std::vector<InterfaceAddress> out;
  for (const ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
    if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != AF_INET) continue;
    char text[INET_ADDRSTRLEN] = {};
    const auto* in = reinterpret_cast<const sockaddr_in*>(i->ifa_addr);
    if (inet_ntop(AF_INET, &in->sin_addr, text, sizeof text) == nullptr) continue;
    out.push_back({i->ifa_name, text});
  }
  freeifaddrs(list);
  return out;
}

std::vector<std::string> AgentAddresses(std::span<const InterfaceAddress> addresses, std::string_view device) {
  std::vector<std::string> out;
  for (const auto& a : addresses) {
    if (a.interface == device && AgentUsable(a.address)) out.push_back(a.address);
  }
  return out;
}

HostIdCheck CheckHostId(const Config& cfg, const Result<std::vector<InterfaceAddress>, std::string>& addresses) {
  HostIdCheck check;
  const std::string& id = cfg.host.id;
  const auto& cs = cfg.cloudstack;
  if (cs.agent_properties.empty()) {
    if (!WritesCloudStackFiles(cfg)) return check;
    check.notes.push_back(
        "host.id names this host in CloudStack's heartbeat files (hb-" + id +
        "); CloudStack's agent names it by the IPv4 address of agent.properties' private.network.device: set "
        "[cloudstack] agent_properties to have check-config compare them");
    if (!addresses) {
      check.warnings.push_back("cannot list this host's addresses (" + addresses.error() + "): host.id not checked");
      return check;
    }
    const bool ours = std::any_of(addresses.value().begin(), addresses.value().end(),
                                  [&](const InterfaceAddress& a) { return a.address == id; });
    if (!ours) {
      check.warnings.push_back("host.id \"" + id +
                               "\" is not an IPv4 address of this host, but CloudStack names hosts by their private IP: "
                               "its neighbours read <pool>/KVMHA/hb-<private IP>, not the hb-" + id +
                               " hbfence writes, and would find this host dead");
    }
    return check;
  }
  const std::string where = cs.private_network_device + ", " + cs.private_network_device_source;
  if (!addresses) {
    check.warnings.push_back("cannot list this host's addresses (" + addresses.error() +
                             "): host.id not checked against " + where);
    return check;
  }
  const auto agent = AgentAddresses(addresses.value(), cs.private_network_device);
  if (agent.empty()) {
    check.warnings.push_back("private.network.device " + cs.private_network_device + " (" +
                             cs.private_network_device_source +
                             ") has no IPv4 address here (no such interface, or not configured yet): cannot tell "
                             "which address CloudStack's agent names this host by; host.id \"" + id +
                             "\" is used as given");
    return check;
  }
  const bool matches = std::find(agent.begin(), agent.end(), id) != agent.end();
  if (matches && agent.size() == 1) {
    check.notes.push_back("host.id matches the CloudStack agent's private IP " + id + " (the IPv4 address of " + where +
                          ")");
  } else if (matches) {
    check.notes.push_back("host.id is one of the IPv4 addresses of " + where + " (" + Join(agent) +
                          "); the agent names this host by the first one the kernel lists (some releases the last): "
                          "check that its log names " + id);
  } else {
    check.warnings.push_back(
        "host.id \"" + id + "\" is not the CloudStack agent's private IP " + Join(agent) + " (the IPv4 address" +
        (agent.size() > 1 ? "es" : "") + " of " + where + "): the agent writes, and its neighbours read, " +
        "<pool>/KVMHA/hb-" + agent.front() + ", hbfence writes hb-" + id + ", so they would find this host dead; set " +
        "[host] id = \"" + agent.front() + "\"");
  }
  return check;
}

}  // namespace hbfence
