// SPDX-License-Identifier: Apache-2.0

#include "tests/support/http_load.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>

#include "tests/support/daemon_process.h"

namespace hbfence::testing {
namespace {

int ConnectNonBlocking(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 && errno != EINPROGRESS) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

SlowClients::SlowClients(int port, int count, Duration dribble)
    : thread_([this, port, count, dribble] { Run(port, count, dribble); }) {}

SlowClients::~SlowClients() {
  stop_ = true;
  thread_.join();
}

void SlowClients::Run(int port, int count, Duration dribble) {
  // A connection is "fresh" until its request line went out; after that it only
  // ever gets one more header line per `dribble`.
  struct Conn {
    int fd = -1;
    bool started = false;
  };
  std::vector<Conn> conns(static_cast<size_t>(count));
  auto next_dribble = std::chrono::steady_clock::now() + dribble;
  static constexpr char kStart[] = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  static constexpr char kLine[] = "X-Slow: 1\r\n";
  while (!stop_) {
    std::vector<pollfd> fds;
    for (auto& c : conns) {
      if (c.fd < 0) c = {ConnectNonBlocking(port), false};
      fds.push_back({c.fd, static_cast<short>(c.started ? POLLIN : POLLOUT), 0});
    }
    ::poll(fds.data(), fds.size(), 20);
    const bool dribble_now = std::chrono::steady_clock::now() >= next_dribble;
    if (dribble_now) next_dribble += dribble;
    for (size_t i = 0; i < conns.size(); ++i) {
      Conn& c = conns[i];
      if (c.fd < 0) continue;
      bool dead = (fds[i].revents & (POLLERR | POLLHUP | POLLNVAL)) != 0;
      if (!dead && !c.started && (fds[i].revents & POLLOUT)) {
        dead = ::send(c.fd, kStart, sizeof kStart - 1, MSG_NOSIGNAL) < 0;
        c.started = true;
      } else if (!dead && (fds[i].revents & POLLIN)) {
        char buf[512];
        const ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
        dead = n == 0 || (n < 0 && errno != EAGAIN);  // an answer (408, 400) is followed by the close
      } else if (!dead && c.started && dribble_now) {
        dead = ::send(c.fd, kLine, sizeof kLine - 1, MSG_NOSIGNAL) < 0 && errno != EAGAIN;
      }
      if (dead) {
        ::close(c.fd);
        c.fd = -1;
        ++closed_;
      }
    }
  }
  for (auto& c : conns) {
    if (c.fd >= 0) ::close(c.fd);
  }
}

RequestFlood::RequestFlood(int port, int connections, const std::string& path, const std::string& request_headers) {
  for (int i = 0; i < connections; ++i) {
    threads_.emplace_back([this, port, path, request_headers] {
      while (!stop_) {
        if (HttpGet(port, path, "GET", std::chrono::seconds(5), request_headers).status != 0) ++answered_;
      }
    });
  }
}

RequestFlood::~RequestFlood() {
  stop_ = true;
  for (auto& t : threads_) t.join();
}

Duration ProcessCpuTime(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), {});
  // Fields after the command's closing parenthesis; utime and stime are the 12th
  // and 13th of them (fields 14 and 15 of the whole line), in clock ticks.
  std::istringstream rest(stat.substr(stat.rfind(')') + 2));
  std::string field;
  long long utime = 0, stime = 0;
  for (int i = 1; i <= 13 && rest >> field; ++i) {
    if (i == 12) utime = std::stoll(field);
    if (i == 13) stime = std::stoll(field);
  }
  const long ticks = ::sysconf(_SC_CLK_TCK);
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(static_cast<double>(utime + stime) / ticks));
}

}  // namespace hbfence::testing
