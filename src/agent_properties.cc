// SPDX-License-Identifier: Apache-2.0

#include "src/agent_properties.h"

#include <charconv>
#include <cstddef>
#include <utility>

namespace hbfence {
namespace {

// The separators and whitespace of java.util.Properties: no \v, no \n inside a line.
bool IsPropertiesSpace(char c) { return c == ' ' || c == '\t' || c == '\f'; }
bool IsTerminator(char c) { return c == '\n' || c == '\r'; }

struct LogicalLine {
  std::string text;  // continuations joined, escapes still raw
  uint32_t line;
};

// Java's Properties.LineReader: natural lines in, logical lines out. Blank and comment
// lines vanish; a line ending in an odd number of backslashes continues on the next
// one, whose leading whitespace is dropped. A comment line never continues, and a
// continuation line is never a comment, even if it starts with '#'.
class LineReader {
 public:
  explicit LineReader(std::string_view text) : text_(text) {}

  std::optional<LogicalLine> Next() {
    std::string buf;
    uint32_t start = 0;
    bool skip_space = true;        // at the start of a natural line
    bool continuation = false;     // ...that continues the previous one
    bool new_logical_line = true;  // the next kept character starts a logical line
    bool odd_backslashes = false;  // buf ends in an odd run of backslashes
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (skip_space) {
        if (IsPropertiesSpace(c)) {
          ++pos_;
          continue;
        }
        // Blank lines between logical lines are skipped, but an empty continuation
        // line ends the logical line it continues.
        if (!continuation && IsTerminator(c)) {
          ConsumeTerminator();
          continue;
        }
        skip_space = false;
        continuation = false;
      }
      if (new_logical_line) {
        new_logical_line = false;
        start = line_;
        if (c == '#' || c == '!') {
          SkipRestOfNaturalLine();
          new_logical_line = skip_space = true;
          continue;
        }
      }
      if (!IsTerminator(c)) {
        ++pos_;
        buf += c;
        odd_backslashes = c == '\\' ? !odd_backslashes : false;
        continue;
      }
      ConsumeTerminator();
      if (buf.empty()) {  // only an empty continuation got here: Java drops it
        new_logical_line = skip_space = true;
        continue;
      }
      if (!odd_backslashes) return LogicalLine{std::move(buf), start};
      buf.pop_back();
      odd_backslashes = false;
      skip_space = continuation = true;
    }
    if (buf.empty()) return std::nullopt;
    if (odd_backslashes) buf.pop_back();  // a continuation at end of input continues into nothing
    return LogicalLine{std::move(buf), start};
  }

 private:
  // \n, \r and \r\n each end one natural line.
  void ConsumeTerminator() {
    if (text_[pos_] == '\r' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '\n') ++pos_;
    ++pos_;
    ++line_;
  }

  void SkipRestOfNaturalLine() {
    while (pos_ < text_.size() && !IsTerminator(text_[pos_])) ++pos_;
    if (pos_ < text_.size()) ConsumeTerminator();
  }

  std::string_view text_;
  size_t pos_ = 0;
  uint32_t line_ = 1;
};

void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// \uXXXX escapes are UTF-16 code units; a surrogate pair becomes one UTF-8 sequence,
// and a lone surrogate (which UTF-8 cannot carry) becomes U+FFFD.
class Utf16Sink {
 public:
  explicit Utf16Sink(std::string& out) : out_(out) {}
  ~Utf16Sink() { Flush(); }
  Utf16Sink(const Utf16Sink&) = delete;
  Utf16Sink& operator=(const Utf16Sink&) = delete;

  void Unit(uint32_t unit) {
    if (high_ != 0 && unit >= 0xDC00 && unit <= 0xDFFF) {
      AppendUtf8(out_, 0x10000 + ((high_ - 0xD800) << 10) + (unit - 0xDC00));
      high_ = 0;
      return;
    }
    Flush();
    if (unit >= 0xD800 && unit <= 0xDBFF) {
      high_ = unit;
    } else {
      AppendUtf8(out_, unit >= 0xDC00 && unit <= 0xDFFF ? 0xFFFD : unit);
    }
  }
  void Byte(char c) {
    Flush();
    out_ += c;
  }

