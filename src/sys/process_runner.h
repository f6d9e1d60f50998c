// SPDX-License-Identifier: Apache-2.0

// The process seam: runs a program (argv, never a shell) and waits for it with a
// bound. Used for systemctl, custom fence scripts, sync and exec probes.
#pragma once

#include <string>
#include <vector>

#include "src/sys/time.h"

namespace hbfence {

struct ProcessOutcome {
  enum class Kind { kExited, kSignaled, kTimedOut, kFailedToStart };
  Kind kind = Kind::kFailedToStart;
  int code = 0;  // exit status, signal number, or errno for kFailedToStart

  bool Succeeded() const { return kind == Kind::kExited && code == 0; }
  std::string Describe() const;  // "exit 0", "signal 9", "timed out", "failed to start: ..."
};

// Where the child's stdout goes. Its stderr always goes where ours does (under
// systemd: the journal), so a failing program's own error message can be read there.
enum class ChildStdout {
  kInherit,  // ours: fence actions run once per decision, and what they print belongs in the log
  kDiscard,  // /dev/null: probes run every interval (`drbdsetup status --json`) would flood the journal
};

class ProcessRunner {
 public:
  virtual ~ProcessRunner() = default;
  // Runs argv[0] (an absolute path) with argv[1..]. On timeout the whole process
  // group is killed with SIGKILL before returning kTimedOut.
  virtual ProcessOutcome Run(const std::vector<std::string>& argv, Duration timeout, ChildStdout out) = 0;
  ProcessOutcome Run(const std::vector<std::string>& argv, Duration timeout) {
    return Run(argv, timeout, ChildStdout::kInherit);
  }
};

// posix_spawn into its own process group, stdin from /dev/null, default signal
// dispositions and an empty signal mask (the daemon blocks signals for sigwait).
// Stateless; safe from any thread.
class PosixProcessRunner final : public ProcessRunner {
 public:
  using ProcessRunner::Run;
  ProcessOutcome Run(const std::vector<std::string>& argv, Duration timeout, ChildStdout out) override;
};

}  // namespace hbfence
