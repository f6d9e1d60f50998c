// SPDX-License-Identifier: Apache-2.0

// The lease margin, live: the longest a target went without a successful write over a
// sliding window, the gap still open included. A gap is measured as the engine sees
// it: from the last success (its tick) to the moment the next success renews the
// lease. Compared with the lease it says how close healthy-looking storage came to a
// false fence, before one happens (hbfence_heartbeat_gap_max_seconds).
#pragma once

#include <deque>
#include <utility>

#include "src/sys/time.h"

namespace hbfence {

class GapWindow {
 public:
  explicit GapWindow(Duration window) : window_(window) {}

  // A success renewed the lease at `at`, after `gap` without one.
  void OnRenewal(MonoTime at, Duration gap);
  // The longest gap that ended within the window before `now`, or the open one
  // (now - last_success) if longer. Forgets gaps that left the window.
  Duration Max(MonoTime now, MonoTime last_success);

 private:
  Duration window_;
  // Renewals in time order with strictly decreasing gaps: a gap that ended earlier
  // and was no longer than a later one can never be the maximum again.
  std::deque<std::pair<MonoTime, Duration>> peaks_;
};

}  // namespace hbfence
