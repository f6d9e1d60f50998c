// SPDX-License-Identifier: Apache-2.0

// BlockTarget and ReadBlockSector on real files (sparse "devices" under /tmp, a
// ramfs that refuses O_DIRECT) and on a real loop device: no mocked POSIX calls.
#include "storage/block_target.h"

#include <fcntl.h>
#include <linux/loop.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "src/sys/fs_util.h"
#include "tests/support/temp_dir.h"

namespace hbfence {
namespace {

using testing::ReadAll;
using testing::TempDir;
using testing::WriteFile;

const WallTime kT = WallTime(std::chrono::seconds(1795000000));
const std::string kHost = "3f1c2d2e-6b3a-4c49-9d4e-2f8c6a1b0e77";
constexpr uint64_t kMiB = 1 << 20;

BlockTarget Target(const std::filesystem::path& device, uint64_t offset = 0, const std::string& host = kHost) {
  return BlockTarget(TargetConfig{.name = "lun", .kind = "block", .path = device, .offset = offset}, host);
}

// A sparse regular file standing in for a device.
std::filesystem::path MakeDevice(const std::filesystem::path& path, uint64_t size = kMiB) {
  WriteFile(path, "");
  std::filesystem::resize_file(path, size);
  return path;
}

void Overwrite(const std::filesystem::path& path, uint64_t at, const std::string& bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(at)), static_cast<ssize_t>(bytes.size()));
  ::close(fd);
}

BlockSector ReadBack(const std::filesystem::path& device, uint64_t offset = 0) {
  auto sector = ReadBlockSector(device, offset);
  EXPECT_TRUE(sector) << sector.error();
  return sector ? sector.value() : BlockSector{};
}

TEST(BlockTargetTest, WritesHostIdSequenceAndTime) {
  TempDir dir;
  const auto device = MakeDevice(dir / "lun");
  const auto r = Target(device).Write(kT);
  ASSERT_TRUE(r.ok()) << r.detail;
  EXPECT_EQ(ReadBack(device), (BlockSector{kHost, 1, 1795000000}));
  EXPECT_EQ(std::filesystem::file_size(device), kMiB);
}

TEST(BlockTargetTest, SequenceIncreasesAndContinuesAfterARestart) {
  TempDir dir;
  const auto device = MakeDevice(dir / "lun");
  {
    auto target = Target(device);
    for (uint64_t expected = 1; expected <= 3; ++expected) {
      ASSERT_TRUE(target.Write(kT).ok());
      EXPECT_EQ(ReadBack(device).sequence, expected);
    }
  }
  auto restarted = Target(device);
  ASSERT_TRUE(restarted.Write(kT + std::chrono::seconds(5)).ok());
  EXPECT_EQ(ReadBack(device), (BlockSector{kHost, 4, 1795000005}));
}

TEST(BlockTargetTest, AnotherHostsSectorIsRefusedNotTakenOver) {
  TempDir dir;
  const auto device = MakeDevice(dir / "lun");
  ASSERT_TRUE(Target(device, 8192, "10.0.0.1").Write(kT).ok());
  auto intruder = Target(device, 8192, "10.0.0.2");
  const auto r = intruder.Write(kT + std::chrono::seconds(1));
  EXPECT_EQ(r.error, WriteError::kOther);
  EXPECT_NE(r.detail.find("holds host 10.0.0.1's heartbeat"), std::string::npos) << r.detail;
  EXPECT_NE(r.detail.find("seek=2 "), std::string::npos) << r.detail;
  EXPECT_EQ(ReadBack(device, 8192), (BlockSector{"10.0.0.1", 1, 1795000000})) << "the owner's sector is untouched";
  EXPECT_FALSE(intruder.Write(kT + std::chrono::seconds(2)).ok()) << "and stays refused";
}

