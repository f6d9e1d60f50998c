// SPDX-License-Identifier: Apache-2.0

// The outcome of one heartbeat write, with failure reasons from a small fixed set
// (they become the `reason` label, so the set must stay bounded).
#pragma once

#include <array>
#include <string>
#include <string_view>

namespace hbfence {

enum class WriteError { kNone, kIoError, kNoSpace, kReadOnly, kStaleHandle, kNotMounted, kOther };

inline constexpr std::array<WriteError, 6> kWriteErrorReasons{WriteError::kIoError,     WriteError::kNoSpace,
                                                             WriteError::kReadOnly,    WriteError::kStaleHandle,
                                                             WriteError::kNotMounted,  WriteError::kOther};

// "io_error", "no_space", "read_only", "stale_handle", "not_mounted", "other" ("" for kNone).
std::string_view ReasonName(WriteError e);
WriteError ClassifyErrno(int err);

struct WriteResult {
  WriteError error = WriteError::kNone;
  std::string detail;  // "fdatasync /mnt/x/hb: Input/output error"
  bool ok() const { return error == WriteError::kNone; }
};

}  // namespace hbfence
