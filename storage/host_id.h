// SPDX-License-Identifier: Apache-2.0

// What a host id (host.id) may hold, in one place for everything that writes or
// reads one: it names the heartbeat file hb-<id> that other hosts list (and export
// as a metric label), fills block sectors, and appears in log lines and the
// journal. CloudStack uses the host's private IP address; DNS names, IPv6
// addresses and UUIDs fit. No '/', whitespace or control characters.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string_view>

namespace hbfence {

inline constexpr size_t kMaxHostId = 252;  // "hb-" + id fits a 255-byte file name

inline bool HostIdChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
         c == '_' || c == ':';
}

inline bool ValidHostId(std::string_view id) {
  return !id.empty() && id.size() <= kMaxHostId && std::all_of(id.begin(), id.end(), HostIdChar);
}

}  // namespace hbfence
