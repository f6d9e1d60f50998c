#include "src/sys/fence_io.h"

#include <fcntl.h>
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

}  // namespace hbfence
