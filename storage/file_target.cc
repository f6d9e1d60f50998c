// SPDX-License-Identifier: Apache-2.0

#include "storage/file_target.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "src/sys/fs_util.h"
#include "storage/fs_types.h"

namespace hbfence {

std::string_view ReasonName(WriteError e) {
  switch (e) {
    case WriteError::kNone: return "";
    case WriteError::kIoError: return "io_error";
    case WriteError::kNoSpace: return "no_space";
    case WriteError::kReadOnly: return "read_only";
    case WriteError::kStaleHandle: return "stale_handle";
    case WriteError::kNotMounted: return "not_mounted";
    case WriteError::kOther: return "other";
  }
  return "other";
}

WriteError ClassifyErrno(int err) {
  switch (err) {
    case EIO: return WriteError::kIoError;
    case ENOSPC: case EDQUOT: return WriteError::kNoSpace;
    case EROFS: return WriteError::kReadOnly;
    case ESTALE: return WriteError::kStaleHandle;
    default: return WriteError::kOther;
  }
}

std::string HeartbeatContent(WallTime t) {
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
  return std::to_string(secs) + "\n";
}

namespace {

WriteResult Failure(const std::string& what, int err) {
  return {ClassifyErrno(err), ErrnoMessage(what, err)};
}

WriteResult NotMounted(const std::string& detail) { return {WriteError::kNotMounted, detail}; }

// A closed fd that reports close(2) errors: NFS may only report a failed write there.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int Close() {
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

// The device of `mount` when it is a mount point: it lives on a different device
// than its parent (or is "/"). Same check as mountpoint(1), two stats, no parsing.
struct MountCheck {
  dev_t dev = 0;
  WriteResult failure;
};

MountCheck CheckMountPoint(const std::filesystem::path& mount) {
  struct stat self{}, parent{};
  if (::stat(mount.c_str(), &self) != 0) {
    const int err = errno;
    if (err == ENOENT || err == ENOTDIR) return {0, NotMounted(mount.string() + " does not exist")};
    return {0, Failure("stat " + mount.string(), err)};
  }
  const auto up = mount / "..";
  if (::stat(up.c_str(), &parent) != 0) return {0, Failure("stat " + up.string(), errno)};
  const bool is_root = self.st_dev == parent.st_dev && self.st_ino == parent.st_ino;
  if (self.st_dev == parent.st_dev && !is_root) return {0, NotMounted(mount.string() + " is not a mount point")};
  return {self.st_dev, {}};
}

// Neighbours cannot see a heartbeat on a local filesystem: with shared storage
// expected, writing there would be a heartbeat that proves nothing.
WriteResult RefuseLocal(const struct statfs& sf, const std::filesystem::path& where) {
  const auto fs = FilesystemByMagic(static_cast<long>(sf.f_type));
  if (!fs || !fs->local) return {};
  return NotMounted(where.string() + " is on a local " + std::string(fs->name) +
                    " filesystem, not shared storage (allow_local_filesystem = true permits it)");
}

// Creates the file atomically: a reader sees no file or a complete one.
WriteResult CreateByRename(const std::filesystem::path& path, const std::string& content) {
  const auto dir = path.parent_path();
  const auto tmp = dir / ("." + path.filename().string() + ".hbfence-tmp");
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (fd.get() < 0) return Failure("create " + tmp.string(), errno);
  if (::write(fd.get(), content.data(), content.size()) != static_cast<ssize_t>(content.size())) {
    return Failure("write " + tmp.string(), errno ? errno : EIO);
  }
  if (::fdatasync(fd.get()) != 0) return Failure("fdatasync " + tmp.string(), errno);
  if (fd.Close() != 0) return Failure("close " + tmp.string(), errno);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return Failure("rename " + tmp.string(), errno);
  if (auto synced = FsyncDirectory(dir); !synced) return {WriteError::kIoError, synced.error()};
  return {};
}

}  // namespace

WriteResult FileTarget::Write(WallTime content_time) {
  const auto& path = cfg_.path;
  dev_t mount_dev = 0;
  if (cfg_.mount) {
    auto check = CheckMountPoint(*cfg_.mount);
    if (!check.failure.ok()) return check.failure;
    mount_dev = check.dev;
  }
  const std::string content = HeartbeatContent(content_time);

  Fd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW));
  if (fd.get() < 0 && errno != ENOENT) return Failure("open " + path.string(), errno);

  struct stat st{};
  if (fd.get() >= 0 && ::fstat(fd.get(), &st) != 0) return Failure("fstat " + path.string(), errno);
  // Checked on the open file, not the path: what we write to is what we verified.
  if (cfg_.mount && fd.get() >= 0 && st.st_dev != mount_dev) {
    return NotMounted(path.string() + " is not on " + cfg_.mount->string());
  }
  if (!cfg_.allow_local_filesystem && fd.get() >= 0) {
    struct statfs sf{};
    if (::fstatfs(fd.get(), &sf) != 0) return Failure("fstatfs " + path.string(), errno);
    if (auto refused = RefuseLocal(sf, path); !refused.ok()) return refused;
  }
  if (fd.get() < 0 || st.st_size < static_cast<off_t>(content.size())) {
    std::filesystem::path failed;
    if (const int err = MakeDirectories(path.parent_path(), &failed)) return Failure("mkdir " + failed.string(), err);
    if (cfg_.mount) {
      struct stat dir{};
      if (::stat(path.parent_path().c_str(), &dir) != 0) return Failure("stat " + path.parent_path().string(), errno);
      if (dir.st_dev != mount_dev) return NotMounted(path.parent_path().string() + " is not on " + cfg_.mount->string());
    }
    if (!cfg_.allow_local_filesystem) {
      struct statfs sf{};
      if (::statfs(path.parent_path().c_str(), &sf) != 0) return Failure("statfs " + path.parent_path().string(), errno);
      if (auto refused = RefuseLocal(sf, path.parent_path()); !refused.ok()) return refused;
    }
    return CreateByRename(path, content);
  }
  if (::pwrite(fd.get(), content.data(), content.size(), 0) != static_cast<ssize_t>(content.size())) {
    return Failure("write " + path.string(), errno ? errno : EIO);
  }
  if (st.st_size > static_cast<off_t>(content.size()) && ::ftruncate(fd.get(), static_cast<off_t>(content.size())) != 0) {
    return Failure("truncate " + path.string(), errno);
  }
  if (::fdatasync(fd.get()) != 0) return Failure("fdatasync " + path.string(), errno);
  if (fd.Close() != 0) return Failure("close " + path.string(), errno);
  return {};
}

}  // namespace hbfence
