// Small POSIX file helpers shared by the journal and the heartbeat target.
#pragma once

#include <filesystem>
#include <string>

#include "src/sys/result.h"

namespace hbfence {

std::string ErrnoMessage(const std::string& what, int err);  // "what: strerror(err)"

// fsync(2) on a directory, so a create or rename inside it is durable.
Status FsyncDirectory(const std::filesystem::path& dir);

// mkdir -p. Returns 0, or the errno of the first component that failed and, in
// *failed, that component.
int MakeDirectories(const std::filesystem::path& dir, std::filesystem::path* failed = nullptr);

}  // namespace hbfence
