// SPDX-License-Identifier: Apache-2.0

#include "src/control_socket.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cerrno>
#include <cstring>
#include <vector>

#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>

#include "src/sys/fs_util.h"

namespace hbfence {
namespace {

// More waiting clients than this are answered "error busy" at once: a flood of
// idle connections must not keep root's own requests out.
constexpr size_t kMaxConnections = 16;

Result<sockaddr_un> SocketAddress(const std::filesystem::path& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string& s = path.native();
  if (s.empty() || s.size() >= sizeof addr.sun_path) {
    return Err{"control socket path " + s + " must be 1 to " + std::to_string(sizeof addr.sun_path - 1) + " bytes"};
  }
  std::memcpy(addr.sun_path, s.c_str(), s.size() + 1);
  return addr;
}

int Connect(const sockaddr_un& addr) {
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  if (connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    const int err = errno;
    close(fd);
    return -err;
  }
  return fd;
}

// A best-effort single send: replies are one short line and the peer is local.
void Reply(int fd, std::string line) {
  line += '\n';
  (void)send(fd, line.data(), line.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
}

bool PrintableText(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  }
  return true;
}

// Anyone who can create an entry in the socket's directory can bind the path
// before hbfence does, and then answer in its place or keep it from starting;
// anyone who can rename a directory above can swap in one of their own. So the
// directory must be root's and writable by root only, and so must every one above
// it, except that one above may be sticky instead (like /tmp: only an entry's
// owner may rename it). Judged on the resolved path, so a symlink counts for where
// it leads; returns the socket's path in it, which the server then uses, so that
// nobody can point a symlink elsewhere between the check and the bind.
Result<std::filesystem::path> TrustedSocketPath(const std::filesystem::path& socket) {
  const auto dir = socket.parent_path();
  char resolved[PATH_MAX];
  if (realpath(dir.c_str(), resolved) == nullptr) return Err{ErrnoMessage("realpath " + dir.string(), errno)};
  const std::filesystem::path real(resolved);
  const std::string advice =
      ": a process that can create or rename entries there could serve the control socket in hbfence's place; "
      "use a directory owned by root and writable only by root, such as /run/hbfence";
  for (std::filesystem::path p = real;; p = p.parent_path()) {
    struct stat st{};
    if (lstat(p.c_str(), &st) != 0) return Err{ErrnoMessage("stat " + p.string(), errno)};
    const bool own = p == real;
    const std::string what = p.string() + (own ? ", the directory of " : ", above ") + socket.string();
    if (st.st_uid != 0) return Err{what + ", is owned by uid " + std::to_string(st.st_uid) + ", not root" + advice};
    const bool others_write = (st.st_mode & (S_IWGRP | S_IWOTH)) != 0;
    if (others_write && (own || (st.st_mode & S_ISVTX) == 0)) {
      return Err{fmt::format("{}, is writable by others (mode {:04o}){}", what, st.st_mode & 07777, advice)};
    }
    if (p == p.root_path()) break;
  }
  return real / socket.filename();
}

}  // namespace

Result<ControlRequest> ParseControlRequest(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (!PrintableText(line)) return Err{std::string("error unknown request")};
  const auto space = line.find(' ');
  const std::string_view verb = line.substr(0, space);
  const std::string_view argument = space == std::string_view::npos ? std::string_view() : line.substr(space + 1);
  if (verb == "status" && !argument.empty()) return ControlRequest{ControlVerb::kStatus, std::string(argument)};
  if (verb == "fence" && argument.find_first_not_of(' ') != std::string_view::npos) {
    return ControlRequest{ControlVerb::kFence, std::string(argument)};
  }
  return Err{std::string("error unknown request")};
}

ControlServer::ControlServer(std::filesystem::path path, int listen_fd, int wake_fd)
    : path_(std::move(path)), listen_fd_(listen_fd), wake_fd_(wake_fd) {}

Result<std::unique_ptr<ControlServer>> ControlServer::Listen(const std::filesystem::path& configured) {
  if (auto valid = SocketAddress(configured); !valid) return Err{valid.error()};
  const auto dir = configured.parent_path();
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return Err{ErrnoMessage("mkdir " + dir.string(), errno)};
  auto trusted = TrustedSocketPath(configured);
  if (!trusted) return Err{trusted.error()};
  const std::filesystem::path& path = trusted.value();
  auto addr = SocketAddress(path);
  if (!addr) return Err{addr.error()};

  struct stat st{};
  if (lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) return Err{path.string() + " exists and is not a socket; not replacing it"};
    const int fd = Connect(addr.value());
    if (fd >= 0) {
      close(fd);
      return Err{"another process already serves the control socket " + path.string()};
    }
    if (unlink(path.c_str()) != 0) return Err{ErrnoMessage("unlink stale socket " + path.string(), errno)};
  }