// Whoever can write the device chooses what the sector says: an id that is no
// valid host.id (a newline would forge a log line) is not repeated.
TEST(BlockTargetTest, AForeignSectorsInvalidHostIdIsNotRepeated) {
  TempDir dir;
  const auto device = MakeDevice(dir / "lun");
  std::array<uint8_t, kBlockSectorSize> forged{};
  ASSERT_TRUE(EncodeBlockSector({"x\n2026-01-01 critical forged", 7, 1795000000}, forged).ok());
  Overwrite(device, 0, std::string(forged.begin(), forged.end()));
  const auto r = Target(device).Write(kT);
  EXPECT_EQ(r.error, WriteError::kOther);
  EXPECT_EQ(r.detail.find('\n'), std::string::npos) << r.detail;
  EXPECT_NE(r.detail.find("holds another host's heartbeat (its host id is not a valid host.id)"), std::string::npos)
      << r.detail;
}

TEST(BlockTargetTest, TouchesOnlyTheSectorAtItsOffset) {
  TempDir dir;
  const auto device = dir / "lun";
  const std::string pattern(kMiB, '\x5a');
  WriteFile(device, pattern);
  constexpr uint64_t kOffset = 3 * kBlockSectorSize;
  ASSERT_TRUE(Target(device, kOffset).Write(kT).ok());

  const std::string after = ReadAll(device);
  ASSERT_EQ(after.size(), pattern.size());
  EXPECT_EQ(after.substr(0, kOffset), pattern.substr(0, kOffset));
  EXPECT_EQ(after.substr(kOffset + kBlockSectorSize), pattern.substr(kOffset + kBlockSectorSize));
  EXPECT_EQ(after.substr(kOffset, 8), "HBFENCE1");
  EXPECT_EQ(ReadBack(device, kOffset).sequence, 1u);
  const auto elsewhere = ReadBlockSector(device, 0);
  ASSERT_FALSE(elsewhere);
  EXPECT_EQ(elsewhere.error(), device.string() + " at offset 0: bad magic: not an hbfence heartbeat sector");
}

TEST(BlockTargetTest, ReaderReportsNeverWrittenAndEveryCorruption) {
  TempDir dir;
  const auto device = MakeDevice(dir / "lun");
  const auto error_at = [&](uint64_t at, const std::string& bytes) {
    EXPECT_TRUE(Target(device).Write(kT).ok());
    Overwrite(device, at, bytes);
    const auto r = ReadBlockSector(device, 0);
    return r ? std::string("decoded") : r.error();
  };
  const std::string where = device.string() + " at offset 0: ";
  EXPECT_EQ(ReadBlockSector(device, 0).error(), where + "never written (all zeros)");
  EXPECT_EQ(error_at(0, "XXXXXXXX"), where + "bad magic: not an hbfence heartbeat sector");
  EXPECT_EQ(error_at(8, std::string("\x07\0\0\0", 4)), where + "unknown format version 7");
  EXPECT_EQ(error_at(40, "x").rfind(where + "checksum mismatch", 0), 0u);
}

TEST(BlockTargetTest, StartsAtOneOverAnInvalidSectorAndRepairsIt) {
  TempDir dir;
  const auto device = MakeDevice(dir / "lun");
  ASSERT_TRUE(Target(device).Write(kT).ok());
  Overwrite(device, 16, "garbage");  // sequence bytes: the checksum no longer matches
  ASSERT_FALSE(ReadBlockSector(device, 0));
  ASSERT_TRUE(Target(device).Write(kT).ok());
  EXPECT_EQ(ReadBack(device).sequence, 1u);
}

TEST(BlockTargetTest, ADeviceTooSmallForTheSectorIsAnErrorAndIsNotGrown) {
  TempDir dir;
  const auto device = MakeDevice(dir / "lun", 2 * kBlockSectorSize);
  const auto r = Target(device, 2 * kBlockSectorSize).Write(kT);
  EXPECT_EQ(r.error, WriteError::kOther);
  EXPECT_EQ(r.detail, device.string() + " is 8192 bytes, too small for a 4096-byte sector at offset 8192");
  EXPECT_EQ(std::filesystem::file_size(device), 2 * kBlockSectorSize);
  EXPECT_EQ(ReadBlockSector(device, 2 * kBlockSectorSize).error(), r.detail);
  EXPECT_TRUE(Target(device, kBlockSectorSize).Write(kT).ok()) << "the last sector still fits";
}

