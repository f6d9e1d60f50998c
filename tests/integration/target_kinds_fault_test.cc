// SPDX-License-Identifier: Apache-2.0

// The block and exec target kinds on the FUSE fault filesystem: a block write hung
// in the kernel blocks only its own pool thread and finishes once released; EIO
// is an io_error; a probe hung on the storage is killed and reaped at its timeout.
#include <fcntl.h>
#include <unistd.h>

#include <sstream>

#include <gtest/gtest.h>

#include "faultfs_mount.h"
#include "src/sys/clock.h"
#include "storage/block_target.h"
#include "storage/exec_target.h"
#include "storage/write_pool.h"
#include "tests/support/temp_dir.h"

namespace hbfence {
namespace {

using namespace std::chrono_literals;
using testing::FaultFsMount;
using testing::ReadAll;
using testing::TempDir;
using testing::WriteFile;

const WallTime kT = WallTime(std::chrono::seconds(1795000000));

// A 1 MiB "device" on the fault filesystem, created through the backing dir.
std::filesystem::path MakeDevice(const FaultFsMount& fs) {
  WriteFile(fs.backing_dir() / "lun", "");
  std::filesystem::resize_file(fs.backing_dir() / "lun", 1 << 20);
  return fs.mount_point() / "lun";
}

std::unique_ptr<BlockTarget> Block(const std::filesystem::path& device) {
  return std::make_unique<BlockTarget>(TargetConfig{.name = "lun", .kind = "block", .path = device, .offset = 4096},
                                       "h1");
}

// "comm:alive" or "comm:zombie" for each child of this process named `comm`,
// read from /proc without touching the processes themselves.
std::string ChildrenOfThisProcess(const std::string& comm) {
  std::string found;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string stat = ReadAll(entry.path() / "stat");  // "pid (comm) state ppid ..."
    const auto open = stat.find('('), close = stat.rfind(')');
    if (open == std::string::npos || close == std::string::npos) continue;
    std::istringstream rest(stat.substr(close + 1));
    std::string state;
    pid_t ppid = 0;
    rest >> state >> ppid;
    if (ppid != ::getpid() || stat.substr(open + 1, close - open - 1) != comm) continue;
    found += (found.empty() ? "" : " ") + comm + ":" + (state == "Z" ? "zombie" : "alive");
  }
  return found;
}

std::vector<WriteCompletion> WaitForCompletion(CompletionQueue& queue, Duration bound) {
  const auto deadline = std::chrono::steady_clock::now() + bound;
  std::vector<WriteCompletion> got;
  while (got.empty() && std::chrono::steady_clock::now() < deadline) got = queue.WaitUntil(deadline);
  return got;
}

TEST(TargetKindsFaultTest, AHungBlockWriteBlocksOnlyItsThreadAndFinishesWhenReleased) {
  std::string why;
  if (!FaultFsMount::Available(&why)) GTEST_SKIP() << why;
  TempDir dir;
  SystemClock clock;  // outlives the pool's thread: it is awaited below before the test ends
  auto fs = FaultFsMount::Start(dir / "fuse", &why);
  ASSERT_TRUE(fs) << why;
  const auto device = MakeDevice(*fs);
  auto queue = std::make_shared<CompletionQueue>();
  WritePool pool(clock, queue);
  std::shared_ptr<HeartbeatTarget> target = Block(device);

  pool.Submit({{1, target, kT, clock.Now()}});
  auto healthy = WaitForCompletion(*queue, 10s);
  ASSERT_EQ(healthy.size(), 1u);
  ASSERT_TRUE(healthy[0].result.ok()) << healthy[0].result.detail;

  ASSERT_TRUE(fs->SetMode("hang", &why)) << why;
  pool.Submit({{1, target, kT + 5s, clock.Now()}});
  EXPECT_TRUE(queue->WaitUntil(clock.Now() + 500ms).empty()) << "the write should hang in the kernel";
  EXPECT_FALSE(pool.StopWithin(100ms)) << "a thread stuck in a write is detached, not joined";

  ASSERT_TRUE(fs->SetMode("ok", &why)) << why;
  auto released = WaitForCompletion(*queue, 10s);
  ASSERT_EQ(released.size(), 1u) << "the detached thread finishes once the storage answers";
  EXPECT_TRUE(released[0].result.ok()) << released[0].result.detail;
  const auto sector = ReadBlockSector(device, 4096);
  ASSERT_TRUE(sector) << sector.error();
  EXPECT_EQ(sector.value(), (BlockSector{"h1", 2, 1795000005}));
}

TEST(TargetKindsFaultTest, EioOnABlockDeviceIsAnIoError) {
  std::string why;
  if (!FaultFsMount::Available(&why)) GTEST_SKIP() << why;
  TempDir dir;
  auto fs = FaultFsMount::Start(dir / "fuse", &why);
  ASSERT_TRUE(fs) << why;
  auto target = Block(MakeDevice(*fs));
  ASSERT_TRUE(target->Write(kT).ok());

  ASSERT_TRUE(fs->SetMode("eio@write", &why)) << why;
  const auto write = target->Write(kT);
  EXPECT_EQ(write.error, WriteError::kIoError) << write.detail;
  EXPECT_NE(write.detail.find("write " + (fs->mount_point() / "lun").string()), std::string::npos) << write.detail;

  ASSERT_TRUE(fs->SetMode("eio", &why)) << why;
  const auto any = Block(fs->mount_point() / "lun")->Write(kT);  // a fresh target reads the sector first
  EXPECT_EQ(any.error, WriteError::kIoError) << any.detail;
}

TEST(TargetKindsFaultTest, AProbeHungOnTheStorageIsKilledAndReapedAtTheTimeout) {
  std::string why;
  if (!FaultFsMount::Available(&why)) GTEST_SKIP() << why;
  TempDir dir;
  auto fs = FaultFsMount::Start(dir / "fuse", &why);
  ASSERT_TRUE(fs) << why;
  WriteFile(fs->backing_dir() / "x", "healthy\n");
  PosixProcessRunner runner;
  const TargetConfig cfg{.name = "probe", .kind = "exec", .command = {"/bin/cat", (fs->mount_point() / "x").string()}};
  ExecTarget probe(cfg, 300ms, runner);
  ASSERT_TRUE(probe.Write(kT).ok());

  ASSERT_TRUE(fs->SetMode("eio", &why)) << why;
  const auto failed = probe.Write(kT);
  EXPECT_EQ(failed.error, WriteError::kIoError);
  EXPECT_EQ(failed.detail, "/bin/cat " + (fs->mount_point() / "x").string() + ": exit 1");

  ASSERT_TRUE(fs->SetMode("hang", &why)) << why;
  const auto start = std::chrono::steady_clock::now();
  const auto hung = probe.Write(kT);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(hung.error, WriteError::kIoError);
  EXPECT_EQ(hung.detail, "/bin/cat " + (fs->mount_point() / "x").string() + ": timed out after 300ms");
  EXPECT_LT(took, 10s);
  EXPECT_EQ(ChildrenOfThisProcess("cat"), "") << "the killed probe was reaped: SIGKILL freed it from FUSE";
  EXPECT_EQ(ChildrenOfThisProcess("faultfs"), "faultfs:alive") << "the storage server survived the interrupted request";
}

}  // namespace
}  // namespace hbfence