  const int listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (listen_fd < 0) return Err{ErrnoMessage("socket", errno)};
  // Created 0600 from the start: a chmod after bind would leave a window.
  const mode_t old_umask = umask(0177);
  const int bound = bind(listen_fd, reinterpret_cast<const sockaddr*>(&addr.value()), sizeof addr.value());
  const int bind_errno = errno;
  umask(old_umask);
  if (bound != 0) {
    close(listen_fd);
    return Err{ErrnoMessage("bind " + path.string(), bind_errno)};
  }
  if (listen(listen_fd, 16) != 0) {
    const int err = errno;
    close(listen_fd);
    unlink(path.c_str());
    return Err{ErrnoMessage("listen " + path.string(), err)};
  }
  const int wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd < 0) {
    const int err = errno;
    close(listen_fd);
    unlink(path.c_str());
    return Err{ErrnoMessage("eventfd", err)};
  }
  return std::unique_ptr<ControlServer>(new ControlServer(path, listen_fd, wake_fd));
}

ControlServer::~ControlServer() { Stop(); }

void ControlServer::Serve(ControlHandlers handlers, Duration request_timeout) {
  handlers_ = std::move(handlers);
  request_timeout_ = request_timeout;
  thread_ = std::thread([this] { Loop(); });
}

void ControlServer::Stop() {
  if (listen_fd_ < 0) return;
  const uint64_t one = 1;
  if (write(wake_fd_, &one, sizeof one) < 0) spdlog::error("{}", ErrnoMessage("control socket: eventfd write", errno));
  if (thread_.joinable()) thread_.join();
  close(listen_fd_);
  close(wake_fd_);
  listen_fd_ = wake_fd_ = -1;
  unlink(path_.c_str());
}

std::string ControlServer::Answer(std::string_view line) {
  auto request = ParseControlRequest(line);
  if (!request) return request.error();
  const auto& r = request.value();
  if (r.verb == ControlVerb::kStatus) return handlers_.status(r.argument);
  spdlog::warn("control socket: fence requested: {}", r.argument);
  return handlers_.fence(r.argument);
}

