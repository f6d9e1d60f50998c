// SPDX-License-Identifier: Apache-2.0

#include "storage/peer_check.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <optional>

#include "src/sys/fs_util.h"
#include "src/sys/io_worker.h"
#include "storage/block_target.h"

namespace hbfence {
namespace {

// 9999-12-31T23:59:59Z: anything later is not a clock reading but garbage.
constexpr int64_t kMaxUnixSeconds = 253'402'300'799;
// The longest valid content is 12 digits and a newline; reading one byte more than
// that tells an oversized file from a valid one without reading all of it.
constexpr size_t kMaxContent = 13;

int64_t WholeSeconds(Duration d) { return std::chrono::duration_cast<std::chrono::seconds>(d).count(); }

std::string HumanDuration(Duration d) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  return ms % 1000 == 0 ? std::to_string(ms / 1000) + " s" : std::to_string(ms) + " ms";
}

std::string Printable(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

// Digits and at most one trailing newline, 1 .. kMaxUnixSeconds.
std::optional<int64_t> ParseUnixSeconds(std::string_view text) {
  if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  if (text.empty() || text.size() > 12) return std::nullopt;
  int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  if (value < 1 || value > kMaxUnixSeconds) return std::nullopt;
  return value;
}

}  // namespace

PeerVerdict CheckPeer(const HeartbeatReader& read, const Clock& clock, Duration window, Duration poll) {
  PeerVerdict verdict;
  auto first = read();
  if (!first) {
    verdict.reasons.push_back(first.error());
    return verdict;
  }
  verdict.last_written_at_unix = first.value().written_at_unix;
  const int64_t before = first.value().progress;
  // The window starts after the first read returned, as the single sleep did: a
  // slow first read must not eat into the time the writer has to show progress.
  const MonoTime end = clock.Now() + window;
  // The read that decides DEAD: the first one to finish at or after the end, also
  // when it hung there. A failed or unchanged read before the end decides nothing.
  std::optional<Result<HeartbeatValue, std::string>> last;
  while (!last) {
    const MonoTime now = clock.Now();
    if (now < end) clock.SleepFor(std::min(poll, end - now));
    auto next = read();
    if (next && next.value().progress > before) {
      verdict.last_written_at_unix = next.value().written_at_unix;
      verdict.alive = true;
      return verdict;
    }
    if (clock.Now() >= end) last = std::move(next);
  }
  if (!*last) {
    verdict.reasons.push_back(last->error());
    return verdict;
  }
  const HeartbeatValue& second = last->value();
  verdict.last_written_at_unix = second.written_at_unix;
  const int64_t after = second.progress;
  const std::string in_window = " in " + std::to_string(WholeSeconds(window)) + " s";
  if (after == before) {
    verdict.reasons.push_back("value " + std::to_string(after) + " did not advance" + in_window);
  } else {
    verdict.reasons.push_back("value went backwards from " + std::to_string(before) + " to " + std::to_string(after) +
                              in_window);
  }
  const int64_t ahead = second.written_at_unix - WholeSeconds(clock.WallNow().time_since_epoch());
  if (ahead > 0) {
    verdict.reasons.push_back("the last write is dated " + std::to_string(ahead) +
                              " s in our future: the writer's clock runs ahead, which does not make it alive");
  }
  return verdict;
}

std::string FormatVerdictLine(const PeerVerdict& verdict, const std::string& source, Duration window,
                              WallTime wall_now) {
  if (verdict.alive) return "=====> ALIVE <=====";
  const int64_t now = WholeSeconds(wall_now.time_since_epoch());
  const int64_t since_write = now - verdict.last_written_at_unix.value_or(0);
  return "=====> DEAD <====== Considering host as DEAD because last write on [" + source + "] was [" +
         std::to_string(since_write) + "] seconds ago, but the max interval is [" + std::to_string(WholeSeconds(window)) +
         "]";
}

Result<int64_t, std::string> ReadHeartbeatFile(const std::filesystem::path& path) {
  // Anyone who can write the pool can put a FIFO or a device where a heartbeat
  // belongs: never block in open() or read() on one, and read regular files only.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return Err{ErrnoMessage("open " + path.string(), errno)};
  struct stat st{};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Err{path.string() + " is not a regular file"};
  }
  char buf[kMaxContent + 1];
  size_t size = 0;
  int read_errno = 0;
  while (size < sizeof(buf)) {
    const ssize_t n = ::read(fd, buf + size, sizeof(buf) - size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) read_errno = errno;
    if (n <= 0) break;
    size += static_cast<size_t>(n);
  }
  ::close(fd);
  if (read_errno) return Err{ErrnoMessage("read " + path.string(), read_errno)};
  if (size == 0) return Err{path.string() + " is empty"};
  if (size > kMaxContent) return Err{path.string() + " is longer than a heartbeat (more than 13 bytes)"};
  const std::string_view content(buf, size);
  auto value = ParseUnixSeconds(content);
  if (!value) {
    return Err{path.string() + " does not hold Unix seconds (1 to 253402300799 and a newline): \"" +
               Printable(content) + "\""};
  }
  return *value;
}

HeartbeatReader FileHeartbeatReader(std::filesystem::path path) {
  return [path = std::move(path)]() -> Result<HeartbeatValue, std::string> {
    auto seconds = ReadHeartbeatFile(path);
    if (!seconds) return Err{seconds.error()};
    return HeartbeatValue{seconds.value(), seconds.value()};
  };
}

HeartbeatReader BlockHeartbeatReader(std::filesystem::path device, uint64_t offset) {
  return [device = std::move(device), offset]() -> Result<HeartbeatValue, std::string> {
    auto sector = ReadBlockSector(device, offset);
    if (!sector) return Err{sector.error()};
    // A valid checksum over a sequence no writer reaches still must not wrap negative.
    if (sector.value().sequence > static_cast<uint64_t>(INT64_MAX)) {
      return Err{BlockHeartbeatName(device, offset) + ": sequence " + std::to_string(sector.value().sequence) +
                 " is out of range"};
    }
    return HeartbeatValue{static_cast<int64_t>(sector.value().sequence), sector.value().unix_seconds};
  };
}

std::string BlockHeartbeatName(const std::filesystem::path& device, uint64_t offset) {
  return offset == 0 ? device.string() : device.string() + "@" + std::to_string(offset);
}

HeartbeatReader WithReadTimeout(HeartbeatReader read, Duration timeout) {
  return [read = std::move(read), timeout]() -> Result<HeartbeatValue, std::string> {
    auto value = CallWithin<Result<HeartbeatValue, std::string>>("hbfence-peerread", read, timeout);
    if (!value) return Err{"read timed out after " + HumanDuration(timeout) + " (storage not answering)"};
    return std::move(*value);
  };
}

}  // namespace hbfence
