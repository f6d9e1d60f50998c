// SPDX-License-Identifier: Apache-2.0

#include "storage/peer_watch.h"

#include <algorithm>
#include <cctype>
#include <system_error>

#include "storage/host_id.h"
#include "storage/peer_check.h"

namespace hbfence {
namespace {

// File names become the `peer` label on every watching host: only hb-<a valid
// host.id>, so a stray file cannot break anyone's /metrics.
bool UsablePeerName(std::string_view name) { return name.starts_with("hb-") && ValidHostId(name.substr(3)); }

}  // namespace

PeerScan ReadPeerHeartbeats(const std::filesystem::path& dir, std::string_view own_file_name, size_t max_peers) {
  PeerScan scan;
  std::vector<std::string> names;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (UsablePeerName(name) && name != own_file_name) names.push_back(std::move(name));
  }
  if (ec) {
    scan.error = "list " + dir.string() + ": " + ec.message();
    return scan;
  }
  std::sort(names.begin(), names.end());
  if (names.size() > max_peers) {
    scan.left_out = names.size() - max_peers;
    names.resize(max_peers);
  }
  for (auto& name : names) {
    auto value = ReadHeartbeatFile(dir / name);
    scan.readings.push_back({std::move(name), std::move(value)});
  }
  return scan;
}

std::vector<PeerAge> PeerAgeTracker::Update(const std::vector<PeerReading>& readings, MonoTime now,
                                            WallTime wall_now) {
  std::map<std::string, Seen, std::less<>> next;
  std::vector<PeerAge> ages;
  for (const auto& r : readings) {
    Seen seen;
    if (auto it = peers_.find(r.name); it != peers_.end()) {
      seen = it->second;
    } else {
      seen.advanced_at = now;
    }
    if (r.value) {
      const int64_t v = r.value.value();
      if (!seen.last_value) {
        const auto written_at = WallTime(std::chrono::duration_cast<WallTime::duration>(std::chrono::seconds(v)));
        seen.advanced_at = now - std::max(Duration::zero(), Duration(wall_now - written_at));
      } else if (v > *seen.last_value) {
        seen.advanced_at = now;
      }
      seen.last_value = v;
    }
    ages.push_back({r.name, now - seen.advanced_at, r.value.ok(), r.value ? std::string() : r.value.error()});
    next[r.name] = seen;
  }
  peers_ = std::move(next);
  return ages;
}

}  // namespace hbfence
