// SPDX-License-Identifier: Apache-2.0

// `hbfence peer-check` on storage that stops answering: the read hangs in the kernel
// (FUSE fault filesystem), yet the command prints DEAD "read timed out" and exits 0
// without waiting for it, as CloudStack's agent needs an answer.
#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include "faultfs_mount.h"
#include "storage/peer_check.h"
#include "tests/support/daemon_process.h"
#include "tests/support/temp_dir.h"

namespace hbfence {
namespace {

using namespace std::chrono_literals;
using testing::FaultFsMount;
using testing::RunCapture;
using testing::TempDir;
using testing::WriteFile;

TEST(PeerCheckHungTest, HungReadIsDeadAfterTheReadTimeout) {
  std::string why;
  if (!FaultFsMount::Available(&why)) GTEST_SKIP() << why;
  TempDir dir;
  auto fs = FaultFsMount::Start(dir / "fuse", &why);
  ASSERT_TRUE(fs) << why;
  const auto file = fs->mount_point() / "KVMHA" / "hb-10.0.0.2";
  WriteFile(file, "1795000000\n");
  ASSERT_TRUE(fs->SetMode("hang@open,read", &why)) << why;

  const auto start = std::chrono::steady_clock::now();
  const auto [rc, out] = RunCapture({HBFENCE_BIN, "peer-check", "--path", file.string(), "--window", "1"});
  const auto took = std::chrono::steady_clock::now() - start;

  EXPECT_EQ(rc, 0) << out;
  const std::string first_line = out.substr(0, out.find('\n'));
  EXPECT_EQ(first_line.rfind("=====> DEAD <====== Considering host as DEAD because last write on [" + file.string() +
                                 "] was [",
                             0),
            0u)
      << first_line;
  EXPECT_TRUE(first_line.ends_with("] seconds ago, but the max interval is [1]")) << first_line;
  EXPECT_NE(out.find("\nread timed out after 10 s (storage not answering)\n"), std::string::npos) << out;
  // Generous: the first read gives up after kPeerReadTimeout; nothing waits for it after.
  EXPECT_GE(took, kPeerReadTimeout);
  EXPECT_LT(took, kPeerReadTimeout + 20s);
}

}  // namespace
}  // namespace hbfence