 private:
  void Flush() {
    if (high_ != 0) AppendUtf8(out_, 0xFFFD);
    high_ = 0;
  }
  std::string& out_;
  uint32_t high_ = 0;  // a pending high surrogate, or 0
};

std::optional<uint32_t> HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return std::nullopt;
}

// Java's loadConvert: \t \n \r \f, \uXXXX, and any other escaped character is itself.
Result<std::string, std::string> Unescape(std::string_view raw, uint32_t line) {
  std::string out;
  {
    Utf16Sink sink(out);
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] != '\\') {
        sink.Byte(raw[i]);
        continue;
      }
      if (++i == raw.size()) break;  // unreachable: the line reader drops a trailing lone backslash
      const char c = raw[i];
      if (c != 'u') {
        sink.Byte(c == 't' ? '\t' : c == 'n' ? '\n' : c == 'r' ? '\r' : c == 'f' ? '\f' : c);
        continue;
      }
      const std::string_view digits = raw.substr(i + 1, 4);
      uint32_t unit = 0;
      bool valid = digits.size() == 4;
      for (char d : digits) {
        const auto v = HexDigit(d);
        valid = valid && v.has_value();
        if (v) unit = unit * 16 + *v;
      }
      if (!valid) {
        return Err{"line " + std::to_string(line) + ": malformed \\uXXXX escape \"\\u" + std::string(digits) +
                   "\" (java.util.Properties refuses the whole file)"};
      }
      sink.Unit(unit);
      i += 4;
    }
  }
  return out;
}

}  // namespace

Result<Properties, std::string> ParseJavaProperties(std::string_view text) {
  Properties props;
  LineReader reader(text);
  while (auto logical = reader.Next()) {
    const std::string_view line = logical->text;
    // The key ends at the first unescaped '=', ':' or whitespace.
    size_t key_end = 0;
    size_t value_start = line.size();
    bool has_separator = false;
    bool escaped = false;
    for (; key_end < line.size(); ++key_end) {
      const char c = line[key_end];
      if (!escaped && (c == '=' || c == ':' || IsPropertiesSpace(c))) {
        value_start = key_end + 1;
        has_separator = c == '=' || c == ':';
        break;
      }
      escaped = c == '\\' ? !escaped : false;
    }
    // Then whitespace, at most one '=' or ':' (unless one ended the key), whitespace.
    for (; value_start < line.size(); ++value_start) {
      const char c = line[value_start];
      if (IsPropertiesSpace(c)) continue;
      if (!has_separator && (c == '=' || c == ':')) {
        has_separator = true;
        continue;
      }
      break;
    }
    auto key = Unescape(line.substr(0, key_end), logical->line);
    if (!key) return Err{key.error()};
    auto value = Unescape(line.substr(value_start), logical->line);
    if (!value) return Err{value.error()};
    props[std::move(key).value()] = PropertyValue{std::move(value).value(), logical->line};
  }
  return props;
}

namespace {

// Plausibility bounds, far above any sane setting; they also keep the lease
// arithmetic clear of overflow.
constexpr int64_t kMaxMilliseconds = 86'400'000;  // one day
constexpr int64_t kMaxTries = 1000;

class AgentMapper {
 public:
  AgentMapper(const Properties& props, std::string_view file) : props_(props), file_(file) {}

  AgentDefaults Map() && {
    MapFenceAction();
    MapCustomScript();
    MapTimings();
    if (const auto device = Lookup(kPropPrivateNetworkDevice)) {
      out_.private_network_device = std::string(Trimmed(device->value->value));
      out_.private_network_device_line = device->value->line;
    }
    return std::move(out_);
  }

 private:
  struct Found {
    std::string_view name;
    const PropertyValue* value;
  };

