#include "src/sys/service_notifier.h"

#include <systemd/sd-daemon.h>

namespace hbfence {

SystemdNotifier::SystemdNotifier() {
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) watchdog_period_ = std::chrono::microseconds(usec / 2);
}

void SystemdNotifier::Ready() { sd_notify(0, "READY=1"); }
void SystemdNotifier::Status(const std::string& line) { sd_notify(0, ("STATUS=" + line).c_str()); }
void SystemdNotifier::WatchdogAlive() { sd_notify(0, "WATCHDOG=1"); }
void SystemdNotifier::Stopping() { sd_notify(0, "STOPPING=1"); }

}  // namespace hbfence