TEST(BlockTargetTest, MissingDeviceOrADirectoryIsAClearError) {
  TempDir dir;
  const auto missing = Target(dir / "absent").Write(kT);
  EXPECT_EQ(missing.error, WriteError::kOther);
  EXPECT_EQ(missing.detail, "stat " + (dir / "absent").string() + ": No such file or directory");
  EXPECT_FALSE(std::filesystem::exists(dir / "absent")) << "a device is never created";
  const auto directory = Target(dir.path()).Write(kT);
  EXPECT_EQ(directory.error, WriteError::kOther);
  EXPECT_EQ(directory.detail, dir.path().string() + " is neither a block device nor a regular file");
}

TEST(BlockTargetTest, AHostIdTooLongForTheSectorIsAnErrorAndNothingIsWritten) {
  TempDir dir;
  const auto device = MakeDevice(dir / "lun");
  const auto r = Target(device, 0, std::string(300, 'h')).Write(kT);
  EXPECT_EQ(r.error, WriteError::kOther);
  EXPECT_EQ(r.detail, device.string() + ": host id is 300 bytes, a block sector holds at most 255");
  EXPECT_EQ(ReadBlockSector(device, 0).error(), device.string() + " at offset 0: never written (all zeros)");
}

TEST(BlockTargetTest, TheFactoryMakesOneWritingTheEnvHostId) {
  TempDir dir;
  const auto device = MakeDevice(dir / "lun");
  const TargetConfig cfg{.name = "lun", .kind = "block", .path = device, .offset = kBlockSectorSize};
  const auto target = MakeHeartbeatTarget(cfg, TargetEnv{"10.1.34.125", std::chrono::seconds(10), nullptr});
  const auto r = target->Write(kT);
  ASSERT_TRUE(r.ok()) << r.detail;
  EXPECT_EQ(ReadBack(device, kBlockSectorSize).host_id, "10.1.34.125");
}

TEST(BlockTargetTest, ReadOnlyStorageIsClassified) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to mount";
  TempDir dir;
  const auto mnt = dir / "ro";
  std::filesystem::create_directory(mnt);
  ASSERT_EQ(::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=2m"), 0);
  MakeDevice(mnt / "lun");
  ASSERT_EQ(::mount(nullptr, mnt.c_str(), nullptr, MS_REMOUNT | MS_RDONLY, nullptr), 0);
  const auto r = Target(mnt / "lun").Write(kT);
  ::umount2(mnt.c_str(), MNT_DETACH);
  EXPECT_EQ(r.error, WriteError::kReadOnly) << r.detail;
}

TEST(BlockTargetTest, FallsBackToBufferedSyncWritesWhereODirectIsRefused) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to mount";
  TempDir dir;
  const auto mnt = dir / "ramfs";
  std::filesystem::create_directory(mnt);
  ASSERT_EQ(::mount("ramfs", mnt.c_str(), "ramfs", 0, nullptr), 0);
  const auto device = MakeDevice(mnt / "lun");
  ASSERT_LT(::open(device.c_str(), O_RDONLY | O_DIRECT), 0) << "ramfs was expected to refuse O_DIRECT";
  ASSERT_EQ(errno, EINVAL);
  auto target = Target(device);
  const auto first = target.Write(kT), second = target.Write(kT);
  const auto sector = ReadBlockSector(device, 0);
  ::umount2(mnt.c_str(), MNT_DETACH);
  ASSERT_TRUE(first.ok()) << first.detail;
  ASSERT_TRUE(second.ok()) << second.detail;
  ASSERT_TRUE(sector) << sector.error();
  EXPECT_EQ(sector.value().sequence, 2u);
}