  // CloudStack reads a blank value as "use the default": so does hbfence.
  std::optional<Found> Lookup(std::string_view name) const {
    const auto it = props_.find(std::string(name));
    if (it == props_.end()) return std::nullopt;
    if (it->second.value.find_first_not_of(" \t\f\r\n\v") == std::string::npos) return std::nullopt;
    return Found{name, &it->second};
  }

  std::string Where(const Found& f) const {
    return std::string(file_) + ":" + std::to_string(f.value->line) + " (" + std::string(f.name) + ")";
  }

  void Warn(const Found& f, const std::string& message) {
    out_.warnings.push_back(std::string(file_) + ":" + std::to_string(f.value->line) + ": " + std::string(f.name) +
                            " " + message);
  }

  static std::string Quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

  static std::string_view Trimmed(std::string_view s) {
    const auto first = s.find_first_not_of(" \t\f\r\n\v");
    if (first == std::string_view::npos) return {};
    return s.substr(first, s.find_last_not_of(" \t\f\r\n\v") - first + 1);
  }

  // What PR #13090's helper (kvmha-fence.sh), the component that acts on the fence
  // keys without hbfence, makes of a value: `cut -d= -f2- | tr -d '[:space:]'`, every
  // space, tab, form feed, CR or vertical tab gone, wherever it was. java.util.Properties
  // keeps trailing blanks, so "log-only  " must not become an unknown action (and a
  // reboot) here while the helper logs only.
  static std::string WithoutWhitespace(std::string_view s) {
    std::string out;
    for (char c : s) {
      if (std::string_view(" \t\f\r\n\v").find(c) == std::string_view::npos) out += c;
    }
    return out;
  }

  // Commons BeanUtils' boolean words, which CloudStack's property handler uses.
  static std::optional<bool> ParseBool(std::string_view text) {
    std::string lower(Trimmed(text));
    for (char& c : lower) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    for (std::string_view yes : {"true", "yes", "y", "on", "1"}) {
      if (lower == yes) return true;
    }
    for (std::string_view no : {"false", "no", "n", "off", "0"}) {
      if (lower == no) return false;
    }
    return std::nullopt;
  }

  void MapFenceAction() {
    const auto reboot = Lookup(kPropRebootOnTimeout);
    bool reboot_disabled = false;
    if (reboot) {
      const auto b = ParseBool(reboot->value->value);
      // CloudStack's converter would read an unrecognised word as false and quietly
      // stop fencing; hbfence does not guess in that direction.
      if (!b) Warn(*reboot, Quoted(reboot->value->value) + " is not true or false: ignored");
      reboot_disabled = b == false;
    }
    if (const auto action = Lookup(kPropFenceAction)) {
      const std::string value = WithoutWhitespace(action->value->value);
      const auto parsed = ParseFenceAction(value);
      out_.unknown_fence_action = !parsed;
      if (reboot_disabled) {
        if (parsed != FenceActionKind::kLogOnly) {
          Warn(*action, Quoted(value) + (parsed ? "" : " is not a known fence action and") +
                            " is overridden by " + std::string(kPropRebootOnTimeout) + "=false (line " +
                            std::to_string(reboot->value->line) + "): log-only");
        }
      } else {
        if (!parsed) {
          Warn(*action, Quoted(value) +
                            " is not one of hard-reboot, reboot, graceful-reboot, restart-agent, log-only, custom, destroy-vms: "
                            "falling back to hard-reboot, as CloudStack's shell helper does");
        }
        out_.action = parsed.value_or(FenceActionKind::kHardReboot);
        out_.sources["fence.action"] = Where(*action);
      }
    }
    if (reboot_disabled) {
      out_.action = FenceActionKind::kLogOnly;
      out_.sources["fence.action"] = Where(*reboot);
    }
  }

