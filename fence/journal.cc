#include "fence/journal.h"

#include <fcntl.h>
#include <unistd.h>

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
  return e;
}

Status Journal::Append(const JournalEntry& e) {
  const auto dir = path_.parent_path();
  std::filesystem::path failed;
  if (const int err = MakeDirectories(dir, &failed)) return Err{ErrnoMessage("mkdir " + failed.string(), err)};
  const int fd = ::open(path_.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) return Err{ErrnoMessage("open " + path_.string(), errno)};
  // A crash mid-append leaves a torn last line; start ours on a fresh line so the
  // new record stays readable.
  std::string line = ToJsonLine(e) + "\n";
  const off_t size = ::lseek(fd, 0, SEEK_END);
  char last = '\n';
  if (size > 0 && ::pread(fd, &last, 1, size - 1) == 1 && last != '\n') line.insert(0, "\n");
  const ssize_t n = ::write(fd, line.data(), line.size());
  int err = n < 0 ? errno : 0;
  const bool complete = n == static_cast<ssize_t>(line.size());
  const bool synced = complete && ::fsync(fd) == 0;
  if (complete && !synced) err = errno;
  ::close(fd);
  if (!complete) return Err{ErrnoMessage("write " + path_.string(), err ? err : EIO)};
  if (!synced) return Err{ErrnoMessage("fsync " + path_.string(), err)};
  return FsyncDirectory(dir);
}

std::vector<JournalEntry> ReadJournalEntries(const std::filesystem::path& path) {
  std::vector<JournalEntry> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    if (auto e = ParseJsonLine(line)) out.push_back(std::move(*e));
  }
  return out;
}

std::optional<JournalEntry> ReadLastFence(const std::filesystem::path& path) {
  const auto entries = ReadJournalEntries(path);
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
    if (it->action != Name(FenceActionKind::kLogOnly)) return *it;
  }
  return std::nullopt;
}

}  // namespace hbfence
