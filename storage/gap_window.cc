// SPDX-License-Identifier: Apache-2.0

#include "storage/gap_window.h"

#include <algorithm>

namespace hbfence {

void GapWindow::OnRenewal(MonoTime at, Duration gap) {
  while (!peaks_.empty() && peaks_.back().second <= gap) peaks_.pop_back();
  peaks_.emplace_back(at, gap);
}

Duration GapWindow::Max(MonoTime now, MonoTime last_success) {
  while (!peaks_.empty() && now - peaks_.front().first > window_) peaks_.pop_front();
  const Duration open = std::max(Duration::zero(), now - last_success);
  return peaks_.empty() ? open : std::max(open, peaks_.front().second);
}

}  // namespace hbfence
