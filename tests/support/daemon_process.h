// SPDX-License-Identifier: Apache-2.0

// Runs the real hbfence binary for integration tests: tripwire preloaded, stderr
// captured to a file, HTTP on a port the daemon picked itself (127.0.0.1:0).
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "src/sys/time.h"

namespace hbfence::testing {

class DaemonProcess {
 public:
  // Starts `HBFENCE_BIN args...`; output goes to `log` (truncated first).
  DaemonProcess(const std::vector<std::string>& args, std::filesystem::path log,
                const std::vector<std::string>& extra_env = {});
  ~DaemonProcess();  // SIGKILL if still running

  // Waits until the log contains `needle` (or the process died). Bounded.
  bool WaitForLog(const std::string& needle, Duration timeout = std::chrono::seconds(10));
  int Port();  // from the "(port N)" start-up line; 0 if it never came
  void Signal(int sig);
  // The raw wait status, or nullopt if still running after `timeout`.
  std::optional<int> WaitExit(Duration timeout);
  std::string Log() const;
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int pidfd_ = -1;
  std::filesystem::path log_;
  int port_ = 0;
  std::optional<int> status_;
};

struct HttpResponse {
  int status = 0;  // 0: no answer within the timeout
  std::string headers;  // the status line and header lines, as received
  std::string body;
};
HttpResponse HttpGet(int port, const std::string& path, const std::string& method = "GET",
                     Duration timeout = std::chrono::seconds(5), const std::string& extra_headers = "");
// The same to another local address: an IPv4 or IPv6 literal ("127.0.0.2", "::1").
// status 0 also when nothing listens there.
HttpResponse HttpGetAt(const std::string& ip, int port, const std::string& path, const std::string& method = "GET",
                       Duration timeout = std::chrono::seconds(5), const std::string& extra_headers = "");

// The value of one series in a text exposition, e.g.
// MetricValue(text, "hbfence_target_up{target=\"nfs\"}").
std::optional<double> MetricValue(const std::string& exposition, const std::string& series);

// Scrapes until `pred` holds for the value of `series` (bounded); returns the last value.
std::optional<double> WaitForMetric(int port, const std::string& series, const std::function<bool(double)>& pred,
                                    Duration timeout = std::chrono::seconds(10));

// A reboot, as the lease record a killed daemon left in `runtime_directory` sees it:
// the record now names another boot. False when there is no record to age.
bool SimulateReboot(const std::filesystem::path& runtime_directory);

// Runs argv with `input` on stdin, returns (exit status, combined output).
std::pair<int, std::string> RunCapture(const std::vector<std::string>& argv, const std::string& input = "");

}  // namespace hbfence::testing
