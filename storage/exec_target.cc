// SPDX-License-Identifier: Apache-2.0

#include "storage/exec_target.h"

namespace hbfence {
namespace {

// "10s" for whole seconds, "200ms" otherwise: the timeout as the operator would write it.
std::string DescribeTimeout(Duration timeout) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count();
  return ms % 1000 == 0 ? std::to_string(ms / 1000) + "s" : std::to_string(ms) + "ms";
}

std::string CommandLine(const std::vector<std::string>& argv) {
  std::string line;
  for (const auto& arg : argv) line += (line.empty() ? "" : " ") + arg;
  return line;
}

WriteError ReasonFor(const ProcessOutcome& outcome) {
  switch (outcome.kind) {
    case ProcessOutcome::Kind::kExited:
    case ProcessOutcome::Kind::kTimedOut: return WriteError::kIoError;
    case ProcessOutcome::Kind::kSignaled:
    case ProcessOutcome::Kind::kFailedToStart: return WriteError::kOther;
  }
  return WriteError::kOther;
}

}  // namespace

// A probe reports health; it writes nothing of ours, so the content time is unused.
WriteResult ExecTarget::Write(WallTime /*content_time*/) {
  const ProcessOutcome outcome = runner_.Run(cfg_.command, timeout_, ChildStdout::kDiscard);
  if (outcome.Succeeded()) return {};
  const std::string what = outcome.kind == ProcessOutcome::Kind::kTimedOut
                               ? "timed out after " + DescribeTimeout(timeout_)
                               : outcome.Describe();
  return {ReasonFor(outcome), CommandLine(cfg_.command) + ": " + what};
}

}  // namespace hbfence
