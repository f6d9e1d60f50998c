// SPDX-License-Identifier: Apache-2.0

#include "fence/journal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <ctime>
#include <fstream>
#include <map>
#include <sstream>
#include <variant>

#include "fence/fence_config.h"
#include "src/sys/fs_util.h"

namespace hbfence {
namespace {

void AppendQuoted(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 15];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

// Both time fields come from this one value, so they always agree.
int64_t UnixMillis(WallTime t) {
  return std::chrono::floor<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::string Iso8601(int64_t ms) {
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return buf;
}

// A minimal reader for the flat objects ToJsonLine writes: string, number and
// array-of-string values. Anything else is a parse failure, never a guess.
class FlatJsonReader {
 public:
  using Value = std::variant<std::string, double, std::vector<std::string>>;
  explicit FlatJsonReader(std::string_view s) : s_(s) {}

  std::optional<std::map<std::string, Value>> Parse() {
    std::map<std::string, Value> out;
    if (!Eat('{')) return std::nullopt;
    if (Eat('}')) return out;
    do {
      auto key = String();
      if (!key || !Eat(':')) return std::nullopt;
      auto value = AnyValue();
      if (!value) return std::nullopt;
      out[*key] = std::move(*value);
    } while (Eat(','));
    if (!Eat('}')) return std::nullopt;
    SkipSpace();
    if (pos_ != s_.size()) return std::nullopt;
    return out;
  }

 private:
  void SkipSpace() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\r')) ++pos_;
  }
  bool Eat(char c) {
    SkipSpace();
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  std::optional<std::string> String() {
    if (!Eat('"')) return std::nullopt;
    std::string out;
    while (pos_ < s_.size()) {
      char c = s_[pos_++];
      if (c == '"') return out;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= s_.size()) return std::nullopt;
      char e = s_[pos_++];
      switch (e) {
        case '"': case '\\': case '/': out += e; break;
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case 'u': {
          unsigned code = 0;
          if (pos_ + 4 > s_.size()) return std::nullopt;
          auto [p, ec] = std::from_chars(s_.data() + pos_, s_.data() + pos_ + 4, code, 16);
          if (ec != std::errc() || p != s_.data() + pos_ + 4 || code > 0x7f) return std::nullopt;
          out += static_cast<char>(code);
          pos_ += 4;
          break;
        }
        default: return std::nullopt;
      }
    }
    return std::nullopt;
  }
  std::optional<Value> AnyValue() {
    SkipSpace();
    if (pos_ >= s_.size()) return std::nullopt;
    if (s_[pos_] == '"') {
      auto s = String();
      if (!s) return std::nullopt;
      return Value{std::move(*s)};
    }
    if (s_[pos_] == '[') {
      ++pos_;
      std::vector<std::string> items;
      if (Eat(']')) return Value{items};
      do {
        auto s = String();
        if (!s) return std::nullopt;
        items.push_back(std::move(*s));
      } while (Eat(','));
      if (!Eat(']')) return std::nullopt;
      return Value{std::move(items)};
    }
    double d = 0;
    auto [p, ec] = std::from_chars(s_.data() + pos_, s_.data() + s_.size(), d);
    if (ec != std::errc()) return std::nullopt;
    pos_ = static_cast<size_t>(p - s_.data());
    return Value{d};
  }

  std::string_view s_;
  size_t pos_ = 0;
};

template <typename T>
const T* Field(const std::map<std::string, FlatJsonReader::Value>& m, const std::string& key) {
  auto it = m.find(key);
  return it == m.end() ? nullptr : std::get_if<T>(&it->second);
}

}  // namespace

std::string ToJsonLine(const JournalEntry& e) {
  const int64_t ms = UnixMillis(e.time);
  const int64_t whole = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);  // floor, also before 1970
  std::string out = "{\"time\":";
  AppendQuoted(out, Iso8601(ms));
  char secs[32];
  std::snprintf(secs, sizeof secs, "%lld.%03lld", static_cast<long long>(whole),
                static_cast<long long>(ms - whole * 1000));
  out += ",\"timestamp_seconds\":";
  out += secs;
  out += ",\"host\":";
  AppendQuoted(out, e.host);
  out += ",\"action\":";
  AppendQuoted(out, e.action);
  out += ",\"policy\":";
  AppendQuoted(out, e.policy);
  out += ",\"failed_targets\":[";
  for (size_t i = 0; i < e.failed_targets.size(); ++i) {
    if (i) out += ',';
    AppendQuoted(out, e.failed_targets[i]);
  }
  out += "],\"reason\":";
  AppendQuoted(out, e.reason);
  for (const auto& [key, items] : {std::pair{"domains", &e.domains}, std::pair{"steps", &e.steps}}) {
    if (items->empty()) continue;
    out += ",\"";
    out += key;
    out += "\":[";
    for (size_t i = 0; i < items->size(); ++i) {
      if (i) out += ',';
      AppendQuoted(out, (*items)[i]);
    }
    out += ']';
  }
  out += '}';
  return out;
}

