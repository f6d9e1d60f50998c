// SPDX-License-Identifier: Apache-2.0

// Design floors for bench/run goal 1: the CPU per heartbeat that a given write
// design costs on this machine, with no daemon bookkeeping at all. N files in DIR,
// one write per file per interval, for a duration; prints CPU seconds per write.
//
//   design_floor --mode MODE --dir DIR [--files 64] [--interval-ms 50] [--seconds 5]
//
//   handoff        hbfence's first shape (one writer thread per target, until the
//                  write pool): a scheduler thread ticks every interval and wakes
//                  one writer thread per file through its condition variable; the
//                  writer does open+fstat+pwrite+fdatasync+close and pushes a
//                  completion to a shared queue that wakes the scheduler
//   timer-threads  one thread per file that sleeps to its own absolute deadline
//                  (clock_nanosleep) and writes: no hand-off, one wake-up per write
//   timer-threads-keepfd  the same with the fd kept open: pwrite+fdatasync only
//   single         one thread writes every file in turn each interval (open/close):
//                  the write pool's shape on healthy storage (storage/write_pool.h)
//   single-keepfd  one thread, fds kept open: pwrite+fdatasync per file
//
// Prints one JSON object: writes, cpu_s, cpu_us_per_write, voluntary/involuntary
// context switches per write.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

std::string g_content;

timespec Add(timespec t, long ns) {
  t.tv_nsec += ns;
  while (t.tv_nsec >= 1000000000L) {
    t.tv_nsec -= 1000000000L;
    ++t.tv_sec;
  }
  return t;
}

bool Before(const timespec& a, const timespec& b) {
  return a.tv_sec < b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec < b.tv_nsec);
}

void WriteOpenClose(const std::string& path) {
  const int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    perror("open");
    std::exit(1);
  }
  struct stat st{};
  fstat(fd, &st);
  if (pwrite(fd, g_content.data(), g_content.size(), 0) < 0 || fdatasync(fd) != 0) {
    perror("write");
    std::exit(1);
  }
  close(fd);
}

void WriteKept(int fd) {
  if (pwrite(fd, g_content.data(), g_content.size(), 0) < 0 || fdatasync(fd) != 0) {
    perror("write");
    std::exit(1);
  }
}

struct Writer {
  std::mutex mu;
  std::condition_variable cv;
  bool request = false;
  bool stop = false;
  std::thread thread;
};

struct Queue {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<int> items;
};

}  // namespace

int main(int argc, char** argv) {
  std::string mode, dir;
  int files = 64;
  double interval_ms = 50, seconds = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i], v = argv[i + 1];
    if (a == "--mode") mode = v;
    else if (a == "--dir") dir = v;
    else if (a == "--files") files = std::atoi(v.c_str());
    else if (a == "--interval-ms") interval_ms = std::atof(v.c_str());
    else if (a == "--seconds") seconds = std::atof(v.c_str());
  }
  if (mode.empty() || dir.empty() || files <= 0) {
    std::fprintf(stderr, "usage: design_floor --mode MODE --dir DIR [--files N] [--interval-ms MS] [--seconds S]\n");
    return 2;
  }
  g_content = std::to_string(time(nullptr)) + "\n";
  std::vector<std::string> paths;
  std::vector<int> fds;
  for (int i = 0; i < files; ++i) {
    paths.push_back(dir + "/floor-" + std::to_string(i));
    const int fd = open(paths.back().c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || write(fd, g_content.data(), g_content.size()) < 0) {
      perror(paths.back().c_str());
      return 1;
    }
    fds.push_back(fd);
  }
  const long interval_ns = static_cast<long>(interval_ms * 1e6);
  std::atomic<long> writes{0};
  timespec start{};
  clock_gettime(CLOCK_MONOTONIC, &start);
  start = Add(start, 100000000L);  // first tick in 100 ms: every thread is waiting by then
  const timespec end = Add(start, static_cast<long>(seconds * 1e9));
  rusage r0{};
  getrusage(RUSAGE_SELF, &r0);

  if (mode == "timer-threads" || mode == "timer-threads-keepfd") {
    const bool keep = mode == "timer-threads-keepfd";
    std::vector<std::thread> threads;
    for (int i = 0; i < files; ++i) {
      threads.emplace_back([&, i] {
        for (timespec next = start; Before(next, end); next = Add(next, interval_ns)) {
          clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, nullptr);
          if (keep) WriteKept(fds[i]);
          else WriteOpenClose(paths[i]);
          writes.fetch_add(1, std::memory_order_relaxed);
        }
      });
    }
    for (auto& t : threads) t.join();
  } else if (mode == "single" || mode == "single-keepfd") {
    const bool keep = mode == "single-keepfd";
    for (timespec next = start; Before(next, end); next = Add(next, interval_ns)) {
      clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, nullptr);
      for (int i = 0; i < files; ++i) {
        if (keep) WriteKept(fds[i]);
        else WriteOpenClose(paths[i]);
        ++writes;
      }
    }
  } else if (mode == "handoff") {
    Queue queue;
    std::vector<std::unique_ptr<Writer>> writers;
    for (int i = 0; i < files; ++i) {
      writers.push_back(std::make_unique<Writer>());
      Writer* w = writers.back().get();
      w->thread = std::thread([&, w, i] {
        std::unique_lock lock(w->mu);
        for (;;) {
          w->cv.wait(lock, [&] { return w->request || w->stop; });
          if (w->stop) return;
          w->request = false;
          lock.unlock();
          WriteOpenClose(paths[i]);
          {
            std::lock_guard q(queue.mu);
            queue.items.push_back(i);
            queue.cv.notify_all();
          }
          lock.lock();
        }
      });
    }
    // The scheduler: tick every writer, then drain completions until the next tick.
    for (timespec next = start; Before(next, end); next = Add(next, interval_ns)) {
      clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, nullptr);
      for (auto& w : writers) {
        std::lock_guard lock(w->mu);
        w->request = true;
        w->cv.notify_all();
      }
      int done = 0;
      std::unique_lock q(queue.mu);
      while (done < files) {
        queue.cv.wait(q, [&] { return !queue.items.empty(); });
        done += static_cast<int>(queue.items.size());
        queue.items.clear();
      }
      writes += files;
    }
    for (auto& w : writers) {
      {
        std::lock_guard lock(w->mu);
        w->stop = true;
        w->cv.notify_all();
      }
      w->thread.join();
    }
  } else {
    std::fprintf(stderr, "design_floor: unknown mode %s\n", mode.c_str());
    return 2;
  }

  rusage r1{};
  getrusage(RUSAGE_SELF, &r1);
  auto secs = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  const double cpu = secs(r1.ru_utime) - secs(r0.ru_utime) + secs(r1.ru_stime) - secs(r0.ru_stime);
  const long n = writes.load();
  for (int fd : fds) close(fd);
  for (const auto& p : paths) unlink(p.c_str());
  std::printf(
      "{\"mode\":\"%s\",\"files\":%d,\"interval_ms\":%g,\"writes\":%ld,\"cpu_s\":%.6f,\"cpu_us_per_write\":%.3f,"
      "\"vol_cs_per_write\":%.3f,\"invol_cs_per_write\":%.3f}\n",
      mode.c_str(), files, interval_ms, n, cpu, n ? cpu / n * 1e6 : 0.0,
      n ? static_cast<double>(r1.ru_nvcsw - r0.ru_nvcsw) / n : 0.0,
      n ? static_cast<double>(r1.ru_nivcsw - r0.ru_nivcsw) / n : 0.0);
  return 0;
}
