// SPDX-License-Identifier: Apache-2.0

// Proves each faultfs mode through real syscalls on a real mount.
#include "faultfs_mount.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <future>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

namespace {

namespace fs = std::filesystem;
using hbfence::testing::FaultFsMount;
using namespace std::chrono_literals;

// What a syscall returned, with errno captured on the calling thread.
struct SyscallResult {
  long value;
  int error;
};

template <typename Call>
SyscallResult Syscall(Call call) {
  errno = 0;
  const long value = call();
  return {value, value < 0 ? errno : 0};
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { if (fd_ >= 0) close(fd_); }
  int get() const { return fd_; }

 private:
  int fd_;
};

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

bool AnyMountUnder(const fs::path& dir) {
  std::ifstream mountinfo("/proc/self/mountinfo");
  for (std::string line; std::getline(mountinfo, line);) {
    std::istringstream fields(line);
    std::string skip, mount_point;
    fields >> skip >> skip >> skip >> skip >> mount_point;
    if (mount_point.starts_with(dir.string())) return true;
  }
  return false;
}

constexpr std::string_view kPayload = "heartbeat 42\n";

class FaultFsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    if (!FaultFsMount::Available(&why)) {
      GTEST_SKIP() << why;
    }
    std::string tmpl = ::testing::TempDir() + "faultfs_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr) << std::strerror(errno);
    scratch_ = tmpl;
    fs_ = FaultFsMount::Start(scratch_, &why);
    ASSERT_TRUE(fs_) << why;
    faultfs_pid_ = fs_->pid();
  }

  // Teardown order matters: the fixture must free hung requests before the
  // threads stuck in them can be joined.
  void TearDown() override {
    fs_.reset();
    for (auto& thread : background_) thread.join();
    if (scratch_.empty()) return;
    EXPECT_FALSE(AnyMountUnder(scratch_)) << "stale mount left under " << scratch_;
    if (faultfs_pid_ > 0) {
      EXPECT_NE(kill(faultfs_pid_, 0), 0) << "faultfs still running";
    }
    // Never remove_all through a live mount: it would empty the backing dir.
    if (!AnyMountUnder(scratch_)) fs::remove_all(scratch_);
  }

  void SetMode(std::string_view mode) {
    std::string why;
    ASSERT_TRUE(fs_->SetMode(mode, &why)) << why;
  }

  fs::path OnMount(std::string_view name) const { return fs_->mount_point() / name; }

  int Open(std::string_view name, int flags = O_RDWR | O_CREAT) const {
    return open(OnMount(name).c_str(), flags | O_CLOEXEC, 0644);
  }

  // Runs `call` on its own thread, joined in TearDown after the mount is
  // gone, so a test failing while the call hangs still finishes.
  std::future<SyscallResult> InBackground(std::function<long()> call) {
    std::packaged_task<SyscallResult()> task([call] { return Syscall(call); });
    auto result = task.get_future();
    background_.emplace_back(std::move(task));
    return result;
  }

  // The hang tests' premise: the call must still be blocked a while later.
  static void ExpectBlocked(std::future<SyscallResult>& call) {
    EXPECT_EQ(call.wait_for(300ms), std::future_status::timeout) << "call was not held by faultfs";
  }

  static SyscallResult Finished(std::future<SyscallResult>& call) {
    if (call.wait_for(5s) != std::future_status::ready) {
      ADD_FAILURE() << "blocked call was not released";
      return {-1, ETIMEDOUT};
    }
    return call.get();
  }

  fs::path scratch_;
  std::unique_ptr<FaultFsMount> fs_;
  pid_t faultfs_pid_ = -1;
  std::vector<std::thread> background_;
};

