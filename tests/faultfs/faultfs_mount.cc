// SPDX-License-Identifier: Apache-2.0

#include "faultfs_mount.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#ifndef HBFENCE_FAULTFS_BIN
#error "HBFENCE_FAULTFS_BIN must name the faultfs executable (set by tests/faultfs/CMakeLists.txt)"
#endif

extern char** environ;

namespace hbfence::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr auto kMountTimeout = 10s;
constexpr auto kAckTimeout = 5s;
constexpr auto kDrainTimeout = 2s;  // for requests freed by mode "ok" to finish
constexpr char kFuseCtlDir[] = "/sys/fs/fuse/connections";
constexpr long kFuseCtlMagic = 0x65735543;  // FUSECTL_SUPER_MAGIC

bool Fail(std::string* error, std::string message) {
  if (error) *error = std::move(message);
  return false;
}

std::string ErrnoText(std::string_view what, int err = errno) {
  return std::string(what) + ": " + std::strerror(err);
}

// Polls instead of sleeping blindly: returns as soon as `done` holds.
template <typename Predicate>
bool PollUntil(Predicate done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string Trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  return std::string(text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1));
}

// temp + rename: faultfs polls the file and must never see half a line.
bool WriteFileAtomically(const fs::path& path, std::string_view content, std::string* error) {
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << content;
    if (!out.flush()) return Fail(error, "cannot write " + tmp.string());
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) return Fail(error, ErrnoText("rename " + tmp.string()));
  return true;
}

// mountinfo escapes blanks and backslashes in paths as \ooo.
std::string UnescapeMountPath(std::string_view raw) {
  std::string out;
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '\\' && i + 3 < raw.size()) {
      out += static_cast<char>(std::stoi(std::string(raw.substr(i + 1, 3)), nullptr, 8));
      i += 3;
    } else {
      out += raw[i];
    }
  }
  return out;
}

// fusectl is not always mounted (e.g. in containers); we need its files.
bool EnsureFuseCtl(std::string* error) {
  struct statfs ctl{};
  if (statfs(kFuseCtlDir, &ctl) == 0 && ctl.f_type == kFuseCtlMagic) return true;
  if (mount("none", kFuseCtlDir, "fusectl", 0, nullptr) == 0 || errno == EBUSY) return true;
  return Fail(error, ErrnoText(std::string("mount fusectl on ") + kFuseCtlDir));
}

std::string DescribeExit(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("killed by signal ") + strsignal(WTERMSIG(status));
  return "stopped";
}

}  // namespace

bool FaultFsMount::Available(std::string* reason) {
  if (access("/dev/fuse", R_OK | W_OK) != 0) return Fail(reason, ErrnoText("faultfs needs /dev/fuse"));
  if (geteuid() != 0) return Fail(reason, "faultfs needs root to mount FUSE filesystems");
  return true;
}

std::unique_ptr<FaultFsMount> FaultFsMount::Start(const fs::path& scratch_dir, std::string* error) {
  auto failed = [error](std::string message) {
    Fail(error, std::move(message));
    return std::unique_ptr<FaultFsMount>();
  };
  std::unique_ptr<FaultFsMount> mount(new FaultFsMount());
  std::error_code ec;
  fs::create_directories(scratch_dir / "backing", ec);
  if (!ec) fs::create_directories(scratch_dir / "mnt", ec);
  // Canonical, because that is how the kernel spells the mount point in mountinfo.
  if (!ec) mount->scratch_dir_ = fs::canonical(scratch_dir, ec);
  if (ec) return failed("cannot prepare " + scratch_dir.string() + ": " + ec.message());
  mount->backing_dir_ = mount->scratch_dir_ / "backing";
  mount->mount_point_ = mount->scratch_dir_ / "mnt";
  mount->control_file_ = mount->scratch_dir_ / "faultfs.control";
  mount->log_file_ = mount->scratch_dir_ / "faultfs.log";
  fs::remove(mount->control_file_.string() + ".ack", ec);
  if (!WriteFileAtomically(mount->control_file_, "ok\n", error)) return nullptr;

  // faultfs's own diagnostics go to a log that failures below quote.
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, mount->log_file_.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  std::vector<std::string> args = {HBFENCE_FAULTFS_BIN, "--control", mount->control_file_.string(),
                                   "--exit-with-parent", mount->backing_dir_.string(),
                                   mount->mount_point_.string()};
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  const int spawn_err = posix_spawn(&mount->pid_, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawn_err != 0) {
    mount->pid_ = -1;
    return failed(ErrnoText("cannot start " + args[0], spawn_err));
  }

  const bool live = PollUntil([&] { return mount->MountedConnection() != 0 || !mount->ProcessAlive(); },
                              kMountTimeout);
  mount->connection_id_ = mount->MountedConnection();
  if (mount->connection_id_ == 0) {
    const std::string why = live ? DescribeExit(mount->exit_status_) : "did not mount within 10 s";
    const std::string log = mount->log_file_;
    mount.reset();  // stops faultfs if it is still around
    return failed("faultfs " + why + " instead of mounting " + scratch_dir.string() +
                  "/mnt; its log:\n" + ReadFile(log));
  }
  // The first ack proves the control channel works, not just the mount.
  std::string why;
  if (!mount->SetMode("ok", &why)) return failed(why);
  return mount;
}

FaultFsMount::~FaultFsMount() {
  std::string why;
  if (!Unmount(&why)) std::fprintf(stderr, "FaultFsMount teardown: %s\n", why.c_str());
}

