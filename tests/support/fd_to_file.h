// SPDX-License-Identifier: Apache-2.0

// Points one of this process's descriptors (stdout, stderr) at a file for a scope,
// so a test can read what a child that inherits it printed there.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

namespace hbfence::testing {

class FdToFile {
 public:
  FdToFile(int fd, const std::filesystem::path& file) : fd_(fd) {
    Flush();
    saved_ = ::dup(fd_);
    const int target = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ::dup2(target, fd_);
    ::close(target);
  }
  ~FdToFile() {
    Flush();
    ::dup2(saved_, fd_);
    ::close(saved_);
  }
  FdToFile(const FdToFile&) = delete;
  FdToFile& operator=(const FdToFile&) = delete;

 private:
  // Buffered stdio output belongs to whichever file was there when it was written.
  void Flush() const { std::fflush(fd_ == STDERR_FILENO ? stderr : stdout); }

  int fd_;
  int saved_ = -1;
};

}  // namespace hbfence::testing
