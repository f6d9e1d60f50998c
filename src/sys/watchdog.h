// SPDX-License-Identifier: Apache-2.0

// The hardware watchdog seam: a device that resets the host unless it is petted.
// hbfence pets it from the scheduler loop, so a wedged daemon stops petting too.
#pragma once

#include <filesystem>
#include <memory>

#include "src/sys/result.h"
#include "src/sys/time.h"

namespace hbfence {

class Watchdog {
 public:
  virtual ~Watchdog() = default;
  virtual Status Pet() = 0;
  // Disarms on a clean shutdown: writes the magic 'V', then closes.
  virtual Status MagicClose() = 0;
};

// No watchdog configured: petting and closing do nothing, successfully.
class NullWatchdog final : public Watchdog {
 public:
  Status Pet() override { return OkStatus(); }
  Status MagicClose() override { return OkStatus(); }
};

// /dev/watchdog or a stand-in file. On a character device it also sets the
// timeout (WDIOC_SETTIMEOUT). Every pet writes one byte, as `echo 1 >` would.
// Owned by the scheduler thread.
class DeviceWatchdog final : public Watchdog {
 public:
  static Result<std::unique_ptr<DeviceWatchdog>> Open(const std::filesystem::path& device, Duration timeout);
  ~DeviceWatchdog() override;
  Status Pet() override;
  Status MagicClose() override;

 private:
  explicit DeviceWatchdog(int fd, std::filesystem::path device) : fd_(fd), device_(std::move(device)) {}
  int fd_;
  std::filesystem::path device_;
};

}  // namespace hbfence