void ControlServer::Loop() {
  pthread_setname_np(pthread_self(), "hbfence-control");
  struct Connection {
    int fd;
    MonoTime deadline;
    std::string buffer;
  };
  std::vector<Connection> connections;
  auto finish = [&](size_t i, const std::string& reply) {
    if (!reply.empty()) Reply(connections[i].fd, reply);
    close(connections[i].fd);
    connections.erase(connections.begin() + static_cast<std::ptrdiff_t>(i));
  };
  for (;;) {
    std::vector<pollfd> fds{{wake_fd_, POLLIN, 0}, {listen_fd_, POLLIN, 0}};
    for (const auto& c : connections) fds.push_back({c.fd, POLLIN, 0});
    int timeout_ms = -1;  // no connection waiting: sleep until a client or Stop()
    if (!connections.empty()) {
      MonoTime first = connections.front().deadline;
      for (const auto& c : connections) first = std::min(first, c.deadline);
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(first - std::chrono::steady_clock::now());
      timeout_ms = static_cast<int>(std::max<int64_t>(0, left.count()));
    }
    if (poll(fds.data(), fds.size(), timeout_ms) < 0 && errno != EINTR) {
      spdlog::error("{}", ErrnoMessage("control socket: poll", errno));
      return;
    }
    if (fds[0].revents) break;
    // Serve readable connections first (from the back, so erasing keeps indices valid).
    for (size_t i = connections.size(); i-- > 0;) {
      Connection& c = connections[i];
      if (fds[i + 2].revents) {
        char buf[kMaxControlRequest];
        const ssize_t n = recv(c.fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        if (n > 0) c.buffer.append(buf, static_cast<size_t>(n));
        const auto newline = c.buffer.find('\n');
        if (newline != std::string::npos && newline < kMaxControlRequest) {
          finish(i, Answer(std::string_view(c.buffer).substr(0, newline)));
        } else if (c.buffer.size() >= kMaxControlRequest) {
          finish(i, "error request longer than " + std::to_string(kMaxControlRequest - 1) + " bytes");
        } else if (n <= 0) {  // end of stream: the line needs no newline then
          finish(i, n == 0 && !c.buffer.empty() ? Answer(c.buffer) : "");
        }
      } else if (std::chrono::steady_clock::now() >= c.deadline) {
        finish(i, fmt::format("error no request within {:.1f} s", ToSeconds(request_timeout_)));
      }
    }
    if (fds[1].revents & POLLIN) {
      for (;;) {
        const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0) break;
        ucred peer{};
        socklen_t len = sizeof peer;
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &len) != 0 || peer.uid != 0) {
          spdlog::warn("control socket: refused a connection from uid {} (pid {}): root only", peer.uid, peer.pid);
          Reply(fd, "error permission denied: the control socket serves root only");
          close(fd);
        } else if (connections.size() >= kMaxConnections) {
          Reply(fd, "error busy: too many open control connections");
          close(fd);
        } else {
          connections.push_back({fd, std::chrono::steady_clock::now() + request_timeout_, {}});
        }
      }
    }
  }
  for (const auto& c : connections) close(c.fd);
}

Result<std::string> SendControlRequest(const std::filesystem::path& socket, std::string_view line, Duration timeout) {
  auto addr = SocketAddress(socket);
  if (!addr) return Err{addr.error()};
  const int fd = Connect(addr.value());
  if (fd < 0) return Err{ErrnoMessage("cannot connect to the hbfence control socket " + socket.string(), -fd)};
  // Whoever listens on the path answers: only root's answer is hbfence's. Anyone
  // who could bind the path first (a directory others can write) could otherwise
  // say "ok" for a dead pool, or learn the fence reason. SO_PEERCRED names the
  // process that called listen(), as it was then.
  ucred server{};
  socklen_t len = sizeof server;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &server, &len) != 0) {
    const int err = errno;
    close(fd);
    return Err{ErrnoMessage("control socket " + socket.string() + ": cannot tell who serves it (SO_PEERCRED)", err)};
  }
  if (server.uid != 0) {
    close(fd);
    return Err{fmt::format("the control socket {} is served by uid {} (pid {}), not by root; not trusting it "
                           "(another process took the path: is its directory writable by others?)",
                           socket.string(), server.uid, server.pid)};
  }
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(timeout).count();
  const timeval tv{static_cast<time_t>(micros / 1000000), static_cast<suseconds_t>(micros % 1000000)};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  const std::string request = std::string(line) + "\n";
  if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) {
    const int err = errno;
    close(fd);
    return Err{ErrnoMessage("control socket: send", err)};
  }
  std::string reply;
  char buf[1024];
  for (;;) {
    const ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      close(fd);
      return Err{err == EAGAIN ? std::string("control socket: no reply within the timeout")
                               : ErrnoMessage("control socket: recv", err)};
    }
    if (n == 0) break;
    reply.append(buf, static_cast<size_t>(n));
    if (reply.find('\n') != std::string::npos || reply.size() > 4096) break;
  }
  close(fd);
  if (const auto nl = reply.find('\n'); nl != std::string::npos) reply.resize(nl);
  if (reply.empty()) return Err{std::string("control socket: the daemon closed the connection without a reply")};
  return reply;
}

int ControlExitCode(std::string_view reply) {
  const std::string_view word = reply.substr(0, reply.find(' '));
  if (word == "ok" || word == "accepted") return 0;
  if (word == "failing" || word == "unknown" || word == "refused") return 1;
  return 2;
}

}  // namespace hbfence
