// SPDX-License-Identifier: Apache-2.0

#include "src/lease_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <memory>
#include <sstream>

#include <spdlog/spdlog.h>

#include "src/sys/fs_util.h"

namespace hbfence {
namespace {

constexpr std::string_view kMagic = "hbfence-leases 1";
constexpr size_t kMaxRecordBytes = 4 << 20;  // 1024 targets with long paths fit easily

int64_t Nanos(MonoTime t) { return t.time_since_epoch().count(); }

std::string Hex(std::string_view s) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(s.size() * 2);
  for (unsigned char c : s) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

std::optional<std::string> Unhex(std::string_view s) {
  if (s.size() % 2) return std::nullopt;
  std::string out;
  out.reserve(s.size() / 2);
  for (size_t i = 0; i < s.size(); i += 2) {
    unsigned v = 0;
    auto [p, ec] = std::from_chars(s.data() + i, s.data() + i + 2, v, 16);
    if (ec != std::errc() || p != s.data() + i + 2) return std::nullopt;
    out += static_cast<char>(v);
  }
  return out;
}

std::optional<int64_t> Integer(std::string_view s) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

// Splits "a b c" on single spaces.
std::vector<std::string_view> Fields(std::string_view line) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (pos <= line.size()) {
    size_t sp = line.find(' ', pos);
    if (sp == std::string_view::npos) sp = line.size();
    out.push_back(line.substr(pos, sp - pos));
    pos = sp + 1;
  }
  return out;
}

}  // namespace

std::string FormatLeaseRecord(const LeaseRecord& r) {
  std::ostringstream out;
  out << kMagic << "\nboot " << r.boot_id << "\nstarted " << Nanos(r.started) << "\n";
  for (const auto& t : r.targets) {
    out << "target " << Nanos(t.last_success) << " ";
    if (t.last_success_wall) {
      out << t.last_success_wall->time_since_epoch().count();
    } else {
      out << "-";
    }
    out << " " << Hex(t.identity) << "\n";
  }
  out << "end\n";
  return out.str();
}

std::optional<LeaseRecord> ParseLeaseRecord(std::string_view text) {
  LeaseRecord r;
  bool ended = false;
  size_t pos = 0;
  int line_no = 0;
  while (pos < text.size()) {
    const size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) return std::nullopt;  // torn: every line ends with \n
    const std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    if (ended) return std::nullopt;
    const auto f = Fields(line);
    switch (line_no++) {
      case 0:
        if (line != kMagic) return std::nullopt;
        continue;
      case 1:
        if (f.size() != 2 || f[0] != "boot" || f[1].empty()) return std::nullopt;
        r.boot_id = std::string(f[1]);
        continue;
      case 2: {
        const auto started = f.size() == 2 && f[0] == "started" ? Integer(f[1]) : std::nullopt;
        if (!started) return std::nullopt;
        r.started = MonoTime(Duration(*started));
        continue;
      }
    }
    if (line == "end") {
      ended = true;
      continue;
    }
    if (f.size() != 4 || f[0] != "target") return std::nullopt;
    const auto mono = Integer(f[1]);
    const auto wall = f[2] == "-" ? std::optional<int64_t>() : Integer(f[2]);
    const auto identity = Unhex(f[3]);
    if (!mono || (f[2] != "-" && !wall) || !identity) return std::nullopt;
    LeaseRecord::Target t{*identity, MonoTime(Duration(*mono)), std::nullopt};
    if (wall) t.last_success_wall = WallTime(WallTime::duration(*wall));
    r.targets.push_back(std::move(t));
  }
  if (!ended) return std::nullopt;
  return r;
}

Result<std::string, std::string> ReadBootId() {
  auto text = ReadRegularFile("/proc/sys/kernel/random/boot_id", 256);
  if (!text) return Err{text.error()};
  std::string id = text.value();
  while (!id.empty() && (id.back() == '\n' || id.back() == ' ')) id.pop_back();
  if (id.empty() || id.find_first_of(" \n") != std::string::npos) return Err{std::string("boot_id is malformed")};
  return id;
}

LeaseStore::LeaseStore(std::filesystem::path runtime_directory) {
  state_->path = std::move(runtime_directory) / "leases";
}

Result<std::optional<LeaseRecord>, std::string> LeaseStore::Load(std::string_view boot_id, Duration wait) {
  using Loaded = Result<std::optional<LeaseRecord>, std::string>;
  const auto path = state_->path;
  auto loaded = io_.Call<Loaded>(
      [path]() -> Loaded {
        auto text = ReadRegularFile(path, kMaxRecordBytes);
        if (!text) {
          if (!std::filesystem::exists(path)) return std::optional<LeaseRecord>();
          return Err{text.error()};
        }
        auto record = ParseLeaseRecord(text.value());
        if (!record) return Err{path.string() + " is not a complete lease record"};
        return std::optional<LeaseRecord>(std::move(*record));
      },
      wait);
  if (!loaded) return Err{"reading " + path.string() + " did not finish in time"};
  if (!loaded->ok() || !loaded->value() || loaded->value()->boot_id == boot_id) return std::move(*loaded);
  return std::optional<LeaseRecord>();  // another boot's: a fresh start
}

void LeaseStore::Update(LeaseRecord record) {
  std::lock_guard lock(state_->mu);
  state_->record = std::move(record);
  state_->dirty = true;
}

void LeaseStore::SetSuccess(size_t index, MonoTime last_success, WallTime last_success_wall) {
  std::lock_guard lock(state_->mu);
  auto& targets = state_->record.targets;
  if (index >= targets.size()) return;
  targets[index].last_success = last_success;
  targets[index].last_success_wall = last_success_wall;
  state_->dirty = true;
}

void LeaseStore::Flush() {
  std::lock_guard lock(state_->mu);
  if (state_->write_queued || !state_->dirty) return;
  state_->write_queued = io_.Post([state = state_] { Write(*state); });
}

void LeaseStore::Write(State& state) {
  std::string text;
  {
    std::lock_guard lock(state.mu);
    state.write_queued = false;
    if (!state.dirty) return;
    state.dirty = false;
    text = FormatLeaseRecord(state.record);
  }
  // Written aside and renamed over: a crash mid-write leaves the previous record.
  // No fsync: the record only has to outlive the process, not the boot.
  const auto aside = state.path.string() + ".new";
  const int fd = ::open(aside.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600);
  int err = fd < 0 ? errno : 0;
  if (fd >= 0) {
    if (::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())) err = errno ? errno : EIO;
    ::close(fd);
    if (!err && ::rename(aside.c_str(), state.path.c_str()) != 0) err = errno;
  }
  // Logged on the change only: a broken runtime directory must not flood the log.
  if (err && !state.write_failing) {
    spdlog::error("lease record {}: {}; a crash restart would start a fresh lease", state.path.string(),
                  std::strerror(err));
  } else if (!err && state.write_failing) {
    spdlog::info("lease record {} written again", state.path.string());
  }
  state.write_failing = err != 0;
}

Status LeaseStore::Clear(Duration wait) {
  {
    std::lock_guard lock(state_->mu);
    state_->dirty = false;
  }
  const auto path = state_->path;
  auto removed = io_.Call<Status>(
      [path]() -> Status {
        if (::unlink(path.c_str()) != 0 && errno != ENOENT) return Err{ErrnoMessage("unlink " + path.string(), errno)};
        return OkStatus();
      },
      wait);
  if (!removed) return Err{"removing " + path.string() + " did not finish in time"};
  return std::move(*removed);
}

}  // namespace hbfence
