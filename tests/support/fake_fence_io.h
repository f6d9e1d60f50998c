// SPDX-License-Identifier: Apache-2.0

// A FenceIo that records instead of acting. It can also make sync(2) block (until
// the fake is destroyed) and make the sysrq write fail, to walk the fallbacks.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "src/sys/fence_io.h"

namespace hbfence::testing {

class FakeFenceIo final : public FenceIo {
 public:
  ~FakeFenceIo() override { ReleaseSync(); }

  Status WriteSysrq(const std::filesystem::path& trigger, char command) override {
    std::lock_guard lock(mu_);
    if (before_sysrq) before_sysrq();
    events.push_back("sysrq:" + trigger.string() + ":" + std::string(1, command));
    if (fail_sysrq) return Err{std::string("injected sysrq failure")};
    return OkStatus();
  }
  Status Reboot() override {
    std::lock_guard lock(mu_);
    events.push_back("reboot");
    return Err{std::string("injected reboot failure")};
  }
  void SyncFilesystems() override {
    {
      std::lock_guard lock(mu_);
      events.push_back("sync");
    }
    std::unique_lock lock(*sync_mu_);
    sync_cv_->wait(lock, [&] { return !*sync_blocks_; });
  }

  Status ForceUnmount(const std::filesystem::path& mount_point) override {
    std::lock_guard lock(mu_);
    events.push_back("umount:" + mount_point.string());
    if (fail_unmount) return Err{std::string("injected umount failure")};
    return OkStatus();
  }

  void BlockSync() { *sync_blocks_ = true; }
  void ReleaseSync() {
    std::lock_guard lock(*sync_mu_);
    *sync_blocks_ = false;
    sync_cv_->notify_all();
  }
  std::vector<std::string> Events() {
    std::lock_guard lock(mu_);
    return events;
  }

  bool fail_sysrq = false;
  bool fail_unmount = false;
  std::function<void()> before_sysrq;  // runs just before a sysrq write is recorded

 private:
  std::mutex mu_;
  std::vector<std::string> events;
  // Shared so a sync thread still blocked when the fake dies wakes up safely.
  std::shared_ptr<std::mutex> sync_mu_ = std::make_shared<std::mutex>();
  std::shared_ptr<std::condition_variable> sync_cv_ = std::make_shared<std::condition_variable>();
  std::shared_ptr<bool> sync_blocks_ = std::make_shared<bool>(false);
};

}  // namespace hbfence::testing
