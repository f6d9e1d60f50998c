// SPDX-License-Identifier: Apache-2.0

// A unique directory under /tmp, removed with everything in it at scope exit.
#pragma once

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>  // renameat2
#include <filesystem>
#include <fstream>
#include <string>

namespace hbfence::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = "/tmp/hbfence-test-XXXXXX";
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

inline std::string ReadAll(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Creates parent directories as needed.
inline void WriteFile(const std::filesystem::path& p, const std::string& content, mode_t mode = 0644) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary | std::ios::trunc) << content;
  ::chmod(p.c_str(), mode);
}

// Swaps `path` with `<path>.swapped` in one renameat2(RENAME_EXCHANGE), creating the
// latter as a regular file holding `content` when missing: a directory the daemon
// keeps writing into becomes a file with no moment in which the daemon could
// re-create it (removing it first would race); calling it again swaps back.
// Returns 0 or the errno.
inline int SwapWithAFile(const std::filesystem::path& path, const std::string& content = "not a directory\n") {
  const std::filesystem::path aside = path.string() + ".swapped";
  if (!std::filesystem::exists(aside)) WriteFile(aside, content);
  return ::renameat2(AT_FDCWD, aside.c_str(), AT_FDCWD, path.c_str(), RENAME_EXCHANGE) == 0 ? 0 : errno;
}

inline void AppendFile(const std::filesystem::path& p, const std::string& content) {
  std::ofstream(p, std::ios::binary | std::ios::app) << content;
}

// A shell script that appends its arguments, one line per call, to `record`:
// the stand-in for systemctl and for operators' custom fence scripts.
inline void WriteRecorderScript(const std::filesystem::path& script, const std::filesystem::path& record,
                                const std::string& extra = "") {
  WriteFile(script, "#!/bin/sh\necho \"$*\" >> '" + record.string() + "'\n" + extra, 0755);
}

}  // namespace hbfence::testing
