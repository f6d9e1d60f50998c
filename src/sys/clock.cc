// SPDX-License-Identifier: Apache-2.0

#include "src/sys/clock.h"

#include <thread>

namespace hbfence {

MonoTime SystemClock::Now() const { return std::chrono::steady_clock::now(); }
WallTime SystemClock::WallNow() const { return std::chrono::system_clock::now(); }
void SystemClock::SleepFor(Duration d) const { std::this_thread::sleep_for(d); }

}  // namespace hbfence
