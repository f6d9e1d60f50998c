// SPDX-License-Identifier: Apache-2.0

// The local control socket: a root-only Unix stream socket through which the
// CloudStack drop-in scripts ask the daemon how a pool's heartbeat is doing and ask
// it to fence. One request line in, one reply line out, then the connection closes.
//
// Threads: the server runs one thread ("hbfence-control") that accepts and serves
// every connection; the handlers are called on it and must not touch storage.
// Listen() must be called before other threads start (it sets the umask briefly).
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "src/sys/result.h"
#include "src/sys/time.h"

namespace hbfence {

inline constexpr size_t kMaxControlRequest = 512;  // bytes, newline included
inline constexpr std::string_view kDefaultControlSocket = "/run/hbfence/control.sock";

enum class ControlVerb { kStatus, kFence };

struct ControlRequest {
  ControlVerb verb;
  std::string argument;  // the target for status, the free-text reason for fence
};

// One request line without its newline: "status TARGET" or "fence REASON". The
// error is the reply to send, e.g. "error unknown request".
Result<ControlRequest> ParseControlRequest(std::string_view line);

struct ControlHandlers {
  std::function<std::string(std::string_view target)> status;  // "ok …", "failing …" or "unknown …"
  std::function<std::string(std::string_view reason)> fence;   // "accepted …" or "refused …"
};

class ControlServer {
 public:
  // Creates the parent directory (0700) if missing, and refuses it unless it and
  // every directory above it are root's and writable only by root (one above may
  // be sticky instead, like /tmp): anyone else able to create or rename entries
  // there could bind the path first. Symlinks are judged by where they lead, and
  // the socket is bound there. Replaces a stale socket (one nobody listens on;
  // anything else at the path is an error), binds it mode 0600.
  static Result<std::unique_ptr<ControlServer>> Listen(const std::filesystem::path& path);
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Starts the server thread. Every connection gets `request_timeout` to send its line.
  void Serve(ControlHandlers handlers, Duration request_timeout = std::chrono::seconds(2));
  // Stops the thread promptly (it never waits on storage) and removes the socket file.
  void Stop();

 private:
  ControlServer(std::filesystem::path path, int listen_fd, int wake_fd);
  void Loop();
  std::string Answer(std::string_view line);

  std::filesystem::path path_;
  int listen_fd_;
  int wake_fd_;  // eventfd: Stop() wakes the poll
  ControlHandlers handlers_;
  Duration request_timeout_{};
  std::thread thread_;
};

// The client side of `hbfence control`: sends one line, returns the reply line.
// Only a server running as root is asked: one whose SO_PEERCRED uid is not 0 is
// sent nothing and is an error. The error says why no reply came (connect
// failure, a server that is not root, timeout).
Result<std::string> SendControlRequest(const std::filesystem::path& socket, std::string_view line,
                                       Duration timeout = std::chrono::seconds(10));

// Exit status for a reply: 0 for ok/accepted, 1 for failing/unknown/refused, 2 otherwise.
int ControlExitCode(std::string_view reply);

}  // namespace hbfence
