// SPDX-License-Identifier: Apache-2.0

// How log records look on stderr: "plain" (spdlog's pattern, the default, for
// people), "logfmt" and "json" (one record per line, for log collectors, as
// Prometheus' own --log.format offers). Machine formats put the time in UTC (RFC 3339,
// milliseconds) and escape the message fully: quotes, backslashes and control
// characters escaped, invalid UTF-8 replaced by U+FFFD, so a record is always one
// line that parses.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <spdlog/common.h>

#include "src/sys/time.h"

namespace hbfence {

enum class LogFormat { kPlain, kLogfmt, kJson };

std::optional<LogFormat> ParseLogFormat(std::string_view name);

// Installs the format on every spdlog logger; safe while other threads log.
void SetLogFormat(LogFormat format);

// One machine-format record without its newline, e.g.
//   ts=2025-05-01T12:00:00.123Z level=warn msg="target \"a\" failed"
//   {"ts":"2025-05-01T12:00:00.123Z","level":"warn","msg":"target \"a\" failed"}
// Levels are the config's names: trace, debug, info, warn, error, critical.
std::string FormatLogRecord(LogFormat format, WallTime time, spdlog::level::level_enum level,
                            std::string_view message);

// "2025-05-01T12:00:00.123Z": UTC, milliseconds (rounded toward the past).
std::string Rfc3339Utc(WallTime time);

// `s` as the inside of a JSON string (also a quoted logfmt value).
std::string EscapeLogString(std::string_view s);

}  // namespace hbfence
