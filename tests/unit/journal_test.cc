// SPDX-License-Identifier: Apache-2.0

// fence/journal.h: JSON line encoding, durable append, reading the last fence back.
#include "fence/journal.h"

#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/temp_dir.h"

namespace hbfence {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::AppendFile;
using testing::ReadAll;
using testing::TempDir;
using testing::WriteFile;

// 2023-11-14T22:13:20Z
const WallTime kT{std::chrono::seconds(1700000000)};

JournalEntry Entry(std::string action, WallTime time = kT + 123ms, std::string reason = "lease expired") {
  JournalEntry e;
  e.time = time;
  e.host = "kvm-07";
  e.action = std::move(action);
  e.policy = "any";
  e.failed_targets = {"nfs-a", "nfs-b"};
  e.reason = std::move(reason);
  return e;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

// Times are compared to within the format's millisecond; the exact millisecond is
// checked by the timestamp tests below.
void ExpectSameEntry(const JournalEntry& got, const JournalEntry& want) {
  EXPECT_LT(std::chrono::abs(got.time - want.time), std::chrono::milliseconds(1));
  EXPECT_EQ(got.host, want.host);
  EXPECT_EQ(got.action, want.action);
  EXPECT_EQ(got.policy, want.policy);
  EXPECT_EQ(got.failed_targets, want.failed_targets);
  EXPECT_EQ(got.reason, want.reason);
}

// ---------------------------------------------------------------------------
// ToJsonLine / ParseJsonLine

TEST(JournalJsonTest, LineLayout) {
  const std::string line = ToJsonLine(Entry("hard-reboot"));
  EXPECT_EQ(line,
            "{\"time\":\"2023-11-14T22:13:20.123Z\",\"timestamp_seconds\":1700000000.123,\"host\":\"kvm-07\","
            "\"action\":\"hard-reboot\",\"policy\":\"any\",\"failed_targets\":[\"nfs-a\",\"nfs-b\"],"
            "\"reason\":\"lease expired\"}");
  EXPECT_EQ(line.find('\n'), std::string::npos);
}

TEST(JournalJsonTest, EmptyTargetList) {
  JournalEntry e = Entry("log-only");
  e.failed_targets.clear();
  const std::string line = ToJsonLine(e);
  EXPECT_THAT(line, HasSubstr("\"failed_targets\":[]"));
  const auto back = ParseJsonLine(line);
  ASSERT_TRUE(back.has_value());
  EXPECT_TRUE(back->failed_targets.empty());
}

TEST(JournalJsonTest, RoundTripPlain) {
  const JournalEntry e = Entry("graceful-reboot");
  const auto back = ParseJsonLine(ToJsonLine(e));
  ASSERT_TRUE(back.has_value());
  ExpectSameEntry(*back, e);
}

TEST(JournalJsonTest, RoundTripEscapes) {
  JournalEntry e = Entry("custom");
  e.host = "host \"quoted\" \\ back";
  e.reason = std::string("quote \" backslash \\ slash / newline \n tab \t cr \r bell \a nul-free \x01\x1f del \x7f end");
  e.failed_targets = {"a\"b", "c\\d", "line1\nline2", "\x02" "ctl", ""};
  e.policy = "quorum";
  const std::string line = ToJsonLine(e);
  EXPECT_EQ(line.find('\n'), std::string::npos) << "a newline would split the record";
  EXPECT_EQ(line.find('\r'), std::string::npos);
  EXPECT_EQ(line.find('\x01'), std::string::npos);
  EXPECT_THAT(line, HasSubstr("\\u0001"));
  EXPECT_THAT(line, HasSubstr("\\u001f"));
  EXPECT_THAT(line, HasSubstr("\\\""));
  EXPECT_THAT(line, HasSubstr("\\\\"));
  EXPECT_THAT(line, HasSubstr("\\n"));
  EXPECT_THAT(line, HasSubstr("\\t"));
  const auto back = ParseJsonLine(line);
  ASSERT_TRUE(back.has_value()) << line;
  ExpectSameEntry(*back, e);
}

TEST(JournalJsonTest, RoundTripNonAsciiUtf8) {
  JournalEntry e = Entry("restart-agent");
  e.host = "hôte-07";
  e.reason = "stockage indisponible: délai dépassé — 日本語 ✓ 🚨";
  e.failed_targets = {"nfs-é", "目标", "🗄️"};
  const std::string line = ToJsonLine(e);
  EXPECT_THAT(line, HasSubstr("délai"));  // written as UTF-8, not escaped
  const auto back = ParseJsonLine(line);
  ASSERT_TRUE(back.has_value()) << line;
  ExpectSameEntry(*back, e);
}

TEST(JournalJsonTest, EveryControlCharacterRoundTrips) {
  std::string all;
  for (int c = 1; c < 0x20; ++c) all += static_cast<char>(c);
  JournalEntry e = Entry("log-only", kT, all);
  e.failed_targets = {all};
  const std::string line = ToJsonLine(e);
  for (int c = 0; c < 0x20; ++c) EXPECT_EQ(line.find(static_cast<char>(c)), std::string::npos) << c;
  const auto back = ParseJsonLine(line);
  ASSERT_TRUE(back.has_value()) << line;
  EXPECT_EQ(back->reason, all);
  EXPECT_THAT(back->failed_targets, ElementsAre(all));
}

TEST(JournalJsonTest, NulRoundTrips) {
  const std::string with_nul("before\0after", 12);
  JournalEntry e = Entry("custom", kT, with_nul);
  const std::string line = ToJsonLine(e);
  EXPECT_EQ(line.find('\0'), std::string::npos);
  EXPECT_THAT(line, HasSubstr("before\\u0000after"));
  const auto back = ParseJsonLine(line);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->reason, with_nul);
}

TEST(JournalJsonTest, TimestampKeepsMilliseconds) {
  const JournalEntry e = Entry("hard-reboot", kT + 7ms);
  const std::string line = ToJsonLine(e);
  EXPECT_THAT(line, HasSubstr("\"time\":\"2023-11-14T22:13:20.007Z\""));
  EXPECT_THAT(line, HasSubstr("\"timestamp_seconds\":1700000000.007,"));
  const auto back = ParseJsonLine(line);
  ASSERT_TRUE(back.has_value());
  const auto ms = std::chrono::round<std::chrono::milliseconds>(back->time);
  EXPECT_EQ(ms.time_since_epoch().count(), 1700000000007);
  EXPECT_LT(std::chrono::abs(back->time - e.time), 1ms);
}

// Parsing a line and writing it again must give the same line: the journal is
// copied, forwarded and re-emitted, and a record must not drift a millisecond each time.
// Regression (was a bug, fence/journal.cc:191, ParseJsonLine): the double timestamp_seconds is
// converted with duration_cast, which truncates; 1700000000.123 as a double is
// 1700000000.12299990654 s, so the parsed time is 22:13:20.122999906 and re-encodes as
// "…20.122Z". Fix: std::chrono::round<std::chrono::milliseconds>(duration<double>(secs))
// (the format's precision is ms), then convert to WallTime::duration.
TEST(JournalJsonTest, ReencodingAParsedLineIsStable) {
  for (int ms : {0, 1, 7, 99, 123, 500, 998, 999}) {
    const std::string line = ToJsonLine(Entry("hard-reboot", kT + std::chrono::milliseconds(ms)));
    const auto back = ParseJsonLine(line);
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(ToJsonLine(*back), line) << ms << " ms";
    EXPECT_EQ(std::chrono::floor<std::chrono::milliseconds>(back->time),
              std::chrono::floor<std::chrono::milliseconds>(kT + std::chrono::milliseconds(ms)))
        << ms << " ms";
  }
}

// Both time fields of one record must name the same millisecond.
// Regression (was a bug, fence/journal.cc:44 vs :164): Iso8601() truncates to the millisecond while
// timestamp_seconds uses "%.3f", which rounds; a time of …20.9996 s is written as
// "time":"…20.999Z" but "timestamp_seconds":1700000001.000. Fix: truncate once
// (floor to ms) and format both fields from that value.
TEST(JournalJsonTest, TimeFieldsAgreeForSubMillisecondTimes) {
  const std::string line = ToJsonLine(Entry("hard-reboot", kT + 999ms + 600us));
  EXPECT_THAT(line, HasSubstr("\"time\":\"2023-11-14T22:13:20.999Z\""));
  EXPECT_THAT(line, HasSubstr("\"timestamp_seconds\":1700000000.999,"));
}

TEST(JournalJsonTest, ParseRejectsWhatItDidNotWrite) {
  const std::string good = ToJsonLine(Entry("hard-reboot"));
  EXPECT_FALSE(ParseJsonLine("").has_value());
  EXPECT_FALSE(ParseJsonLine("not json").has_value());
  EXPECT_FALSE(ParseJsonLine("{}").has_value());  // no action, no timestamp
  EXPECT_FALSE(ParseJsonLine("{\"action\":\"hard-reboot\"}").has_value());
  EXPECT_FALSE(ParseJsonLine("{\"timestamp_seconds\":1700000000.5}").has_value());
  EXPECT_FALSE(ParseJsonLine("{\"timestamp_seconds\":\"x\",\"action\":\"hard-reboot\"}").has_value());
  EXPECT_FALSE(ParseJsonLine(good + "x").has_value());
  EXPECT_FALSE(ParseJsonLine(good + "{}").has_value());
  EXPECT_FALSE(ParseJsonLine("{\"timestamp_seconds\":1,\"action\":true}").has_value());
  // Every strict prefix of a line (a torn write) is rejected.
  for (size_t n = 0; n < good.size(); ++n) {
    EXPECT_FALSE(ParseJsonLine(std::string_view(good).substr(0, n)).has_value()) << n;
  }
}

TEST(JournalJsonTest, ParseToleratesSpacesAndFieldOrder) {
  const auto e = ParseJsonLine(
      " { \"reason\" : \"r\" , \"action\" : \"custom\" , \"timestamp_seconds\" : 1700000000.5 ,"
      " \"failed_targets\" : [ \"a\" , \"b\" ] , \"host\" : \"h\" }");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->action, "custom");
  EXPECT_EQ(e->host, "h");
  EXPECT_EQ(e->reason, "r");
  EXPECT_THAT(e->failed_targets, ElementsAre("a", "b"));
  EXPECT_EQ(e->time, kT + 500ms);
}

