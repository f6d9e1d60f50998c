// SPDX-License-Identifier: Apache-2.0

// Small POSIX file helpers shared by the journal and the heartbeat target.
#pragma once

#include <filesystem>
#include <string>

#include "src/sys/result.h"

namespace hbfence {

std::string ErrnoMessage(const std::string& what, int err);  // "what: strerror(err)"

// fsync(2) on a directory, so a create or rename inside it is durable.
Status FsyncDirectory(const std::filesystem::path& dir);

// mkdir -p, new components with `mode`. Returns 0, or the errno of the first
// component that failed and, in *failed, that component.
int MakeDirectories(const std::filesystem::path& dir, std::filesystem::path* failed = nullptr, unsigned mode = 0755);

// Reads a whole regular file of at most `max_bytes`. Opened O_NONBLOCK and checked
// with fstat before the first read, so a FIFO, socket, device or directory at the
// path is refused at once instead of blocking (or reading forever). The error names
// the path and the reason. The calls can still hang on a hung filesystem: run them
// on an IoWorker where that matters.
Result<std::string, std::string> ReadRegularFile(const std::filesystem::path& path, size_t max_bytes);

// What a file of mode `st_mode` is, for messages: "a FIFO", "a directory", …
std::string FileTypeName(unsigned st_mode);

}  // namespace hbfence
