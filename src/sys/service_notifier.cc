// SPDX-License-Identifier: Apache-2.0

#include "src/sys/service_notifier.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace hbfence {
namespace {

// The sd_notify(3) wire protocol, which systemd documents as stable: one datagram
// of newline-separated assignments to the AF_UNIX socket named by $NOTIFY_SOCKET
// ('@' for the abstract namespace). Spoken directly because libsystemd and what it
// pulls in cost about 1 MiB of RSS for these few lines.
void Notify(std::string_view message) {
  const char* socket_path = std::getenv("NOTIFY_SOCKET");
  if (!socket_path || (socket_path[0] != '/' && socket_path[0] != '@')) return;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const size_t length = std::strlen(socket_path);
  if (length >= sizeof addr.sun_path) return;
  std::memcpy(addr.sun_path, socket_path, length);
  if (addr.sun_path[0] == '@') addr.sun_path[0] = '\0';
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  // A manager that is not listening must not stall the main loop.
  ::sendto(fd, message.data(), message.size(), MSG_NOSIGNAL | MSG_DONTWAIT, reinterpret_cast<const sockaddr*>(&addr),
           static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + length));
  ::close(fd);
}

std::optional<uint64_t> EnvNumber(const char* name) {
  const char* text = std::getenv(name);
  if (!text) return std::nullopt;
  uint64_t value = 0;
  const auto* end = text + std::strlen(text);
  const auto [ptr, ec] = std::from_chars(text, end, value);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

}  // namespace

SystemdNotifier::SystemdNotifier() {
  // As sd_watchdog_enabled(3): WATCHDOG_USEC, meant for us unless WATCHDOG_PID names another process.
  const auto usec = EnvNumber("WATCHDOG_USEC");
  const auto pid = EnvNumber("WATCHDOG_PID");
  if (usec && *usec > 0 && (!pid || *pid == static_cast<uint64_t>(::getpid()))) {
    watchdog_period_ = std::chrono::microseconds(*usec / 2);
  }
}

void SystemdNotifier::Ready() { Notify("READY=1"); }
void SystemdNotifier::Status(const std::string& line) { Notify("STATUS=" + line); }
void SystemdNotifier::WatchdogAlive() { Notify("WATCHDOG=1"); }
void SystemdNotifier::Stopping() { Notify("STOPPING=1"); }

}  // namespace hbfence