bool FaultFsMount::SetMode(std::string_view mode, std::string* error) {
  std::lock_guard lock(set_mode_mutex_);
  std::string wanted = Trim(mode);
  if (wanted.empty()) wanted = "ok";
  if (!ProcessAlive()) return Fail(error, "cannot set mode '" + wanted + "': faultfs is not running");
  if (!WriteFileAtomically(control_file_, wanted + "\n", error)) return false;

  const fs::path ack_file = control_file_.string() + ".ack";
  std::string ack;
  const bool acked = PollUntil([&] {
    ack = Trim(ReadFile(ack_file));
    return ack == wanted || ack == "invalid: " + wanted || !ProcessAlive();
  }, kAckTimeout);
  if (ack == wanted) return true;
  if (ack == "invalid: " + wanted) return Fail(error, "faultfs rejected mode '" + wanted + "'");
  return Fail(error, "faultfs did not apply mode '" + wanted + "' (" +
                         (acked ? "it exited" : "no ack within 5 s, last ack '" + ack + "'") + ")");
}

bool FaultFsMount::AbortConnection(std::string* error) {
  // Prefer the live mountinfo entry; after a lazy unmount only the number
  // remembered at Start is left, and it is ours only while faultfs runs.
  unsigned id = MountedConnection();
  if (id == 0 && ProcessAlive()) id = connection_id_;
  if (id == 0) return true;  // no connection left to abort

  if (!EnsureFuseCtl(error)) return false;
  const std::string abort_file = std::string(kFuseCtlDir) + "/" + std::to_string(id) + "/abort";
  const int fd = open(abort_file.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT ? true : Fail(error, ErrnoText("open " + abort_file));
  const bool written = write(fd, "1", 1) == 1;
  const int write_err = errno;
  close(fd);
  return written || Fail(error, ErrnoText("write " + abort_file, write_err));
}

bool FaultFsMount::UnmountLazy(std::string* error) {
  if (MountedConnection() == 0) return true;
  if (umount2(mount_point_.c_str(), MNT_DETACH) != 0) {
    return Fail(error, ErrnoText("umount2 " + mount_point_.string()));
  }
  return true;
}

bool FaultFsMount::Unmount(std::string* error) {
  std::vector<std::string> problems;
  std::string why;
  if (ProcessAlive()) {
    // Failing because faultfs just exited (e.g. after AbortConnection) is fine.
    if (!SetMode("ok", &why) && ProcessAlive()) problems.push_back(why);
    if (!WaitForNoStuckRequests(kDrainTimeout)) {
      problems.push_back("requests still stuck after mode 'ok'; aborted the FUSE connection");
      if (!AbortConnection(&why)) problems.push_back(why);
    }
  } else if (MountedConnection() != 0) {
    // A dead server leaves a mount whose requests can never complete.
    if (!AbortConnection(&why)) problems.push_back(why);
  }
  if (!UnmountLazy(&why)) problems.push_back(why);

  // Unmounting usually ends faultfs's session by itself, but files still
  // open on the detached mount keep it alive, so stop it either way;
  // libfuse's SIGTERM handler exits cleanly and hung requests notice. If
  // even that fails, SIGKILL: closing /dev/fuse aborts the connection, so
  // nothing stays stuck in the kernel.
  if (ProcessAlive()) {
    kill(pid_, SIGCONT);  // in case a test froze it with SIGSTOP
    kill(pid_, SIGTERM);
    if (!WaitForExit(3s)) {
      problems.push_back("faultfs ignored SIGTERM; killed it");
      kill(pid_, SIGKILL);
      waitpid(pid_, &exit_status_, 0);
      pid_ = -1;
    }
  }
  if (problems.empty()) return true;
  std::string all;
  for (const auto& problem : problems) all += (all.empty() ? "" : "; ") + problem;
  return Fail(error, all);
}

unsigned FaultFsMount::MountedConnection() const {
  std::ifstream mountinfo("/proc/self/mountinfo");
  for (std::string line; std::getline(mountinfo, line);) {
    // ID PARENT MAJOR:MINOR ROOT MOUNT_POINT OPTIONS [OPTIONAL...] - FSTYPE ...
    std::istringstream fields(line);
    std::string id, parent, dev, root, mount_point, field;
    fields >> id >> parent >> dev >> root >> mount_point;
    if (UnescapeMountPath(mount_point) != mount_point_.string()) continue;
    while (fields >> field && field != "-") {}
    if (fields >> field && field == "fuse.faultfs") {
      // FUSE mounts get anonymous devices (major 0), and fusectl names the
      // connection by that device number, i.e. the minor.
      return static_cast<unsigned>(std::stoul(dev.substr(dev.find(':') + 1)));
    }
  }
  return 0;
}

bool FaultFsMount::ProcessAlive() {
  if (pid_ <= 0) return false;
  if (waitpid(pid_, &exit_status_, WNOHANG) != pid_) return true;
  pid_ = -1;  // reaped
  return false;
}

bool FaultFsMount::WaitForExit(std::chrono::milliseconds timeout) {
  return PollUntil([&] { return !ProcessAlive(); }, timeout);
}

// fusectl's "waiting" counts requests the kernel sent and is still waiting
// on; zero means no caller is blocked in our filesystem.
bool FaultFsMount::WaitForNoStuckRequests(std::chrono::milliseconds timeout) const {
  const unsigned id = MountedConnection();
  if (id == 0 || !EnsureFuseCtl(nullptr)) return true;
  const std::string waiting_file = std::string(kFuseCtlDir) + "/" + std::to_string(id) + "/waiting";
  return PollUntil([&] {
    const std::string waiting = Trim(ReadFile(waiting_file));
    return waiting.empty() || waiting == "0";  // empty: the connection is gone
  }, timeout);
}

}  // namespace hbfence::testing
