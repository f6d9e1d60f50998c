// SPDX-License-Identifier: Apache-2.0

// The clock seam. Now(): intervals, leases, timeouts. WallNow(): file contents and
// *_timestamp_seconds. SleepFor() exists so that actions which must wait (graceful
// escalation, sync grace) run instantly under a fake clock in tests.
#pragma once

#include "src/sys/time.h"

namespace hbfence {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual MonoTime Now() const = 0;      // steady_clock
  virtual WallTime WallNow() const = 0;  // system_clock
  virtual void SleepFor(Duration d) const = 0;
};

// The real clock. Stateless; safe from any thread.
class SystemClock final : public Clock {
 public:
  MonoTime Now() const override;
  WallTime WallNow() const override;
  void SleepFor(Duration d) const override;
};

}  // namespace hbfence