// ---------------------------------------------------------------------------
// AppendJournalEntry and ReadJournalTail on a real directory

constexpr uint64_t kRotate = 1 << 20;

Status Append(const std::filesystem::path& path, const JournalEntry& e) { return AppendJournalEntry(path, e, kRotate); }

// The newest fence, as the daemon reads it at start an hour after kT.
std::optional<JournalEntry> LastFence(const std::filesystem::path& path) {
  return ReadJournalTail(path, kT + 1h, kJournalWindow, kRotate).last_fence;
}

TEST(JournalFileTest, AppendCreatesMissingParentDirectories) {
  TempDir dir;
  const auto path = dir / "var/lib/hbfence/fence-journal.jsonl";
  const auto st = Append(path, Entry("hard-reboot"));
  ASSERT_TRUE(st.ok()) << st.error();
  EXPECT_TRUE(std::filesystem::is_directory(dir / "var/lib/hbfence"));
  EXPECT_EQ(ReadAll(path), ToJsonLine(Entry("hard-reboot")) + "\n");
}

TEST(JournalFileTest, JournalIsNotWorldReadable) {
  TempDir dir;
  const auto path = dir / "j.jsonl";
  ASSERT_TRUE(Append(path, Entry("hard-reboot")).ok());
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0137, 0u) << std::oct << (st.st_mode & 0777);  // at most rw-r-----
}

