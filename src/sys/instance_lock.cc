#include "src/sys/instance_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "src/sys/fs_util.h"

namespace hbfence {

InstanceLock::~InstanceLock() { ::close(fd_); }

Result<std::unique_ptr<InstanceLock>, std::string> InstanceLock::Acquire(const std::filesystem::path& dir) {
  std::filesystem::path failed;
  if (const int err = MakeDirectories(dir, &failed, 0700)) return Err{ErrnoMessage("mkdir " + failed.string(), err)};
  const auto path = dir / "hbfence.lock";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY, 0600);
  if (fd < 0) return Err{ErrnoMessage("open " + path.string(), errno)};
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Err{path.string() + " is not a regular file"};
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    std::string holder;
    char buf[32] = {};
    if (const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0); n > 0) holder = std::string(buf, static_cast<size_t>(n));
    while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
    ::close(fd);
    if (err == EWOULDBLOCK) {
      return Err{"another hbfence" + (holder.empty() ? std::string() : " (pid " + holder + ")") + " holds " +
                 path.string() + ": only one may run on this state"};
    }
    return Err{ErrnoMessage("flock " + path.string(), err)};
  }
  // The holder's pid, for the next one's message; a stale pid from a dead holder is
  // harmless, since the lock itself died with it.
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
    // The lock holds without the pid; only the message loses it.
  }
  return std::unique_ptr<InstanceLock>(new InstanceLock(fd, path));
}

}  // namespace hbfence