  void MapCustomScript() {
    if (const auto script = Lookup(kPropFenceCustomScript)) {
      // As in hbfence.toml: a relative path is relative to the file that names it.
      const std::filesystem::path p(WithoutWhitespace(script->value->value));
      out_.custom_script =
          (p.is_absolute() ? p : std::filesystem::path(file_).parent_path() / p).lexically_normal();
      out_.sources["fence.custom_script"] = Where(*script);
    }
    if (out_.action == FenceActionKind::kCustom && !out_.custom_script) {
      Warn(*Lookup(kPropFenceAction), "is custom but " + std::string(kPropFenceCustomScript) +
                                          " is not set: fence.custom_script from hbfence.toml or its default applies");
    }
  }

  // A whole number in [1, max]; anything else is a warning and the key is ignored.
  std::optional<int64_t> Positive(const std::optional<Found>& f, int64_t max, std::string_view unit) {
    if (!f) return std::nullopt;
    const std::string_view text = Trimmed(f->value->value);  // CloudStack's number converter trims too
    int64_t v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size() || v <= 0) {
      Warn(*f, Quoted(f->value->value) + " is not a whole number of " + std::string(unit) + " > 0: ignored");
      return std::nullopt;
    }
    if (v > max) {
      Warn(*f, Quoted(f->value->value) + " is more than " + std::to_string(max) + " " + std::string(unit) +
                   ": ignored");
      return std::nullopt;
    }
    return v;
  }

  // interval = frequency, timeout = heartbeat.update.timeout, and the lease is how
  // long KVMHAMonitor goes from its last successful write to fencing when every
  // write hangs: it sleeps `frequency`, then makes max.tries attempts, each bounded
  // by the timeout and followed by retry.sleep (the last one too).
  void MapTimings() {
    using std::chrono::milliseconds;
    const auto frequency_key = Lookup(kPropUpdateFrequency);
    const auto tries_key = Lookup(kPropUpdateMaxTries);
    const auto sleep_key = Lookup(kPropUpdateRetrySleep);
    const auto timeout_key = Lookup(kPropUpdateTimeout);
    const auto frequency = Positive(frequency_key, kMaxMilliseconds, "milliseconds");
    const auto tries = Positive(tries_key, kMaxTries, "tries");
    const auto sleep = Positive(sleep_key, kMaxMilliseconds, "milliseconds");
    const auto timeout = Positive(timeout_key, kMaxMilliseconds, "milliseconds");
    if (frequency) {
      out_.interval = milliseconds(*frequency);
      out_.sources["heartbeat.interval_seconds"] = Where(*frequency_key);
    }
    if (timeout) {
      out_.timeout = milliseconds(*timeout);
      out_.sources["heartbeat.timeout_seconds"] = Where(*timeout_key);
    }
    if (!frequency && !tries && !sleep && !timeout) return;
    out_.lease = milliseconds(frequency.value_or(kCloudStackUpdateFrequencyMs) +
                              tries.value_or(kCloudStackUpdateMaxTries) *
                                  (timeout.value_or(kCloudStackUpdateTimeoutMs) +
                                   sleep.value_or(kCloudStackUpdateRetrySleepMs)));
    std::string source;
    auto add = [&](const std::optional<int64_t>& value, const std::optional<Found>& key) {
      if (!value) return;
      source += (source.empty() ? "" : ", ") + Where(*key);
    };
    // The lease's own keys first: an error about the lease points at the first line
    // listed, and frequency and timeout are already the sources of interval and timeout.
    add(tries, tries_key);
    add(sleep, sleep_key);
    add(frequency, frequency_key);
    add(timeout, timeout_key);
    if (!frequency || !tries || !sleep || !timeout) source += " + CloudStack defaults";
    out_.sources["heartbeat.lease_seconds"] = source;
  }

  const Properties& props_;
  std::string_view file_;
  AgentDefaults out_;
};

}  // namespace

AgentDefaults MapAgentProperties(const Properties& props, std::string_view file) {
  return AgentMapper(props, file).Map();
}

}  // namespace hbfence
