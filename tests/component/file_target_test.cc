// SPDX-License-Identifier: Apache-2.0

// FileTarget on real temp directories (and a real tmpfs mount for the mount
// checks): no mocked POSIX calls.
#include "storage/file_target.h"

#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "tests/support/temp_dir.h"

namespace hbfence {
namespace {

using testing::ReadAll;
using testing::TempDir;
using testing::WriteFile;

const WallTime kT = WallTime(std::chrono::seconds(1795000000));

FileTarget Target(const std::filesystem::path& path, std::optional<std::filesystem::path> mount = std::nullopt) {
  TargetConfig cfg{.name = "t", .kind = "file", .path = path, .mount = std::move(mount)};
  return FileTarget(cfg);
}

TEST(FileTargetTest, WritesUnixSecondsAndNewlineCreatingParents) {
  TempDir dir;
  const auto path = dir / "pool/KVMHA/hb-10.1.34.125";
  const auto r = Target(path).Write(kT);
  ASSERT_TRUE(r.ok()) << r.detail;
  EXPECT_EQ(ReadAll(path), "1795000000\n");
  EXPECT_EQ(ReadAll(path).size(), 11u);
  EXPECT_FALSE(std::filesystem::exists(path.parent_path() / ".hb-10.1.34.125.hbfence-tmp"));
}

TEST(FileTargetTest, OverwritesInPlaceAndRepairsOddSizes) {
  TempDir dir;
  const auto path = dir / "hb";
  auto target = Target(path);
  ASSERT_TRUE(target.Write(kT).ok());
  struct stat before{};
  ::stat(path.c_str(), &before);
  ASSERT_TRUE(target.Write(kT + std::chrono::seconds(5)).ok());
  struct stat after{};
  ::stat(path.c_str(), &after);
  EXPECT_EQ(before.st_ino, after.st_ino) << "steady state rewrites the same inode";
  EXPECT_EQ(ReadAll(path), "1795000005\n");

  WriteFile(path, "1795000005\ntrailing garbage\n");
  ASSERT_TRUE(target.Write(kT).ok());
  EXPECT_EQ(ReadAll(path), "1795000000\n");
  WriteFile(path, "");  // what `echo > file` leaves behind when storage dies mid-way
  ASSERT_TRUE(target.Write(kT).ok());
  EXPECT_EQ(ReadAll(path), "1795000000\n");
}

TEST(FileTargetTest, AConcurrentReaderNeverSeesAnEmptyOrPartialFile) {
  TempDir dir;
  const auto path = dir / "hb";
  auto target = Target(path);
  ASSERT_TRUE(target.Write(kT).ok());  // from here on the file always exists
  std::atomic<bool> done{false};
  std::atomic<int> bad{0}, reads{0};
  std::thread reader([&] {
    while (!done) {
      const std::string s = ReadAll(path);
      if (s.size() != 11 || s.back() != '\n' || s.find_first_not_of("0123456789") != 10) ++bad;
      ++reads;
    }
  });
  for (int i = 0; i < 2000; ++i) ASSERT_TRUE(target.Write(kT + std::chrono::seconds(i)).ok());
  done = true;
  reader.join();
  EXPECT_EQ(bad.load(), 0) << "of " << reads.load() << " reads";
}

TEST(FileTargetTest, ErrorsCarryAReasonAndTheFailingCall) {
  TempDir dir;
  WriteFile(dir / "file", "x");
  const auto r = Target(dir / "file" / "hb").Write(kT);  // parent is a regular file
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.error, WriteError::kOther);
  EXPECT_NE(r.detail.find("Not a directory"), std::string::npos) << r.detail;
}

TEST(FileTargetTest, ReadOnlyFileSystemIsReadOnly) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to mount";
  TempDir dir;
  const auto mnt = dir / "ro";
  std::filesystem::create_directory(mnt);
  ASSERT_EQ(::mount("tmpfs", mnt.c_str(), "tmpfs", MS_RDONLY, "size=1m"), 0);
  const auto r = Target(mnt / "hb", mnt).Write(kT);
  ::umount2(mnt.c_str(), MNT_DETACH);
  EXPECT_EQ(r.error, WriteError::kReadOnly) << r.detail;
}

