// SPDX-License-Identifier: Apache-2.0

#include "src/sys/fs_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

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

int MakeDirectories(const std::filesystem::path& dir, std::filesystem::path* failed, unsigned mode) {
  std::filesystem::path partial;
  for (const auto& part : dir) {
    partial /= part;
    if (::mkdir(partial.c_str(), mode) != 0 && errno != EEXIST) {
      if (failed) *failed = partial;
      return errno;
    }
  }
  return 0;
}

std::string FileTypeName(unsigned st_mode) {
  switch (st_mode & S_IFMT) {
    case S_IFREG: return "a regular file";
    case S_IFDIR: return "a directory";
    case S_IFIFO: return "a FIFO";
    case S_IFSOCK: return "a socket";
    case S_IFCHR: return "a character device";
    case S_IFBLK: return "a block device";
    case S_IFLNK: return "a symbolic link";
  }
  return "not a regular file";
}

Result<std::string, std::string> ReadRegularFile(const std::filesystem::path& path, size_t max_bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return Err{ErrnoMessage("cannot open " + path.string(), errno)};
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return Err{ErrnoMessage("cannot stat " + path.string(), err)};
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return Err{path.string() + " is " + FileTypeName(st.st_mode) + ", not a regular file"};
  }
  auto too_big = [&] {
    return Err{path.string() + " is larger than " + std::to_string(max_bytes) + " bytes"};
  };
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    ::close(fd);
    return too_big();
  }
  // Files under /proc report size 0: read until EOF, still within the bound.
  std::string text;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return Err{ErrnoMessage("cannot read " + path.string(), err)};
    }
    if (n == 0) break;
    if (text.size() + static_cast<size_t>(n) > max_bytes) {
      ::close(fd);
      return too_big();
    }
    text.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return text;
}

}  // namespace hbfence