TEST(JournalFileTest, AppendAddsOneLinePerCall) {
  TempDir dir;
  const auto path = dir / "j.jsonl";
  const JournalEntry a = Entry("hard-reboot", kT + 1s);
  const JournalEntry b = Entry("log-only", kT + 2s, "second");
  const JournalEntry c = Entry("restart-agent", kT + 3s, "third\nwith newline");
  ASSERT_TRUE(Append(path, a).ok());
  ASSERT_TRUE(Append(path, b).ok());
  ASSERT_TRUE(Append(path, c).ok());
  const std::string text = ReadAll(path);
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n');
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 3);
  EXPECT_THAT(Lines(text), ElementsAre(ToJsonLine(a), ToJsonLine(b), ToJsonLine(c)));
}

TEST(JournalFileTest, AppendKeepsExistingContent) {
  TempDir dir;
  const auto path = dir / "j.jsonl";
  const std::string old = ToJsonLine(Entry("custom", kT)) + "\n";
  WriteFile(path, old);
  ASSERT_TRUE(Append(path, Entry("hard-reboot", kT + 1s)).ok());
  EXPECT_EQ(ReadAll(path), old + ToJsonLine(Entry("hard-reboot", kT + 1s)) + "\n");
}

TEST(JournalFileTest, AppendFailsWhenTheParentIsAFile) {
  TempDir dir;
  WriteFile(dir / "blocker", "x");
  const auto st = Append(dir / "blocker/sub/j.jsonl", Entry("hard-reboot"));
  ASSERT_FALSE(st.ok());
  EXPECT_THAT(st.error(), HasSubstr("mkdir"));
  EXPECT_THAT(st.error(), HasSubstr("blocker"));
}

