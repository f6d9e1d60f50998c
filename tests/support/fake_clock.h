// SPDX-License-Identifier: Apache-2.0

// A clock tests move by hand. SleepFor() advances it instantly, so an action that
// waits five minutes (graceful escalation) runs in microseconds.
#pragma once

#include <atomic>

#include "src/sys/clock.h"

namespace hbfence::testing {

class FakeClock final : public Clock {
 public:
  MonoTime Now() const override { return MonoTime(Duration(mono_ns_.load())); }
  WallTime WallNow() const override {
    return WallTime(std::chrono::duration_cast<WallTime::duration>(Duration(wall_ns_.load())));
  }
  void SleepFor(Duration d) const override { const_cast<FakeClock*>(this)->Advance(d); }

  void Advance(Duration d) {
    mono_ns_ += d.count();
    wall_ns_ += d.count();
  }
  Duration slept() const { return Duration(mono_ns_.load()) - Duration(kStart); }

 private:
  static constexpr int64_t kStart = 1'000'000'000'000;                 // arbitrary, not zero
  std::atomic<int64_t> mono_ns_{kStart};
  std::atomic<int64_t> wall_ns_{1'795'000'000'000'000'000};           // a 2026 Unix time
};

}  // namespace hbfence::testing