std::optional<JournalEntry> ParseJsonLine(std::string_view line) {
  auto fields = FlatJsonReader(line).Parse();
  if (!fields) return std::nullopt;
  const auto* secs = Field<double>(*fields, "timestamp_seconds");
  const auto* action = Field<std::string>(*fields, "action");
  if (!secs || !action) return std::nullopt;
  // Written with millisecond precision: round, or a parsed time comes back 1 ms
  // early. Before 1970 or past what the nanosecond clock holds (2262): not ours.
  constexpr auto kMaxMs = std::chrono::duration_cast<std::chrono::milliseconds>(WallTime::duration::max()).count();
  const double ms = std::round(*secs * 1000);
  if (!(ms >= 0 && ms <= static_cast<double>(kMaxMs))) return std::nullopt;
  JournalEntry e;
  e.time = WallTime(std::chrono::milliseconds(static_cast<int64_t>(ms)));
  e.action = *action;
  if (const auto* v = Field<std::string>(*fields, "host")) e.host = *v;
  if (const auto* v = Field<std::string>(*fields, "policy")) e.policy = *v;
  if (const auto* v = Field<std::string>(*fields, "reason")) e.reason = *v;
  if (const auto* v = Field<std::vector<std::string>>(*fields, "failed_targets")) e.failed_targets = *v;
  if (const auto* v = Field<std::vector<std::string>>(*fields, "domains")) e.domains = *v;
  if (const auto* v = Field<std::vector<std::string>>(*fields, "steps")) e.steps = *v;
  return e;
}

namespace {

// Opens the journal for appending, refusing anything but a regular file.
Result<int, std::string> OpenForAppend(const std::filesystem::path& path, struct stat& st) {
  // O_NONBLOCK: a FIFO at the path must not block the open; fstat then refuses it.
  const int fd = ::open(path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK | O_NOCTTY, 0640);
  if (fd < 0) return Err{ErrnoMessage("open " + path.string(), errno)};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return Err{ErrnoMessage("fstat " + path.string(), err)};
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return Err{path.string() + " is " + FileTypeName(st.st_mode) + ", not a regular file"};
  }
  return fd;
}

std::filesystem::path Rotated(const std::filesystem::path& path) { return path.string() + ".1"; }

// The last `max_bytes` of a regular file (all of it when smaller); whether it was
// cut at the front. A missing file reads as empty.
Result<std::pair<std::string, bool>, std::string> ReadTailBytes(const std::filesystem::path& path, uint64_t max_bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    if (errno == ENOENT) return std::pair<std::string, bool>{};
    return Err{ErrnoMessage("open " + path.string(), errno)};
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return Err{ErrnoMessage("fstat " + path.string(), err)};
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return Err{path.string() + " is " + FileTypeName(st.st_mode) + ", not a regular file"};
  }
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  const uint64_t start = size > max_bytes ? size - max_bytes : 0;
  std::string text(size - start, '\0');
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::pread(fd, text.data() + done, text.size() - done, static_cast<off_t>(start + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return Err{ErrnoMessage("read " + path.string(), err)};
    }
    if (n == 0) break;  // truncated meanwhile
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  text.resize(done);
  return std::pair<std::string, bool>{std::move(text), start > 0};
}

}  // namespace

