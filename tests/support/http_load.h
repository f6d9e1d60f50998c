// SPDX-License-Identifier: Apache-2.0

// Hostile HTTP clients for integration tests, all against 127.0.0.1:port.
#pragma once

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "src/sys/time.h"

namespace hbfence::testing {

// Slow clients ("slowloris"): `count` connections, each sending the start of a
// request and then one more header line every `dribble`, never finishing it. A
// connection the server closes is opened again at once, so the attack holds for as
// long as the object lives. One thread, poll(2) over all sockets.
class SlowClients {
 public:
  SlowClients(int port, int count, Duration dribble = std::chrono::seconds(1));
  ~SlowClients();
  SlowClients(const SlowClients&) = delete;
  SlowClients& operator=(const SlowClients&) = delete;

  // Connections the server has closed so far (each was opened again).
  int closed_by_server() const { return closed_.load(); }

 private:
  void Run(int port, int count, Duration dribble);

  std::atomic<bool> stop_{false};
  std::atomic<int> closed_{0};
  std::thread thread_;
};

// `connections` threads, each sending `request_headers` (extra header lines, e.g. a
// wrong Authorization) on a new connection, reading the answer, and starting again
// at once, until the object is destroyed.
class RequestFlood {
 public:
  RequestFlood(int port, int connections, const std::string& path, const std::string& request_headers);
  ~RequestFlood();
  RequestFlood(const RequestFlood&) = delete;
  RequestFlood& operator=(const RequestFlood&) = delete;

  int answered() const { return answered_.load(); }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<int> answered_{0};
  std::vector<std::thread> threads_;
};

// CPU time (user + system) the process has used so far, from /proc/<pid>/stat.
Duration ProcessCpuTime(int pid);

}  // namespace hbfence::testing
