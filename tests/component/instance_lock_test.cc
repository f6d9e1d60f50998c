// SPDX-License-Identifier: Apache-2.0

// InstanceLock: one holder per directory, the second told who holds it; the lock
// dies with its holder's file description.
#include "src/sys/instance_lock.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "tests/support/temp_dir.h"

namespace hbfence {
namespace {

using testing::TempDir;

TEST(InstanceLockTest, TheSecondAcquireIsRefusedAndNamesTheHolder) {
  TempDir dir;
  auto first = InstanceLock::Acquire(dir / "state");
  ASSERT_TRUE(first) << first.error();
  ASSERT_TRUE(first.value());
  // flock conflicts between open file descriptions, even in one process.
  auto second = InstanceLock::Acquire(dir / "state");
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error(), "another hbfence (pid " + std::to_string(::getpid()) + ") holds the lock on " +
                                (dir / "state").string() + ": only one may run on this state");
  first.value().reset();
  auto third = InstanceLock::Acquire(dir / "state");
  EXPECT_TRUE(third) << "released with its holder";
}

TEST(InstanceLockTest, CreatesTheDirectoryPrivate) {
  TempDir dir;
  auto lock = InstanceLock::Acquire(dir / "a" / "b");
  ASSERT_TRUE(lock) << lock.error();
  struct stat st {};
  ASSERT_EQ(::stat((dir / "a" / "b").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
}

TEST(InstanceLockTest, AFileWhereTheDirectoryShouldBeIsAnError) {
  TempDir dir;
  testing::WriteFile(dir / "state", "x");
  auto lock = InstanceLock::Acquire(dir / "state");
  ASSERT_FALSE(lock);
  EXPECT_NE(lock.error().find("Not a directory"), std::string::npos) << lock.error();
}

TEST(FlockHolderTest, FindsTheFlockOnTheInode) {
  const std::string locks =
      "1: POSIX  ADVISORY  WRITE 111 fd:01:42 0 EOF\n"
      "2: FLOCK  ADVISORY  WRITE 222 fd:01:43 0 EOF\n"
      "3: FLOCK  ADVISORY  WRITE 333 fd:01:42 0 EOF\n";
  EXPECT_EQ(FlockHolder(locks, 0xfd, 1, 42), 333);
  EXPECT_EQ(FlockHolder(locks, 0xfd, 1, 44), 0);
  EXPECT_EQ(FlockHolder("garbage\n", 0xfd, 1, 42), 0);
}

}  // namespace
}  // namespace hbfence
