// The process seam: runs a program (argv, never a shell) and waits for it with a
// bound. Used for systemctl, custom fence scripts and sync.
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

class ProcessRunner {
 public:
  virtual ~ProcessRunner() = default;
  // Runs argv[0] (an absolute path) with argv[1..]. On timeout the whole process
  // group is killed with SIGKILL before returning kTimedOut.
  virtual ProcessOutcome Run(const std::vector<std::string>& argv, Duration timeout) = 0;
};

// posix_spawn into its own process group, stdin from /dev/null, default signal
// dispositions and an empty signal mask (the daemon blocks signals for sigwait).
// Stateless; safe from any thread.
class PosixProcessRunner final : public ProcessRunner {
 public:
  ProcessOutcome Run(const std::vector<std::string>& argv, Duration timeout) override;
};

}  // namespace hbfence