TEST(JournalFileTest, AppendFailsWhenThePathIsADirectory) {
  TempDir dir;
  std::filesystem::create_directories(dir / "j.jsonl");
  const auto st = Append(dir / "j.jsonl", Entry("hard-reboot"));
  ASSERT_FALSE(st.ok());
  EXPECT_THAT(st.error(), HasSubstr("open"));
}

TEST(JournalFileTest, LastFenceMissingFile) {
  TempDir dir;
  EXPECT_FALSE(LastFence(dir / "absent.jsonl").has_value());
  EXPECT_FALSE(LastFence(dir / "no/such/dir/j.jsonl").has_value());
}

TEST(JournalFileTest, LastFenceEmptyFile) {
  TempDir dir;
  WriteFile(dir / "j.jsonl", "");
  EXPECT_FALSE(LastFence(dir / "j.jsonl").has_value());
}

TEST(JournalFileTest, LastFenceSkipsLogOnly) {
  TempDir dir;
  const auto path = dir / "j.jsonl";
  ASSERT_TRUE(Append(path, Entry("hard-reboot", kT + 1s, "first")).ok());
  ASSERT_TRUE(Append(path, Entry("restart-agent", kT + 2s, "second")).ok());
  ASSERT_TRUE(Append(path, Entry("log-only", kT + 3s, "third")).ok());
  ASSERT_TRUE(Append(path, Entry("log-only", kT + 4s, "fourth")).ok());
  const auto last = LastFence(path);
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(last->action, "restart-agent");
  EXPECT_EQ(last->reason, "second");
  EXPECT_EQ(std::chrono::round<std::chrono::seconds>(last->time), kT + 2s);
}

TEST(JournalFileTest, LastFenceReturnsTheNewest) {
  TempDir dir;
  const auto path = dir / "j.jsonl";
  for (const char* action : {"hard-reboot", "graceful-reboot", "custom"}) ASSERT_TRUE(Append(path, Entry(action)).ok());
  const auto last = LastFence(path);
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(last->action, "custom");
  EXPECT_EQ(last->host, "kvm-07");
  EXPECT_THAT(last->failed_targets, ElementsAre("nfs-a", "nfs-b"));
}

TEST(JournalFileTest, LastFenceOnlyLogOnlyIsNullopt) {
  TempDir dir;
  const auto path = dir / "j.jsonl";
  ASSERT_TRUE(Append(path, Entry("log-only")).ok());
  ASSERT_TRUE(Append(path, Entry("log-only")).ok());
  EXPECT_FALSE(LastFence(path).has_value());
}

TEST(JournalFileTest, LastFenceSkipsATornFinalLine) {
  TempDir dir;
  const auto path = dir / "j.jsonl";
  ASSERT_TRUE(Append(path, Entry("graceful-reboot", kT + 1s, "complete")).ok());
  // A crash mid-append: half a line and no newline.
  const std::string torn = ToJsonLine(Entry("hard-reboot", kT + 2s, "torn"));
  AppendFile(path, torn.substr(0, torn.size() / 2));
  const auto last = LastFence(path);
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(last->action, "graceful-reboot");
  EXPECT_EQ(last->reason, "complete");
}

TEST(JournalFileTest, LastFenceSkipsGarbageLines) {
  TempDir dir;
  const auto path = dir / "j.jsonl";
  WriteFile(path, ToJsonLine(Entry("custom", kT, "good")) + "\n\nnot json\n{\"action\":\"hard-reboot\"}\n");
  const auto last = LastFence(path);
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(last->reason, "good");
}

