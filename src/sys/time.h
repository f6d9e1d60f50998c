// SPDX-License-Identifier: Apache-2.0

// One time vocabulary for the whole daemon. Durations are std::chrono values
// (nanosecond resolution); config and metrics convert to seconds at the edges.
#pragma once

#include <chrono>

namespace hbfence {

using Duration = std::chrono::nanoseconds;
using MonoTime = std::chrono::steady_clock::time_point;   // intervals, leases, timeouts
using WallTime = std::chrono::system_clock::time_point;   // file contents, *_timestamp_seconds

inline double ToSeconds(Duration d) { return std::chrono::duration<double>(d).count(); }

// To the nearest nanosecond: a cast would truncate 1.001 (1.000999999999999889…) to
// 1000999999 ns, and a lease typed as exactly a printed minimum would fall 1 ns short.
inline Duration FromSeconds(double seconds) {
  return std::chrono::round<Duration>(std::chrono::duration<double>(seconds));
}

inline double ToUnixSeconds(WallTime t) { return ToSeconds(t.time_since_epoch()); }

}  // namespace hbfence
