// One hbfence per state: an exclusive flock(2) on a lock file in a directory,
// released by the kernel when the process dies, however it dies. A second daemon on
// the same journal or runtime directory would write the same heartbeats and journal
// one outage twice.
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

  // Creates `dir` (mode 0700 for new components) and takes the lock on
  // `dir`/hbfence.lock without waiting. Fails when another process holds it (the
  // message names its pid), or with the errno. Blocking calls: run it with a bound
  // where the directory may hang.
  static Result<std::unique_ptr<InstanceLock>, std::string> Acquire(const std::filesystem::path& dir);

  const std::filesystem::path& path() const { return path_; }

 private:
  InstanceLock(int fd, std::filesystem::path path) : fd_(fd), path_(std::move(path)) {}
  int fd_;
  std::filesystem::path path_;
};

}  // namespace hbfence