// After a crash mid-append the daemon restarts and appends again. The new record must
// be readable: it is the one that stops a reboot loop.
// Regression (was a bug, fence/journal.cc:204-207, Journal::Append): the new line is appended right
// after the torn bytes, so the torn fragment and the new record form one unparseable
// line and LastFence() returns the older fence (or nullopt). Fix: before writing,
// if the file is non-empty and its last byte is not '\n', write a '\n' first (e.g.
// pread the last byte after open, or always prefix the line with '\n' when
// lseek(fd, 0, SEEK_END) > 0 and that byte is not '\n').
TEST(JournalFileTest, AppendAfterATornLineIsReadable) {
  TempDir dir;
  const auto path = dir / "j.jsonl";
  ASSERT_TRUE(Append(path, Entry("graceful-reboot", kT + 1s, "older")).ok());
  const std::string torn = ToJsonLine(Entry("hard-reboot", kT + 2s, "torn"));
  AppendFile(path, torn.substr(0, 40));
  ASSERT_TRUE(Append(path, Entry("restart-agent", kT + 3s, "after restart")).ok());
  const auto last = LastFence(path);
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(last->reason, "after restart");
}


TEST(JournalFileTest, AppendRefusesAFifoWithoutBlocking) {
  TempDir dir;
  ASSERT_EQ(::mkfifo((dir / "j.jsonl").c_str(), 0600), 0);
  // Nobody reads the FIFO: a blocking open or write would hang here.
  const auto st = Append(dir / "j.jsonl", Entry("hard-reboot"));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error(), (dir / "j.jsonl").string() + " is a FIFO, not a regular file");
}

TEST(JournalFileTest, AppendRotatesAtTheBound) {
  TempDir dir;
  const auto path = dir / "j.jsonl";
  const std::string line = ToJsonLine(Entry("hard-reboot", kT, "old")) + "\n";
  ASSERT_TRUE(AppendJournalEntry(path, Entry("hard-reboot", kT, "old"), 4096).ok());
  // Below the bound: appended in place.
  ASSERT_TRUE(AppendJournalEntry(path, Entry("hard-reboot", kT, "old"), 4096).ok());
  EXPECT_FALSE(std::filesystem::exists(dir / "j.jsonl.1"));
  AppendFile(path, std::string(4096, '#') + "\n");
  // At the bound: the journal moves to .1 and the entry starts a new one.
  ASSERT_TRUE(AppendJournalEntry(path, Entry("custom", kT + 1s, "new"), 4096).ok());
  EXPECT_EQ(ReadAll(path), ToJsonLine(Entry("custom", kT + 1s, "new")) + "\n");
  EXPECT_EQ(ReadAll(dir / "j.jsonl.1"), line + line + std::string(4096, '#') + "\n");
  // A second rotation replaces the previous .1.
  AppendFile(path, std::string(4096, '#') + "\n");
  ASSERT_TRUE(AppendJournalEntry(path, Entry("custom", kT + 2s, "newest"), 4096).ok());
  const std::string rotated_first = ToJsonLine(Entry("custom", kT + 1s, "new")) + "\n";
  EXPECT_EQ(ReadAll(dir / "j.jsonl.1").substr(0, rotated_first.size()), rotated_first);
}

TEST(JournalTailTest, MissingJournalIsNoProblem) {
  TempDir dir;
  const auto tail = ReadJournalTail(dir / "absent.jsonl", kT, kJournalWindow, kRotate);
  EXPECT_TRUE(tail.recent.empty());
  EXPECT_FALSE(tail.last_fence);
  EXPECT_EQ(tail.problem, "");
}

TEST(JournalTailTest, FifoIsReportedNotWaitedFor) {
  TempDir dir;
  ASSERT_EQ(::mkfifo((dir / "j.jsonl").c_str(), 0600), 0);
  const auto tail = ReadJournalTail(dir / "j.jsonl", kT, kJournalWindow, kRotate);
  EXPECT_EQ(tail.problem, (dir / "j.jsonl").string() + " is a FIFO, not a regular file");
}

TEST(JournalTailTest, RecentHoldsThePastHourOnly) {
  TempDir dir;
  const auto path = dir / "j.jsonl";
  for (auto age : {90min, 61min, 59min, 1min}) {
    ASSERT_TRUE(Append(path, Entry("restart-agent", kT - age, "x")).ok());
  }
  const auto tail = ReadJournalTail(path, kT, kJournalWindow, kRotate);
  ASSERT_EQ(tail.recent.size(), 2u);
  EXPECT_EQ(tail.recent[0].time, kT - 59min);
  EXPECT_EQ(tail.recent[1].time, kT - 1min);
  ASSERT_TRUE(tail.last_fence);
  EXPECT_EQ(tail.last_fence->time, kT - 1min);
}

