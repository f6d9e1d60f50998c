// SPDX-License-Identifier: Apache-2.0

// One hbfence per state: an exclusive flock(2) on a directory, released by the
// kernel when the process dies, however it dies. A second daemon on the same
// journal or runtime directory would write the same heartbeats and journal one
// outage twice.
//
// The directory itself is locked, not a file in it: closing a regular file on a
// hung filesystem (FUSE, NFS) sends a flush that can block the process's exit in
// the kernel, and a daemon that cannot exit holds its other locks against its own
// restart. A directory has no flush.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "src/sys/result.h"

namespace hbfence {

class InstanceLock {
 public:
  ~InstanceLock();
  InstanceLock(const InstanceLock&) = delete;
  InstanceLock& operator=(const InstanceLock&) = delete;

  // Creates `dir` (mode 0700 for new components) and locks it without waiting.
  // Fails when another process holds it (the message names its pid, from
  // /proc/locks), or with the errno. A filesystem that cannot lock directories
  // (NFS turns flock into byte-range locks that need a writable file) is
  // `unsupported`: no error, no lock. Blocking calls: run it with a bound where the
  // directory may hang.
  static Result<std::unique_ptr<InstanceLock>, std::string> Acquire(const std::filesystem::path& dir,
                                                                    bool* unsupported = nullptr);

  const std::filesystem::path& dir() const { return dir_; }

 private:
  InstanceLock(int fd, std::filesystem::path dir) : fd_(fd), dir_(std::move(dir)) {}
  int fd_;
  std::filesystem::path dir_;
};

// The pid holding a flock on the file with this device and inode, per /proc/locks
// (`locks_text`); 0 when none is listed.
int FlockHolder(std::string_view locks_text, unsigned dev_major, unsigned dev_minor, unsigned long inode);

}  // namespace hbfence
