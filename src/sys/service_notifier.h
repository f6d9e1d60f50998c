// SPDX-License-Identifier: Apache-2.0

// The service-manager seam: readiness, status and liveness for systemd
// (Type=notify, WatchdogSec=). The real one speaks sd_notify(3) to $NOTIFY_SOCKET,
// so tests drive it with a stand-in socket; without $NOTIFY_SOCKET it does nothing.
#pragma once

#include <optional>
#include <string>

#include "src/sys/time.h"

namespace hbfence {

class ServiceNotifier {
 public:
  virtual ~ServiceNotifier() = default;
  virtual void Ready() = 0;
  virtual void Status(const std::string& line) = 0;
  virtual void WatchdogAlive() = 0;
  // How often WatchdogAlive() is due (half of WatchdogSec), if the manager wants it.
  virtual std::optional<Duration> WatchdogPeriod() const = 0;
  virtual void Stopping() = 0;
};

// sd_notify(3). Safe from any thread (a socket per message).
class SystemdNotifier final : public ServiceNotifier {
 public:
  SystemdNotifier();
  void Ready() override;
  void Status(const std::string& line) override;
  void WatchdogAlive() override;
  std::optional<Duration> WatchdogPeriod() const override { return watchdog_period_; }
  void Stopping() override;

 private:
  std::optional<Duration> watchdog_period_;
};

}  // namespace hbfence
