// SPDX-License-Identifier: Apache-2.0

// RAII handle on a running faultfs mount, for tests that need storage which
// misbehaves on demand (see faultfs.c for the control-file protocol).
//
//   std::string why;
//   if (!FaultFsMount::Available(&why)) {
//     GTEST_SKIP() << why;
//   }
//   auto fs = FaultFsMount::Start(scratch_dir, &why);
//   ASSERT_TRUE(fs) << why;
//   ASSERT_TRUE(fs->SetMode("eio@fsync", &why)) << why;
//   ... exercise fs->mount_point() ...
//   fs.reset();  // releases hangs, unmounts, reaps faultfs
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace hbfence::testing {

class FaultFsMount {
 public:
  // False when this machine cannot mount FUSE filesystems for us (no
  // /dev/fuse, or not root); `reason` then says why, for GTEST_SKIP.
  static bool Available(std::string* reason = nullptr);

  // Creates scratch_dir/{backing,mnt}, a control file, starts faultfs on
  // them in mode "ok" and waits (at most 10 s) until the mount is live.
  // Returns nullptr with `error` filled if it could not. The caller owns
  // scratch_dir and may delete it after this object is gone.
  static std::unique_ptr<FaultFsMount> Start(const std::filesystem::path& scratch_dir,
                                             std::string* error = nullptr);

  FaultFsMount(const FaultFsMount&) = delete;
  FaultFsMount& operator=(const FaultFsMount&) = delete;
  ~FaultFsMount();  // Unmount()

  const std::filesystem::path& mount_point() const { return mount_point_; }
  const std::filesystem::path& backing_dir() const { return backing_dir_; }
  const std::filesystem::path& control_file() const { return control_file_; }
  pid_t pid() const { return pid_; }
  // Number of the FUSE connection under /sys/fs/fuse/connections.
  unsigned connection_id() const { return connection_id_; }

  // Switches the fault mode, e.g. "ok", "delay:50:10", "hang@write,fsync",
  // "eio@fsync", and returns once every later request on the mount obeys it
  // (bounded: 5 s). False with `error` filled if faultfs rejected the mode,
  // did not acknowledge it in time, or is gone. May be called from any
  // thread, but not concurrently with Unmount() or destruction.
  bool SetMode(std::string_view mode, std::string* error = nullptr);

  // Simulates a dead FUSE server: every pending and future request on the
  // mount fails at once (ECONNABORTED / ENOTCONN). The mount entry stays
  // until Unmount().
  bool AbortConnection(std::string* error = nullptr);

  // Detaches the mount (MNT_DETACH) so the mount point silently reverts to
  // the plain empty directory under it, as when storage disappears under a
  // daemon; the backing dir is untouched and fds already open on the mount
  // keep working. faultfs is reaped by Unmount() or the destructor.
  bool UnmountLazy(std::string* error = nullptr);

  // Full teardown, idempotent and bounded: mode "ok" (frees hung requests),
  // aborts the connection if requests are still stuck, detaches the mount,
  // then stops faultfs (SIGTERM, SIGKILL as a last resort). Never leaves a
  // thread stuck in the kernel or a stale mount. Returns false (and `error`)
  // only if something needed force; the cleanup happened anyway.
  bool Unmount(std::string* error = nullptr);

 private:
  FaultFsMount() = default;

  // Connection number of our mount per /proc/self/mountinfo, 0 if not
  // mounted. Never touches the mount itself, so it cannot hang.
  unsigned MountedConnection() const;
  bool ProcessAlive();
  bool WaitForExit(std::chrono::milliseconds timeout);
  bool WaitForNoStuckRequests(std::chrono::milliseconds timeout) const;

  std::filesystem::path scratch_dir_;
  std::filesystem::path backing_dir_;
  std::filesystem::path mount_point_;
  std::filesystem::path control_file_;
  std::filesystem::path log_file_;
  pid_t pid_ = -1;  // -1 once reaped
  int exit_status_ = 0;  // waitpid status, once reaped
  unsigned connection_id_ = 0;
  std::mutex set_mode_mutex_;
};

}  // namespace hbfence::testing
