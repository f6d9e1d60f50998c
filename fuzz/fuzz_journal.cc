// SPDX-License-Identifier: Apache-2.0

// Fuzzes the fence journal's line format (fence/journal.h). Two properties:
//
//  1. read -> write -> read: any line ParseJsonLine accepts (a journal may be torn,
//     corrupted or hand-edited) is written back by ToJsonLine as a line that parses
//     to the same entry, and writing that again gives the same line.
//  2. write -> read: every entry the daemon can write (any strings, any wall-clock
//     time from 1970 to the end of system_clock's range) reads back as itself, with
//     the time floored to the millisecond the journal keeps.
//
//  3. the tail reader: ParseJournalText over any bytes (a journal's end, cut
//     anywhere) returns only entries that read back as themselves.
//
// All run on every input: the raw bytes are the line for (1) and the text for (3)
// and, through FuzzedDataProvider, the entry for (2).
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "fence/journal.h"
#include "fuzz/fuzz_check.h"

using namespace hbfence;

namespace {

bool Same(const JournalEntry& a, const JournalEntry& b) {
  return a.time == b.time && a.host == b.host && a.action == b.action && a.policy == b.policy &&
         a.failed_targets == b.failed_targets && a.reason == b.reason && a.domains == b.domains &&
         a.steps == b.steps;
}

void ReadWriteRead(std::string_view line) {
  const auto first = ParseJsonLine(line);
  if (!first) return;
  const std::string written = ToJsonLine(*first);
  FUZZ_CHECK(written.find('\n') == std::string::npos, "a journal line has no newline inside");
  const auto second = ParseJsonLine(written);
  FUZZ_CHECK(second.has_value(), "ToJsonLine(ParseJsonLine(x)) parses");
  FUZZ_CHECK(Same(*first, *second), "ToJsonLine(ParseJsonLine(x)) parses to the same entry");
  FUZZ_CHECK(ToJsonLine(*second) == written, "writing a parsed line again gives the same line");
}

void WriteRead(FuzzedDataProvider& in) {
  JournalEntry e;
  const int64_t ns = in.ConsumeIntegralInRange<int64_t>(0, std::numeric_limits<int64_t>::max());
  e.time = WallTime(std::chrono::nanoseconds(ns));
  e.host = in.ConsumeRandomLengthString(256);
  e.action = in.ConsumeRandomLengthString(64);
  e.policy = in.ConsumeRandomLengthString(64);
  const int targets = in.ConsumeIntegralInRange(0, 8);
  for (int i = 0; i < targets; ++i) e.failed_targets.push_back(in.ConsumeRandomLengthString(160));
  const int domains = in.ConsumeIntegralInRange(0, 4);
  for (int i = 0; i < domains; ++i) e.domains.push_back(in.ConsumeRandomLengthString(80));
  const int steps = in.ConsumeIntegralInRange(0, 4);
  for (int i = 0; i < steps; ++i) e.steps.push_back(in.ConsumeRandomLengthString(120));
  e.reason = in.ConsumeRemainingBytesAsString();

  const std::string line = ToJsonLine(e);
  FUZZ_CHECK(line.find('\n') == std::string::npos, "a journal line has no newline inside");
  const auto back = ParseJsonLine(line);
  FUZZ_CHECK(back.has_value(), "every line ToJsonLine writes parses");
  JournalEntry expected = e;
  expected.time = std::chrono::floor<std::chrono::milliseconds>(e.time);
  FUZZ_CHECK(Same(*back, expected), "ParseJsonLine(ToJsonLine(e)) == e (time to the millisecond)");
}

void TailEntriesReadBack(std::string_view text) {
  for (bool cut : {false, true}) {
    for (const auto& e : ParseJournalText(text, cut)) {
      const auto again = ParseJsonLine(ToJsonLine(e));
      FUZZ_CHECK(again.has_value() && Same(*again, e), "an entry of the tail reads back as itself");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ReadWriteRead(std::string_view(reinterpret_cast<const char*>(data), size));
  TailEntriesReadBack(std::string_view(reinterpret_cast<const char*>(data), size));
  FuzzedDataProvider in(data, size);
  WriteRead(in);
  return 0;
}