// A loop device over `backing`, detached at scope exit; autoclear detaches it even
// if the test dies. Set up with ioctls, so there is no losetup output to parse.
class LoopDevice {
 public:
  explicit LoopDevice(const std::filesystem::path& backing) {
    const int control = ::open("/dev/loop-control", O_RDWR | O_CLOEXEC);
    if (control < 0) {
      why_ = ErrnoMessage("open /dev/loop-control", errno);
      return;
    }
    const int backing_fd = ::open(backing.c_str(), O_RDWR | O_CLOEXEC);
    for (int attempt = 0; attempt < 10 && fd_ < 0 && why_.empty(); ++attempt) {
      const int n = ::ioctl(control, LOOP_CTL_GET_FREE);
      if (n < 0) {
        why_ = ErrnoMessage("LOOP_CTL_GET_FREE", errno);
        break;
      }
      path_ = "/dev/loop" + std::to_string(n);
      const int fd = ::open(path_.c_str(), O_RDWR | O_CLOEXEC);
      if (fd < 0) {
        why_ = ErrnoMessage("open " + path_.string(), errno);
        break;
      }
      loop_config config{};
      config.fd = static_cast<uint32_t>(backing_fd);
      config.info.lo_flags = LO_FLAGS_AUTOCLEAR;
      if (::ioctl(fd, LOOP_CONFIGURE, &config) == 0) {
        fd_ = fd;
      } else {
        if (errno != EBUSY) why_ = ErrnoMessage("LOOP_CONFIGURE " + path_.string(), errno);
        ::close(fd);  // EBUSY: a parallel test took this one first; ask for another
      }
    }
    if (fd_ < 0 && why_.empty()) why_ = "no free loop device after 10 attempts";
    ::close(backing_fd);
    ::close(control);
  }
  ~LoopDevice() {
    if (fd_ < 0) return;
    ::ioctl(fd_, LOOP_CLR_FD);
    ::close(fd_);
  }
  LoopDevice(const LoopDevice&) = delete;
  LoopDevice& operator=(const LoopDevice&) = delete;

  bool attached() const { return fd_ >= 0; }
  const std::string& why() const { return why_; }
  const std::filesystem::path& path() const { return path_; }

 private:
  int fd_ = -1;
  std::filesystem::path path_;
  std::string why_;
};

TEST(BlockTargetTest, OnALoopDevice) {
  TempDir dir;
  const auto backing = MakeDevice(dir / "backing");
  LoopDevice loop(backing);
  if (!loop.attached()) GTEST_SKIP() << "no loop device: " << loop.why();

  auto target = Target(loop.path(), kBlockSectorSize);
  ASSERT_TRUE(target.Write(kT).ok());
  const auto second = target.Write(kT + std::chrono::seconds(5));
  ASSERT_TRUE(second.ok()) << second.detail;
  EXPECT_EQ(ReadBack(loop.path(), kBlockSectorSize), (BlockSector{kHost, 2, 1795000005}));
  EXPECT_EQ(ReadAll(backing).substr(kBlockSectorSize, 8), "HBFENCE1") << "the write reached the backing file";

  const auto beyond = Target(loop.path(), kMiB).Write(kT);
  EXPECT_EQ(beyond.error, WriteError::kOther);
  EXPECT_EQ(beyond.detail, loop.path().string() + " is 1048576 bytes, too small for a 4096-byte sector at offset " +
                               std::to_string(kMiB));
}

TEST(BlockTargetTest, RefusesABlockDeviceHeldExclusivelyAsWhenMounted) {
  TempDir dir;
  const auto backing = MakeDevice(dir / "backing");
  LoopDevice loop(backing);
  if (!loop.attached()) GTEST_SKIP() << "no loop device: " << loop.why();

  const int holder = ::open(loop.path().c_str(), O_RDONLY | O_EXCL | O_CLOEXEC);  // what a mount does to it
  ASSERT_GE(holder, 0) << ErrnoMessage("open O_EXCL " + loop.path().string(), errno);
  const auto r = Target(loop.path()).Write(kT);
  ::close(holder);
  EXPECT_EQ(r.error, WriteError::kOther);
  EXPECT_EQ(r.detail, "open " + loop.path().string() +
                          ": Device or resource busy (mounted, or opened exclusively by another program)");
  EXPECT_EQ(ReadBlockSector(loop.path(), 0).error(), loop.path().string() + " at offset 0: never written (all zeros)");
}

}  // namespace
}  // namespace hbfence
