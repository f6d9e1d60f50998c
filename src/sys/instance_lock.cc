// SPDX-License-Identifier: Apache-2.0

#include "src/sys/instance_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <sstream>
#include <string>

#include "src/sys/fs_util.h"

namespace hbfence {

InstanceLock::~InstanceLock() { ::close(fd_); }

int FlockHolder(std::string_view locks_text, unsigned dev_major, unsigned dev_minor, unsigned long inode) {
  // "1: FLOCK  ADVISORY  WRITE 1234 fd:01:5678 0 EOF"; the device is hex.
  std::istringstream in{std::string(locks_text)};
  for (std::string line; std::getline(in, line);) {
    char kind[16], mode[16], access[16];
    int pid = 0;
    unsigned major = 0, minor = 0;
    unsigned long ino = 0;
    if (std::sscanf(line.c_str(), "%*d: %15s %15s %15s %d %x:%x:%lu", kind, mode, access, &pid, &major, &minor, &ino) ==
            7 &&
        std::string_view(kind) == "FLOCK" && major == dev_major && minor == dev_minor && ino == inode) {
      return pid;
    }
  }
  return 0;
}

Result<std::unique_ptr<InstanceLock>, std::string> InstanceLock::Acquire(const std::filesystem::path& dir,
                                                                        bool* unsupported) {
  if (unsupported) *unsupported = false;
  std::filesystem::path failed;
  if (const int err = MakeDirectories(dir, &failed, 0700)) return Err{ErrnoMessage("mkdir " + failed.string(), err)};
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Err{ErrnoMessage("open " + dir.string(), errno)};
  if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return std::unique_ptr<InstanceLock>(new InstanceLock(fd, dir));
  const int err = errno;
  struct stat st {};
  const bool stated = ::fstat(fd, &st) == 0;
  ::close(fd);
  if (err == EWOULDBLOCK) {
    int holder = 0;
    if (auto locks = ReadRegularFile("/proc/locks", 16 << 20); locks && stated) {
      holder = FlockHolder(locks.value(), major(st.st_dev), minor(st.st_dev), st.st_ino);
    }
    return Err{"another hbfence" + (holder ? " (pid " + std::to_string(holder) + ")" : std::string()) +
               " holds the lock on " + dir.string() + ": only one may run on this state"};
  }
  if ((err == EBADF || err == ENOLCK || err == EOPNOTSUPP || err == ENOSYS) && unsupported) {
    *unsupported = true;
    return std::unique_ptr<InstanceLock>();
  }
  return Err{ErrnoMessage("flock " + dir.string(), err)};
}

}  // namespace hbfence