// The clock was stepped back a day after three reboots: those entries are in the
// future and must neither count toward the limits nor pose as the last fence.
TEST(JournalTailTest, EntriesFromTheFutureCountForNothing) {
  std::vector<JournalEntry> entries{Entry("hard-reboot", kT - 2h, "real"), Entry("hard-reboot", kT + 24h),
                                    Entry("hard-reboot", kT + 24h + 1s), Entry("hard-reboot", kT + 24h + 2s)};
  const auto tail = SummarizeJournal(entries, kT, kJournalWindow);
  EXPECT_TRUE(tail.recent.empty());
  EXPECT_EQ(tail.future_entries, 3u);
  ASSERT_TRUE(tail.last_fence);
  EXPECT_EQ(tail.last_fence->reason, "real");
}

// A journal grown to any size is read from its end only: an entry further back
// than the bound is never seen (a whole read would find this "last fence").
TEST(JournalTailTest, AHugeJournalIsReadFromItsEndOnly) {
  TempDir dir;
  const auto path = dir / "j.jsonl";
  std::string text = ToJsonLine(Entry("hard-reboot", kT - 10min, "beyond the bound")) + "\n";
  const std::string filler = ToJsonLine(Entry("log-only", kT - 3h, "filler")) + "\n";
  while (text.size() < 3 * kRotate) text += filler;
  text += ToJsonLine(Entry("log-only", kT - 5min, "recent")) + "\n";
  WriteFile(path, text);
  const auto tail = ReadJournalTail(path, kT, kJournalWindow, kRotate);
  EXPECT_EQ(tail.problem, "");
  EXPECT_FALSE(tail.last_fence) << tail.last_fence->reason;
  ASSERT_EQ(tail.recent.size(), 1u);
  EXPECT_EQ(tail.recent[0].reason, "recent");
}

TEST(JournalTailTest, TheRotatedJournalIsReadWhileTheWindowReachesIntoIt) {
  TempDir dir;
  const auto path = dir / "j.jsonl";
  WriteFile(dir / "j.jsonl.1", ToJsonLine(Entry("hard-reboot", kT - 30min, "before rotation")) + "\n");
  WriteFile(path, ToJsonLine(Entry("log-only", kT - 10min, "after rotation")) + "\n");
  const auto tail = ReadJournalTail(path, kT, kJournalWindow, kRotate);
  ASSERT_EQ(tail.recent.size(), 2u);
  EXPECT_EQ(tail.recent[0].reason, "before rotation");
  ASSERT_TRUE(tail.last_fence);
  EXPECT_EQ(tail.last_fence->reason, "before rotation");
}

TEST(JournalTailTest, ACutFirstLineIsSkipped) {
  const std::string a = ToJsonLine(Entry("custom", kT, "a"));
  const std::string b = ToJsonLine(Entry("custom", kT, "b"));
  EXPECT_EQ(ParseJournalText(a + "\n" + b + "\n", false).size(), 2u);
  // The tail of a file may start inside a line that would parse on its own.
  const auto cut = ParseJournalText(a + "\n" + b + "\n", true);
  ASSERT_EQ(cut.size(), 1u);
  EXPECT_EQ(cut[0].reason, "b");
  EXPECT_TRUE(ParseJournalText(a, true).empty());
}

}  // namespace
}  // namespace hbfence

namespace hbfence {
namespace {

TEST(JournalFuzzRegressionTest, TimestampsOutsideTheClockRangeAreRejected) {
  EXPECT_FALSE(ParseJsonLine(R"({"timestamp_seconds":9300000000,"action":""})"));
  EXPECT_FALSE(ParseJsonLine(R"({"timestamp_seconds":-.1,"action":""})"));
  EXPECT_FALSE(ParseJsonLine(R"({"timestamp_seconds":1e300,"action":""})"));
  EXPECT_TRUE(ParseJsonLine(R"({"timestamp_seconds":1795000000.5,"action":"log-only"})"));
}

}  // namespace
}  // namespace hbfence
