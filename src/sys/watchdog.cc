// SPDX-License-Identifier: Apache-2.0

#include "src/sys/watchdog.h"

#include <fcntl.h>
#include <linux/watchdog.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "src/sys/fs_util.h"

namespace hbfence {

Result<std::unique_ptr<DeviceWatchdog>> DeviceWatchdog::Open(const std::filesystem::path& device, Duration timeout) {
  // Opening a real watchdog arms it: from here on the host resets unless petted.
  const int fd = ::open(device.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return Err{ErrnoMessage("open watchdog " + device.string(), errno)};
  struct stat st{};
  if (::fstat(fd, &st) == 0 && S_ISCHR(st.st_mode)) {
    int seconds = static_cast<int>(std::chrono::duration_cast<std::chrono::seconds>(timeout).count());
    if (::ioctl(fd, WDIOC_SETTIMEOUT, &seconds) != 0) {
      const int err = errno;
      ::close(fd);
      return Err{ErrnoMessage("set watchdog timeout on " + device.string(), err)};
    }
  }
  return std::unique_ptr<DeviceWatchdog>(new DeviceWatchdog(fd, device));
}

DeviceWatchdog::~DeviceWatchdog() {
  if (fd_ >= 0) ::close(fd_);  // without 'V': a real device stays armed
}

Status DeviceWatchdog::Pet() {
  if (fd_ < 0) return Err{std::string("watchdog is closed")};
  if (::write(fd_, "1", 1) != 1) return Err{ErrnoMessage("pet watchdog " + device_.string(), errno)};
  return OkStatus();
}

Status DeviceWatchdog::MagicClose() {
  if (fd_ < 0) return OkStatus();
  const bool wrote = ::write(fd_, "V", 1) == 1;
  const int err = errno;
  ::close(fd_);
  fd_ = -1;
  if (!wrote) return Err{ErrnoMessage("magic close " + device_.string(), err)};
  return OkStatus();
}

}  // namespace hbfence