Status AppendJournalEntry(const std::filesystem::path& path, const JournalEntry& e, uint64_t rotate_bytes) {
  const auto dir = path.parent_path();
  std::filesystem::path failed;
  if (const int err = MakeDirectories(dir, &failed)) return Err{ErrnoMessage("mkdir " + failed.string(), err)};
  struct stat st {};
  auto opened = OpenForAppend(path, st);
  if (!opened) return Err{opened.error()};
  int fd = opened.value();
  // The journal rotates itself: a copy-and-truncate from outside could lose an entry
  // appended in between, and a rename from outside leaves us appending to the old
  // inode until the next append.
  if (rotate_bytes > 0 && static_cast<uint64_t>(st.st_size) >= rotate_bytes) {
    ::close(fd);
    if (::rename(path.c_str(), Rotated(path).c_str()) != 0) return Err{ErrnoMessage("rename " + path.string(), errno)};
    opened = OpenForAppend(path, st);
    if (!opened) return Err{opened.error()};
    fd = opened.value();
  }
  // A crash mid-append leaves a torn last line; start ours on a fresh line so the
  // new record stays readable.
  std::string line = ToJsonLine(e) + "\n";
  char last = '\n';
  if (st.st_size > 0 && ::pread(fd, &last, 1, st.st_size - 1) == 1 && last != '\n') line.insert(0, "\n");
  const ssize_t n = ::write(fd, line.data(), line.size());
  int err = n < 0 ? errno : 0;
  const bool complete = n == static_cast<ssize_t>(line.size());
  const bool synced = complete && ::fdatasync(fd) == 0;
  if (complete && !synced) err = errno;
  ::close(fd);
  if (!complete) return Err{ErrnoMessage("write " + path.string(), err ? err : EIO)};
  if (!synced) return Err{ErrnoMessage("fdatasync " + path.string(), err)};
  return FsyncDirectory(dir);
}

std::vector<JournalEntry> ParseJournalText(std::string_view text, bool starts_mid_line) {
  std::vector<JournalEntry> out;
  size_t pos = 0;
  if (starts_mid_line) {
    const size_t nl = text.find('\n');
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
  }
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    if (auto e = ParseJsonLine(text.substr(pos, nl - pos))) out.push_back(std::move(*e));
    pos = nl + 1;
  }
  return out;
}

JournalTail SummarizeJournal(std::vector<JournalEntry> entries, WallTime now, Duration window) {
  JournalTail tail;
  for (auto& e : entries) {
    if (e.time > now) {
      ++tail.future_entries;
      continue;
    }
    if (e.action != Name(FenceActionKind::kLogOnly) && (!tail.last_fence || e.time >= tail.last_fence->time)) {
      tail.last_fence = e;
    }
    if (now - e.time < window) tail.recent.push_back(std::move(e));
  }
  return tail;
}

JournalTail ReadJournalTail(const std::filesystem::path& path, WallTime now, Duration window, uint64_t max_bytes) {
  auto current = ReadTailBytes(path, max_bytes);
  if (!current) {
    JournalTail tail;
    tail.problem = current.error();
    return tail;
  }
  std::vector<JournalEntry> entries = ParseJournalText(current.value().first, current.value().second);
  // The rotated journal holds what came before: needed while the current one
  // reaches back less than the window, or holds no fence.
  auto reaches_back = [&] { return !entries.empty() && now - entries.front().time >= window; };
  auto has_fence = [&] {
    return std::any_of(entries.begin(), entries.end(),
                       [](const JournalEntry& e) { return e.action != Name(FenceActionKind::kLogOnly); });
  };
  std::string problem;
  if (!current.value().second && (!reaches_back() || !has_fence())) {
    if (auto older = ReadTailBytes(Rotated(path), max_bytes)) {
      auto before = ParseJournalText(older.value().first, older.value().second);
      entries.insert(entries.begin(), std::make_move_iterator(before.begin()), std::make_move_iterator(before.end()));
    } else {
      problem = older.error();
    }
  }
  JournalTail tail = SummarizeJournal(std::move(entries), now, window);
  tail.problem = std::move(problem);
  return tail;
}

std::vector<JournalEntry> ReadJournalEntries(const std::filesystem::path& path) {
  std::vector<JournalEntry> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    if (auto e = ParseJsonLine(line)) out.push_back(std::move(*e));
  }
  return out;
}

}  // namespace hbfence