TEST(FileTargetTest, WritesOnlyWhileTheMountIsThere) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to mount";
  TempDir dir;
  const auto mnt = dir / "POOL";
  std::filesystem::create_directory(mnt);
  ASSERT_EQ(::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=1m"), 0);
  auto target = Target(mnt / "KVMHA" / "hb-h1", mnt);
  const auto mounted = target.Write(kT);
  EXPECT_TRUE(mounted.ok()) << mounted.detail;

  // The mount vanishes: the same path is now a plain local directory.
  ASSERT_EQ(::umount2(mnt.c_str(), MNT_DETACH), 0);
  const auto gone = target.Write(kT);
  EXPECT_EQ(gone.error, WriteError::kNotMounted) << gone.detail;
  EXPECT_TRUE(std::filesystem::is_empty(mnt)) << "nothing may be written to the local directory";

  std::filesystem::remove(mnt);
  EXPECT_EQ(target.Write(kT).error, WriteError::kNotMounted) << "mount point removed entirely";
}

TEST(FileTargetTest, SharedStorageTargetsRefuseALocalFilesystem) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to mount";
  TempDir dir;
  const auto mnt = dir / "POOL";
  std::filesystem::create_directory(mnt);
  ASSERT_EQ(::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=1m"), 0);
  TargetConfig cfg{.name = "t", .path = mnt / "KVMHA" / "hb-h1", .mount = mnt, .allow_local_filesystem = false};
  FileTarget shared_only(cfg);
  const auto creating = shared_only.Write(kT);
  EXPECT_EQ(creating.error, WriteError::kNotMounted) << creating.detail;
  EXPECT_NE(creating.detail.find("local tmpfs filesystem"), std::string::npos) << creating.detail;
  EXPECT_FALSE(std::filesystem::exists(cfg.path)) << "nothing may be written to local storage";

  cfg.allow_local_filesystem = true;
  FileTarget permitted(cfg);
  ASSERT_TRUE(permitted.Write(kT).ok());
  // The file exists now (say it was written before the operator changed the
  // setting): overwriting it is refused the same way.
  const auto overwriting = shared_only.Write(kT + std::chrono::seconds(1));
  EXPECT_EQ(overwriting.error, WriteError::kNotMounted) << overwriting.detail;
  EXPECT_EQ(ReadAll(cfg.path), "1795000000\n");
  ASSERT_EQ(::umount2(mnt.c_str(), MNT_DETACH), 0);
}

TEST(FileTargetTest, PathThatLeavesTheMountThroughASymlinkIsNotMounted) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to mount";
  TempDir dir;
  const auto mnt = dir / "POOL";
  std::filesystem::create_directory(mnt);
  std::filesystem::create_directory(dir / "local");
  ASSERT_EQ(::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=1m"), 0);
  std::filesystem::create_directory_symlink(dir / "local", mnt / "KVMHA");
  WriteFile(dir / "local" / "hb", "1795000000\n");
  const auto r = Target(mnt / "KVMHA" / "hb", mnt).Write(kT + std::chrono::seconds(9));
  ::umount2(mnt.c_str(), MNT_DETACH);
  EXPECT_EQ(r.error, WriteError::kNotMounted) << r.detail;
  EXPECT_EQ(ReadAll(dir / "local" / "hb"), "1795000000\n");
}

TEST(ClassifyErrnoTest, MapsStorageErrnosToBoundedReasons) {
  EXPECT_EQ(ReasonName(ClassifyErrno(EIO)), "io_error");
  EXPECT_EQ(ReasonName(ClassifyErrno(ENOSPC)), "no_space");
  EXPECT_EQ(ReasonName(ClassifyErrno(EDQUOT)), "no_space");
  EXPECT_EQ(ReasonName(ClassifyErrno(EROFS)), "read_only");
  EXPECT_EQ(ReasonName(ClassifyErrno(ESTALE)), "stale_handle");
  EXPECT_EQ(ReasonName(ClassifyErrno(EACCES)), "other");
}

}  // namespace
}  // namespace hbfence
