// SPDX-License-Identifier: Apache-2.0

// Watching the neighbours: with peer_watch = true, a CloudStack-layout file target
// also reads the other hosts' hb-* files in its KVMHA directory, so alert rules can
// tell a storage-wide outage (every age grows) from one sick host (one age grows).
//
// ReadPeerHeartbeats() does the blocking reads and runs on the target's writer
// thread. PeerAgeTracker turns successive readings into ages on the local monotonic
// clock, so no two hosts' clocks are ever compared once a peer has been seen.
#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "src/sys/result.h"
#include "src/sys/time.h"

namespace hbfence {

// The most peers watched per target: the label set of
// hbfence_peer_heartbeat_age_seconds{target,peer} stays bounded by this.
inline constexpr size_t kMaxWatchedPeers = 64;

struct PeerReading {
  std::string name;                    // the file name, e.g. "hb-10.1.34.126"
  Result<int64_t, std::string> value;  // Unix seconds, or why the file could not be read
};

struct PeerScan {
  std::vector<PeerReading> readings;  // sorted by name, at most max_peers
  size_t left_out = 0;                // hb-* files past max_peers, not read
  std::string error;                  // the directory itself could not be listed
};

// Reads every hb-* file in `dir` except `own_file_name`, in name order; only the
// first `max_peers` names are read, so which peers are watched does not change from
// one scan to the next. Blocking; may hang on dead storage.
PeerScan ReadPeerHeartbeats(const std::filesystem::path& dir, std::string_view own_file_name,
                            size_t max_peers = kMaxWatchedPeers);

struct PeerAge {
  std::string name;
  Duration age{};     // since the value last advanced, on the local monotonic clock
  bool readable = true;
  std::string error;  // the last read error when !readable

  bool operator==(const PeerAge&) const = default;
};

// Owned by the thread that scans; not thread-safe.
//
// Rules:
// - first sighting of a value v: the peer is taken to have written it at
//   wall_now - v (its own clock; never less than 0, for a writer running ahead),
//   and from then on ages on the monotonic clock;
// - the value advancing (above the previous reading) resets the age to 0; the same
//   value, a lower one, or an unreadable file lets it grow;
// - a peer first seen unreadable ages from that sighting: nothing older is known;
// - a peer whose file is gone from the scan is forgotten.
class PeerAgeTracker {
 public:
  std::vector<PeerAge> Update(const std::vector<PeerReading>& readings, MonoTime now, WallTime wall_now);

 private:
  struct Seen {
    std::optional<int64_t> last_value;  // the last value read, if any ever was
    MonoTime advanced_at;
  };
  std::map<std::string, Seen, std::less<>> peers_;
};

}  // namespace hbfence
