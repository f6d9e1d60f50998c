// SPDX-License-Identifier: Apache-2.0

#include "src/sys/fence_io.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace hbfence {

Status SystemFenceIo::WriteSysrq(const std::filesystem::path& trigger, char command) {
  // No O_CREAT: the real trigger always exists, and a typo must fail loudly rather
  // than create a harmless file and leave the host up.
  const int fd = ::open(trigger.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0) return Err{"open " + trigger.string() + ": " + std::strerror(errno)};
  const ssize_t n = ::write(fd, &command, 1);
  const int saved = errno;
  ::close(fd);
  if (n != 1) return Err{"write " + trigger.string() + ": " + std::strerror(saved)};
  return OkStatus();
}

Status SystemFenceIo::Reboot() {
  ::reboot(RB_AUTOBOOT);
  return Err{std::string("reboot(2): ") + std::strerror(errno)};
}

void SystemFenceIo::SyncFilesystems() { ::sync(); }

Status SystemFenceIo::ForceUnmount(const std::filesystem::path& mount_point) {
  if (::umount2(mount_point.c_str(), MNT_FORCE | MNT_DETACH) == 0) return OkStatus();
  // EINVAL: not a mount point (any more): someone unmounted it first.
  if (errno == EINVAL) return OkStatus();
  return Err{"umount2 " + mount_point.string() + ": " + std::strerror(errno)};
}

}  // namespace hbfence
