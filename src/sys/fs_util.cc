#include "src/sys/fs_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace hbfence {

std::string ErrnoMessage(const std::string& what, int err) { return what + ": " + std::strerror(err); }

Status FsyncDirectory(const std::filesystem::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Err{ErrnoMessage("open " + dir.string(), errno)};
  const int rc = ::fsync(fd);
  const int saved = errno;
  ::close(fd);
  if (rc != 0) return Err{ErrnoMessage("fsync " + dir.string(), saved)};
  return OkStatus();
}

int MakeDirectories(const std::filesystem::path& dir, std::filesystem::path* failed) {
  std::filesystem::path partial;
  for (const auto& part : dir) {
    partial /= part;
    if (::mkdir(partial.c_str(), 0755) != 0 && errno != EEXIST) {
      if (failed) *failed = partial;
      return errno;
    }
  }
  return 0;
}

}  // namespace hbfence
