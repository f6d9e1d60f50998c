// SPDX-License-Identifier: Apache-2.0

#include "src/log_format.h"

#include <cstdio>
#include <ctime>
#include <memory>

#include <spdlog/formatter.h>
#include <spdlog/spdlog.h>

namespace hbfence {
namespace {

// The pattern hbfence has always logged with.
constexpr char kPlainPattern[] = "%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %v";

std::string_view LevelName(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace: return "trace";
    case spdlog::level::debug: return "debug";
    case spdlog::level::info: return "info";
    case spdlog::level::warn: return "warn";
    case spdlog::level::err: return "error";
    case spdlog::level::critical: return "critical";
    default: return "off";
  }
}


// The length of the well-formed UTF-8 sequence at s[i] (RFC 3629: no overlong
// forms, no surrogates, nothing above U+10FFFF), or 0.
size_t Utf8Length(std::string_view s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // the range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return n;
}

class MachineFormatter final : public spdlog::formatter {
 public:
  explicit MachineFormatter(LogFormat format) : format_(format) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const std::string line =
        FormatLogRecord(format_, std::chrono::time_point_cast<WallTime::duration>(msg.time), msg.level,
                        std::string_view(msg.payload.data(), msg.payload.size())) +
        "\n";
    dest.append(line.data(), line.data() + line.size());
  }

  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<MachineFormatter>(format_); }

 private:
  const LogFormat format_;
};

}  // namespace

std::optional<LogFormat> ParseLogFormat(std::string_view name) {
  if (name == "plain") return LogFormat::kPlain;
  if (name == "logfmt") return LogFormat::kLogfmt;
  if (name == "json") return LogFormat::kJson;
  return std::nullopt;
}

void SetLogFormat(LogFormat format) {
  if (format == LogFormat::kPlain) {
    spdlog::set_pattern(kPlainPattern);
  } else {
    spdlog::set_formatter(std::make_unique<MachineFormatter>(format));
  }
}

std::string Rfc3339Utc(WallTime time) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[96];  // room for any int, as the compiler counts
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms - static_cast<int64_t>(seconds) * 1000));
  return buf;
}

std::string EscapeLogString(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      if (const size_t n = Utf8Length(s, i); n > 0) {
        out.append(s.substr(i, n));
        i += n;
      } else {
        out += "\\ufffd";  // one replacement per byte that starts no valid sequence
        ++i;
      }
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  return out;
}

std::string FormatLogRecord(LogFormat format, WallTime time, spdlog::level::level_enum level,
                            std::string_view message) {
  const std::string ts = Rfc3339Utc(time);
  const std::string_view name = LevelName(level);
  if (format == LogFormat::kJson) {
    return "{\"ts\":\"" + ts + "\",\"level\":\"" + std::string(name) + "\",\"msg\":\"" + EscapeLogString(message) +
           "\"}";
  }
  return "ts=" + ts + " level=" + std::string(name) + " msg=\"" + EscapeLogString(message) + "\"";
}

}  // namespace hbfence
