// SPDX-License-Identifier: Apache-2.0

// src/log_format.h: logfmt and JSON records, one line each, whatever the message holds.
#include "src/log_format.h"

#include <chrono>
#include <string>

#include <gtest/gtest.h>

namespace hbfence {
namespace {

using namespace std::chrono_literals;

// 2025-05-01T12:00:00.123Z
const WallTime kTime = WallTime(std::chrono::seconds(1746100800) + 123ms);

TEST(LogFormatTest, NamesAreTheFlagsValues) {
  EXPECT_EQ(ParseLogFormat("plain"), LogFormat::kPlain);
  EXPECT_EQ(ParseLogFormat("logfmt"), LogFormat::kLogfmt);
  EXPECT_EQ(ParseLogFormat("json"), LogFormat::kJson);
  EXPECT_FALSE(ParseLogFormat("JSON"));
  EXPECT_FALSE(ParseLogFormat(""));
}

TEST(LogFormatTest, LogfmtRecord) {
  EXPECT_EQ(FormatLogRecord(LogFormat::kLogfmt, kTime, spdlog::level::info, "ready: 1 target"),
            "ts=2025-05-01T12:00:00.123Z level=info msg=\"ready: 1 target\"");
  EXPECT_EQ(FormatLogRecord(LogFormat::kLogfmt, kTime, spdlog::level::warn, "target \"a b\" failed"),
            "ts=2025-05-01T12:00:00.123Z level=warn msg=\"target \\\"a b\\\" failed\"");
}

TEST(LogFormatTest, JsonRecord) {
  EXPECT_EQ(FormatLogRecord(LogFormat::kJson, kTime, spdlog::level::critical, "fence"),
            "{\"ts\":\"2025-05-01T12:00:00.123Z\",\"level\":\"critical\",\"msg\":\"fence\"}");
  EXPECT_EQ(FormatLogRecord(LogFormat::kJson, kTime, spdlog::level::err, "x"),
            "{\"ts\":\"2025-05-01T12:00:00.123Z\",\"level\":\"error\",\"msg\":\"x\"}");
  EXPECT_EQ(FormatLogRecord(LogFormat::kJson, WallTime(std::chrono::seconds(0)), spdlog::level::debug, ""),
            "{\"ts\":\"1970-01-01T00:00:00.000Z\",\"level\":\"debug\",\"msg\":\"\"}");
}

// Paths, target names and a custom script's output may hold anything: quotes,
// backslashes, newlines, control bytes, bytes that are not UTF-8.
TEST(LogFormatTest, EverythingIsEscapedAndRecordsStayOneLine) {
  EXPECT_EQ(EscapeLogString("a\"b\\c"), "a\\\"b\\\\c");
  EXPECT_EQ(EscapeLogString("l1\nl2\r\tx"), "l1\\nl2\\r\\tx");
  EXPECT_EQ(EscapeLogString(std::string("nul\0bell\a del\x7f", 14)), "nul\\u0000bell\\u0007 del\\u007f");
  EXPECT_EQ(EscapeLogString("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"), "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
  // Not UTF-8: a lone continuation byte, a truncated sequence, an overlong '/', a
  // surrogate, beyond U+10FFFF, Latin-1.
  EXPECT_EQ(EscapeLogString("\x80"), "\\ufffd");
  EXPECT_EQ(EscapeLogString("\xe2\x82"), "\\ufffd\\ufffd");
  EXPECT_EQ(EscapeLogString("\xc0\xaf"), "\\ufffd\\ufffd");
  EXPECT_EQ(EscapeLogString("\xed\xa0\x80"), "\\ufffd\\ufffd\\ufffd");
  EXPECT_EQ(EscapeLogString("\xf4\x90\x80\x80"), "\\ufffd\\ufffd\\ufffd\\ufffd");
  EXPECT_EQ(EscapeLogString("/mnt/b\xe9"), "/mnt/b\\ufffd");
  for (const auto format : {LogFormat::kLogfmt, LogFormat::kJson}) {
    const std::string record =
        FormatLogRecord(format, kTime, spdlog::level::info, std::string("a\nb\r\0c\"\\\xff", 9));
    EXPECT_EQ(record.find_first_of(std::string("\n\r\0", 3)), std::string::npos) << record;
  }
}

}  // namespace
}  // namespace hbfence
