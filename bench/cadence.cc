// SPDX-License-Identifier: Apache-2.0

// Heartbeat cadence recorder for bench/run goal 6: watches directories with inotify
// and timestamps (CLOCK_MONOTONIC) every IN_CLOSE_WRITE, i.e. the end of each
// heartbeat write (hbfence closes the file after pwrite + fdatasync).
//
//   cadence --interval SECONDS --duration SECONDS [--warmup SECONDS] DIR...
//
// For every file, the gaps between successive writes are compared with the interval:
// jitter = |gap - interval|. Prints one JSON object: files seen, gaps, jitter
// p50/p90/p99/p999/max (ms) and the signed extremes. Dot-files (the first write's
// temporary file) are ignored. Rounds: hbfence ticks every target at the same
// instant, so the events of one interval form a burst; round_spread is the time
// from the first to the last write of a burst (how late the last target is).
#include <poll.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

namespace {

double NowS() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
  double interval = 1, duration = 10, warmup = 0;
  std::vector<std::string> dirs;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--interval" && i + 1 < argc) interval = std::atof(argv[++i]);
    else if (a == "--duration" && i + 1 < argc) duration = std::atof(argv[++i]);
    else if (a == "--warmup" && i + 1 < argc) warmup = std::atof(argv[++i]);
    else dirs.push_back(a);
  }
  if (dirs.empty()) {
    std::fprintf(stderr, "usage: cadence --interval S --duration S [--warmup S] DIR...\n");
    return 2;
  }
  const int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) {
    std::perror("inotify_init1");
    return 1;
  }
  std::map<int, std::string> wd_dir;
  for (const auto& d : dirs) {
    const int wd = inotify_add_watch(fd, d.c_str(), IN_CLOSE_WRITE);
    if (wd < 0) {
      std::perror(d.c_str());
      return 1;
    }
    wd_dir[wd] = d;
  }
  std::printf("cadence: watching\n");
  std::fflush(stdout);
  std::map<std::string, std::vector<double>> events;
  const double start = NowS();
  const double record_from = start + warmup, end = start + warmup + duration;
  bool overflow = false;
  alignas(inotify_event) char buf[64 * 1024];
  for (;;) {
    const double now = NowS();
    if (now >= end) break;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>((end - now) * 1000) + 1) <= 0) continue;
    const ssize_t n = read(fd, buf, sizeof buf);
    const double t = NowS();
    for (ssize_t off = 0; off < n;) {
      const auto* ev = reinterpret_cast<const inotify_event*>(buf + off);
      off += sizeof(inotify_event) + ev->len;
      if (ev->mask & IN_Q_OVERFLOW) overflow = true;
      if (!ev->len || ev->name[0] == '.' || t < record_from) continue;
      events[wd_dir[ev->wd] + "/" + ev->name].push_back(t);
    }
  }
  // Bursts: all events sorted, a new round when the gap to the previous event
  // exceeds a quarter of the interval.
  std::vector<double> all;
  for (const auto& [name, ts] : events) all.insert(all.end(), ts.begin(), ts.end());
  std::sort(all.begin(), all.end());
  std::vector<double> spread;
  for (size_t i = 0, first = 0; i < all.size(); ++i) {
    const bool last = i + 1 == all.size() || all[i + 1] - all[i] > interval / 4;
    if (last) {
      spread.push_back((all[i] - all[first]) * 1000);
      first = i + 1;
    }
  }
  std::sort(spread.begin(), spread.end());
  std::vector<double> jitter;
  double min_gap = 1e9, max_gap = 0;
  size_t events_total = 0;
  for (const auto& [name, ts] : events) {
    events_total += ts.size();
    for (size_t i = 1; i < ts.size(); ++i) {
      const double gap = ts[i] - ts[i - 1];
      min_gap = std::min(min_gap, gap);
      max_gap = std::max(max_gap, gap);
      jitter.push_back(std::fabs(gap - interval) * 1000);
    }
  }
  std::sort(jitter.begin(), jitter.end());
  auto pct = [&](double q) {
    return jitter.empty() ? 0.0 : jitter[std::min(jitter.size() - 1, static_cast<size_t>(q * (jitter.size() - 1) + 0.5))];
  };
  std::printf(
      "{\"files\":%zu,\"events\":%zu,\"gaps\":%zu,\"jitter_p50_ms\":%.3f,\"jitter_p90_ms\":%.3f,"
      "\"jitter_p99_ms\":%.3f,\"jitter_p999_ms\":%.3f,\"jitter_max_ms\":%.3f,\"min_gap_s\":%.6f,\"max_gap_s\":%.6f,"
      "\"rounds\":%zu,\"round_spread_p50_ms\":%.3f,\"round_spread_max_ms\":%.3f,\"overflow\":%s}\n",
      events.size(), events_total, jitter.size(), pct(0.5), pct(0.9), pct(0.99), pct(0.999),
      jitter.empty() ? 0.0 : jitter.back(), jitter.empty() ? 0.0 : min_gap, max_gap, spread.size(),
      spread.empty() ? 0.0 : spread[spread.size() / 2], spread.empty() ? 0.0 : spread.back(), overflow ? "true" : "false");
  return 0;
}