TEST_F(FaultFsTest, OkModePassesEverythingThrough) {
  fs::create_directories(OnMount("state/node-1"));  // mkdir -p
  {
    Fd tmp(Open("state/node-1/hb.tmp", O_WRONLY | O_CREAT | O_TRUNC));
    ASSERT_GE(tmp.get(), 0) << std::strerror(errno);
    ASSERT_EQ(pwrite(tmp.get(), kPayload.data(), kPayload.size(), 0), ssize_t(kPayload.size()));
    ASSERT_EQ(fdatasync(tmp.get()), 0) << std::strerror(errno);
  }
  {
    Fd old(Open("state/node-1/hb", O_WRONLY | O_CREAT));
    ASSERT_EQ(ftruncate(old.get(), 4096), 0) << std::strerror(errno);
  }
  // Durable replace: rename over an existing file, then fsync the directory.
  ASSERT_EQ(rename(OnMount("state/node-1/hb.tmp").c_str(), OnMount("state/node-1/hb").c_str()), 0);
  Fd dir(open(OnMount("state/node-1").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  ASSERT_EQ(fsync(dir.get()), 0) << std::strerror(errno);

  struct stat st{};
  ASSERT_EQ(stat(OnMount("state/node-1/hb").c_str(), &st), 0);
  EXPECT_EQ(st.st_size, off_t(kPayload.size()));
  EXPECT_EQ(ReadFile(fs_->backing_dir() / "state/node-1/hb"), kPayload);
  EXPECT_EQ(ReadFile(OnMount("state/node-1/hb")), kPayload);
  EXPECT_FALSE(fs::exists(fs_->backing_dir() / "state/node-1/hb.tmp"));
}

TEST_F(FaultFsTest, DelayModeSlowsWrites) {
  Fd fd(Open("hb"));
  SetMode("delay:200");
  const auto start = std::chrono::steady_clock::now();
  ASSERT_EQ(pwrite(fd.get(), kPayload.data(), kPayload.size(), 0), ssize_t(kPayload.size()));
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, 200ms);
  EXPECT_LT(took, 3s);
}

TEST_F(FaultFsTest, DelayJitterStaysWithinBounds) {
  Fd fd(Open("hb"));
  SetMode("delay:100:50@write");
  for (int i = 0; i < 4; ++i) {
    const auto start = std::chrono::steady_clock::now();
    ASSERT_EQ(pwrite(fd.get(), kPayload.data(), kPayload.size(), 0), ssize_t(kPayload.size()));
    const auto took = std::chrono::steady_clock::now() - start;
    EXPECT_GE(took, 50ms);
    EXPECT_LT(took, 3s);
  }
}

// Each errno mode, scoped to one op, fails exactly that op.
struct ErrnoMode {
  const char* name;
  int error;
};
void PrintTo(const ErrnoMode& mode, std::ostream* out) { *out << mode.name; }
class FaultFsErrnoTest : public FaultFsTest,
                         public ::testing::WithParamInterface<std::tuple<ErrnoMode, const char*>> {};

TEST_P(FaultFsErrnoTest, ScopedOpFailsWithThatErrno) {
  const auto& [mode, op] = GetParam();
  Fd fd(Open("hb"));
  ASSERT_GE(fd.get(), 0);
  SetMode(std::string(mode.name) + "@" + op);
  const SyscallResult write_result =
      Syscall([&] { return pwrite(fd.get(), kPayload.data(), kPayload.size(), 0); });
  const SyscallResult sync_result = Syscall([&] { return fdatasync(fd.get()); });
  if (std::string_view(op) == "write") {
    EXPECT_EQ(write_result.error, mode.error) << std::strerror(write_result.error);
    EXPECT_EQ(sync_result.value, 0) << std::strerror(sync_result.error);
  } else {
    EXPECT_EQ(write_result.value, long(kPayload.size())) << std::strerror(write_result.error);
    EXPECT_EQ(sync_result.error, mode.error) << std::strerror(sync_result.error);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Modes, FaultFsErrnoTest,
    ::testing::Combine(::testing::Values(ErrnoMode{"eio", EIO}, ErrnoMode{"enospc", ENOSPC},
                                         ErrnoMode{"erofs", EROFS}, ErrnoMode{"estale", ESTALE}),
                       ::testing::Values("write", "fsync")),
    [](const auto& info) {
      return std::string(std::get<0>(info.param).name) + "_at_" + std::get<1>(info.param);
    });

TEST_F(FaultFsTest, UnscopedFaultHitsOnlyTheDataPath) {
  {
    Fd setup(Open("hb"));
    ASSERT_EQ(pwrite(setup.get(), kPayload.data(), kPayload.size(), 0), ssize_t(kPayload.size()));
  }
  Fd reader(Open("hb", O_RDONLY));
  SetMode("eio");

  // Metadata reads keep working...
  struct stat st{};
  EXPECT_EQ(stat(OnMount("hb").c_str(), &st), 0) << std::strerror(errno);
  struct statvfs vfs{};
  EXPECT_EQ(statvfs(fs_->mount_point().c_str(), &vfs), 0) << std::strerror(errno);
  EXPECT_EQ(std::distance(fs::directory_iterator(fs_->mount_point()), fs::directory_iterator{}), 1);
  char buf[64];
  EXPECT_EQ(pread(reader.get(), buf, sizeof buf, 0), ssize_t(kPayload.size()));

  // ...while every data-path op fails.
  EXPECT_EQ(Syscall([&] { return Open("hb", O_WRONLY); }).error, EIO);
  EXPECT_EQ(Syscall([&] { return Open("new", O_WRONLY | O_CREAT); }).error, EIO);
  EXPECT_EQ(Syscall([&] { return mkdir(OnMount("dir").c_str(), 0755); }).error, EIO);
  EXPECT_EQ(Syscall([&] { return truncate(OnMount("hb").c_str(), 0); }).error, EIO);
  EXPECT_EQ(Syscall([&] { return rename(OnMount("hb").c_str(), OnMount("hb2").c_str()); }).error, EIO);
}

TEST_F(FaultFsTest, GetattrScopeFailsStat) {
  { Fd setup(Open("hb")); }
  SetMode("estale@getattr");
  struct stat st{};
  EXPECT_EQ(Syscall([&] { return stat(OnMount("hb").c_str(), &st); }).error, ESTALE);
  SetMode("ok");
  EXPECT_EQ(stat(OnMount("hb").c_str(), &st), 0) << std::strerror(errno);
}

TEST_F(FaultFsTest, InvalidModeIsRejectedAndPreviousModeKept) {
  Fd fd(Open("hb"));
  SetMode("eio@write");
  for (std::string_view bad : {"bogus", "delay:", "delay:abc", "delay:5:x", "eio@nosuchop", "eio@"}) {
    std::string why;
    EXPECT_FALSE(fs_->SetMode(bad, &why)) << bad;
    EXPECT_NE(why.find("rejected"), std::string::npos) << why;
  }
  EXPECT_EQ(Syscall([&] { return pwrite(fd.get(), "x", 1, 0); }).error, EIO);
}

TEST_F(FaultFsTest, HangBlocksWritesUntilModeChanges) {
  Fd fd(Open("hb"));
  SetMode("hang");
  auto writer = InBackground([&] { return pwrite(fd.get(), kPayload.data(), kPayload.size(), 0); });
  ExpectBlocked(writer);

  // An unscoped hang leaves metadata alone, so a daemon can still stat.
  struct stat st{};
  EXPECT_EQ(stat(OnMount("hb").c_str(), &st), 0) << std::strerror(errno);

  SetMode("ok");
  const SyscallResult result = Finished(writer);
  EXPECT_EQ(result.value, long(kPayload.size())) << std::strerror(result.error);
  EXPECT_EQ(ReadFile(fs_->backing_dir() / "hb"), kPayload);
}

TEST_F(FaultFsTest, HungOpFollowsTheNextMode) {
  Fd fd(Open("hb"));
  SetMode("hang@fsync");
  ASSERT_EQ(pwrite(fd.get(), kPayload.data(), kPayload.size(), 0), ssize_t(kPayload.size()));
  auto syncer = InBackground([&] { return fdatasync(fd.get()); });
  ExpectBlocked(syncer);
  SetMode("eio@fsync");
  EXPECT_EQ(Finished(syncer).error, EIO);
}

TEST_F(FaultFsTest, FixtureTeardownReleasesHungWriter) {
  Fd fd(Open("hb"));
  SetMode("hang@write");
  auto writer = InBackground([&] { return pwrite(fd.get(), kPayload.data(), kPayload.size(), 0); });
  ExpectBlocked(writer);

  fs_.reset();  // nothing but the fixture's own cleanup frees the writer
  ASSERT_EQ(writer.wait_for(1s), std::future_status::ready);
  writer.get();  // success or ENOTCONN: either way the thread is out of the kernel
  EXPECT_FALSE(AnyMountUnder(scratch_));
}

TEST_F(FaultFsTest, AbortConnectionFailsPendingAndLaterRequests) {
  Fd fd(Open("hb"));
  SetMode("hang@write");
  auto writer = InBackground([&] { return pwrite(fd.get(), kPayload.data(), kPayload.size(), 0); });
  ExpectBlocked(writer);

  std::string why;
  ASSERT_TRUE(fs_->AbortConnection(&why)) << why;
  const int pending_error = Finished(writer).error;
  EXPECT_TRUE(pending_error == ECONNABORTED || pending_error == ENOTCONN) << std::strerror(pending_error);
  struct stat st{};
  EXPECT_EQ(Syscall([&] { return stat(OnMount("hb").c_str(), &st); }).error, ENOTCONN);
}

TEST_F(FaultFsTest, TeardownAfterServerCrashLeavesNoStaleMount) {
  Fd fd(Open("hb"));
  ASSERT_EQ(kill(fs_->pid(), SIGKILL), 0);
  // The kernel aborts the connection once faultfs's /dev/fuse fd is gone.
  SyscallResult result{};
  for (int i = 0; i < 500 && result.error != ENOTCONN; ++i) {
    result = Syscall([&] { return pwrite(fd.get(), "x", 1, 0); });
    std::this_thread::sleep_for(2ms);
  }
  EXPECT_EQ(result.error, ENOTCONN);
  EXPECT_TRUE(AnyMountUnder(fs_->mount_point()));  // stale until TearDown checks it is gone
}

TEST_F(FaultFsTest, UnmountLazyHidesMountButKeepsBackingAndOpenFiles) {
  Fd fd(Open("hb"));
  std::string why;
  ASSERT_TRUE(fs_->UnmountLazy(&why)) << why;

  EXPECT_FALSE(AnyMountUnder(fs_->mount_point()));
  EXPECT_TRUE(fs::is_empty(fs_->mount_point()));  // the plain directory underneath
  EXPECT_TRUE(fs::exists(fs_->backing_dir() / "hb"));
  // Like a real detached mount, already-open files still reach the server.
  EXPECT_EQ(pwrite(fd.get(), kPayload.data(), kPayload.size(), 0), ssize_t(kPayload.size()));
  EXPECT_EQ(ReadFile(fs_->backing_dir() / "hb"), kPayload);
}

}  // namespace
