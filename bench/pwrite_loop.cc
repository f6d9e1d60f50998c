// SPDX-License-Identifier: Apache-2.0

// Raw write-path baseline for bench/run goal 2: the same 11-byte heartbeat content
// written to one file on the same filesystem as hbfence's target, timed per write
// with CLOCK_MONOTONIC around the syscalls only.
//
//   pwrite_loop --path FILE [--mode raw|openclose|handoff] [--count N] [--interval-ms MS]
//
//   raw        open once; each write is pwrite(11 bytes, offset 0) + fdatasync
//   openclose  each write is open + pwrite + fdatasync + close (hbfence's syscalls
//              minus its fstat; storage/file_target.cc)
//   handoff    openclose done by a second thread woken through a condition
//              variable, timed from just before the notify to the end of the
//              write: the minimum a design that hands each write to a thread it
//              wakes pays (hbfence's one writer thread per target, until the
//              write pool)
// --interval-ms paces the writes like a heartbeat (0: back to back).
// Prints one JSON object: count, mean/p50/p99/min/max in microseconds, CPU seconds.
#include <fcntl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

double NowUs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "pwrite_loop: %s: %s\n", what, std::strerror(errno));
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  std::string path, mode = "raw";
  long count = 1000;
  double interval_ms = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "pwrite_loop: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--path") path = next();
    else if (a == "--mode") mode = next();
    else if (a == "--count") count = std::atol(next().c_str());
    else if (a == "--interval-ms") interval_ms = std::atof(next().c_str());
    else {
      std::fprintf(stderr, "usage: pwrite_loop --path FILE [--mode raw|openclose|handoff] [--count N] [--interval-ms MS]\n");
      return 2;
    }
  }
  if (path.empty() || (mode != "raw" && mode != "openclose" && mode != "handoff") || count <= 0) {
    std::fprintf(stderr, "pwrite_loop: bad arguments\n");
    return 2;
  }
  // Same content as HeartbeatContent(): Unix seconds and a newline, 11 bytes today.
  const std::string content = std::to_string(time(nullptr)) + "\n";
  {
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) Die("create");
    if (write(fd, content.data(), content.size()) != static_cast<ssize_t>(content.size())) Die("write");
    if (fsync(fd) != 0) Die("fsync");
    close(fd);
  }
  int keep = -1;
  if (mode == "raw") {
    keep = open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (keep < 0) Die("open");
  }
  std::vector<double> lat;
  lat.reserve(count);
  // handoff: the writer thread, woken per write.
  std::mutex mu;
  std::condition_variable cv;
  bool request = false, done = false, stop = false;
  double request_at = 0;
  std::thread writer;
  if (mode == "handoff") {
    writer = std::thread([&] {
      std::unique_lock lock(mu);
      for (;;) {
        cv.wait(lock, [&] { return request || stop; });
        if (stop) return;
        request = false;
        const double t0 = request_at;
        lock.unlock();
        int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0) Die("open");
        if (pwrite(fd, content.data(), content.size(), 0) != static_cast<ssize_t>(content.size())) Die("pwrite");
        if (fdatasync(fd) != 0) Die("fdatasync");
        if (close(fd) != 0) Die("close");
        const double t1 = NowUs();
        lock.lock();
        lat.push_back(t1 - t0);
        done = true;
        cv.notify_all();
      }
    });
  }
  const double cpu0 = CpuSeconds();
  double next_at = NowUs();
  for (long i = 0; i < count; ++i) {
    if (interval_ms > 0) {
      next_at += interval_ms * 1000;
      const double wait = next_at - NowUs();
      if (wait > 0) usleep(static_cast<useconds_t>(wait));
    }
    if (mode == "handoff") {
      std::unique_lock lock(mu);
      done = false;
      request_at = NowUs();
      request = true;
      cv.notify_all();
      cv.wait(lock, [&] { return done; });
      continue;
    }
    const double t0 = NowUs();
    int fd = keep;
    if (mode == "openclose") {
      fd = open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
      if (fd < 0) Die("open");
    }
    if (pwrite(fd, content.data(), content.size(), 0) != static_cast<ssize_t>(content.size())) Die("pwrite");
    if (fdatasync(fd) != 0) Die("fdatasync");
    if (mode == "openclose" && close(fd) != 0) Die("close");
    lat.push_back(NowUs() - t0);
  }
  const double cpu = CpuSeconds() - cpu0;
  if (keep >= 0) close(keep);
  if (writer.joinable()) {
    {
      std::lock_guard lock(mu);
      stop = true;
      cv.notify_all();
    }
    writer.join();
  }
  std::vector<double> s = lat;
  std::sort(s.begin(), s.end());
  double sum = 0;
  for (double v : lat) sum += v;
  auto pct = [&](double p) { return s[std::min(s.size() - 1, static_cast<size_t>(p * (s.size() - 1) + 0.5))]; };
  std::printf(
      "{\"mode\":\"%s\",\"count\":%ld,\"bytes\":%zu,\"mean_us\":%.3f,\"p50_us\":%.3f,\"p99_us\":%.3f,"
      "\"min_us\":%.3f,\"max_us\":%.3f,\"cpu_seconds\":%.6f}\n",
      mode.c_str(), count, content.size(), sum / lat.size(), pct(0.5), pct(0.99), s.front(), s.back(), cpu);
  return 0;
}
