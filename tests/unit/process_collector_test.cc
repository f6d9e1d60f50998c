// SPDX-License-Identifier: Apache-2.0

// metrics/process_collector.h: process_* metrics read from a proc tree. Most tests
// use a fixture tree in a scratch directory; one reads the real /proc.
#include "metrics/process_collector.h"

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <typeinfo>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/metric_family.h>

#include "tests/support/temp_dir.h"

namespace hbfence {
namespace {

using testing::TempDir;
using testing::WriteFile;

constexpr long kTicks = 100;
constexpr long kPage = 4096;

// Fields 3… after the comm. utime=250 stime=150 starttime=123456 vsize=987654321 rss=2048.
constexpr char kStatTail[] =
    "S 1 1234 1234 0 -1 4194560 1000 0 2 0 250 150 0 0 20 0 7 0 123456 987654321 2048 "
    "18446744073709551615 1 1 0 0 0 0 0 4096 16384 0 0 0 17 1 0 0 0 0 0\n";

constexpr char kSysStat[] =
    "cpu  39847 0 14935 521766 859 0 118 52 0 0\n"
    "cpu0 17732 0 6882 264044 114 0 33 27 0 0\n"
    "intr 123 0 0\n"
    "ctxt 456\n"
    "btime 1700000000\n"
    "processes 7890\n"
    "procs_running 1\n";

// What ProcessCollector does: boot time (read once in the collector), then the
// per-scrape stats.
std::optional<ProcessStats> ReadStats(const std::filesystem::path& root, long ticks, long page_size) {
  const auto boot = ReadBootTime(root);
  if (!boot) return std::nullopt;
  return ReadProcessStats(root, ticks, page_size, *boot);
}

// A fixture proc tree: <root>/stat, <root>/self/{stat,fd/0..2}.
class ProcFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_.path() / "proc";
    WriteFile(root_ / "stat", kSysStat);
    WriteFile(root_ / "self" / "stat", std::string("1234 (hb fence) x) ") + kStatTail);
    std::filesystem::create_directories(root_ / "self" / "fd");
    // Like the real thing: symlinks, one of them dangling ("socket:[…]").
    std::filesystem::create_symlink("/dev/null", root_ / "self" / "fd" / "0");
    std::filesystem::create_symlink("socket:[4242]", root_ / "self" / "fd" / "1");
    WriteFile(root_ / "self" / "fd" / "2", "");
  }

  void SetSelfStat(const std::string& text) { WriteFile(root_ / "self" / "stat", text); }

  TempDir dir_;
  std::filesystem::path root_;
};

TEST_F(ProcFixture, ReadsEveryValue) {
  const auto s = ReadStats(root_, kTicks, kPage);
  ASSERT_TRUE(s.has_value());
  EXPECT_DOUBLE_EQ(s->cpu_seconds, (250.0 + 150.0) / kTicks);
  EXPECT_DOUBLE_EQ(s->start_time_seconds, 1700000000.0 + 123456.0 / kTicks);
  EXPECT_DOUBLE_EQ(s->resident_bytes, 2048.0 * kPage);
  EXPECT_DOUBLE_EQ(s->virtual_bytes, 987654321.0);
  EXPECT_DOUBLE_EQ(s->open_fds, 3);
}

TEST_F(ProcFixture, UsesTheGivenTicksAndPageSize) {
  const auto s = ReadStats(root_, 250, 16384);
  ASSERT_TRUE(s.has_value());
  EXPECT_DOUBLE_EQ(s->cpu_seconds, 400.0 / 250);
  EXPECT_DOUBLE_EQ(s->start_time_seconds, 1700000000.0 + 123456.0 / 250);
  EXPECT_DOUBLE_EQ(s->resident_bytes, 2048.0 * 16384);
}

TEST_F(ProcFixture, CommWithoutSpecialCharacters) {
  SetSelfStat(std::string("1234 (hbfence) ") + kStatTail);
  const auto s = ReadStats(root_, kTicks, kPage);
  ASSERT_TRUE(s.has_value());
  EXPECT_DOUBLE_EQ(s->cpu_seconds, 4.0);
  EXPECT_DOUBLE_EQ(s->virtual_bytes, 987654321.0);
}

TEST_F(ProcFixture, CommThatLooksLikeFields) {
  // A hostile name full of numbers and parentheses must not shift the fields.
  SetSelfStat(std::string("1234 (1 2 3) (4) 5 6) ") + kStatTail);
  const auto s = ReadStats(root_, kTicks, kPage);
  ASSERT_TRUE(s.has_value());
  EXPECT_DOUBLE_EQ(s->cpu_seconds, 4.0);
  EXPECT_DOUBLE_EQ(s->resident_bytes, 2048.0 * kPage);
}

TEST_F(ProcFixture, OpenFdsCountsEntries) {
  std::filesystem::remove(root_ / "self" / "fd" / "2");
  auto s = ReadStats(root_, kTicks, kPage);
  ASSERT_TRUE(s.has_value());
  EXPECT_DOUBLE_EQ(s->open_fds, 2);
  for (int i = 3; i < 10; ++i) {
    std::filesystem::create_symlink("/dev/null", root_ / "self" / "fd" / std::to_string(i));
  }
  s = ReadStats(root_, kTicks, kPage);
  ASSERT_TRUE(s.has_value());
  EXPECT_DOUBLE_EQ(s->open_fds, 9);
}

TEST_F(ProcFixture, MissingFdDirGivesZero) {
  std::filesystem::remove_all(root_ / "self" / "fd");
  const auto s = ReadStats(root_, kTicks, kPage);
  ASSERT_TRUE(s.has_value());
  EXPECT_DOUBLE_EQ(s->open_fds, 0);
  EXPECT_DOUBLE_EQ(s->cpu_seconds, 4.0);
}

TEST_F(ProcFixture, MissingStatFilesGiveNullopt) {
  {
    TempDir empty;
    EXPECT_FALSE(ReadStats(empty.path(), kTicks, kPage).has_value());
  }
  std::filesystem::remove(root_ / "stat");
  EXPECT_FALSE(ReadStats(root_, kTicks, kPage).has_value());
  WriteFile(root_ / "stat", kSysStat);
  std::filesystem::remove(root_ / "self" / "stat");
  EXPECT_FALSE(ReadStats(root_, kTicks, kPage).has_value());
}

TEST_F(ProcFixture, MalformedSelfStatGivesNullopt) {
  for (const std::string& bad : {
           std::string(""),
           std::string("\n"),
           std::string("1234 hbfence S 1 2 3\n"),                 // no ')'
           std::string("1234 (hbfence) S 1 1234 1234 0 -1\n"),    // too few fields
           std::string("1234 (hbfence) S 1 1234 1234 0 -1 4194560 1000 0 2 0 x y 0 0 20 0 7 0 123456 "
                       "987654321 2048 0\n"),                       // utime/stime not numbers
           std::string("1234 (hbfence) S 1 1234 1234 0 -1 4194560 1000 0 2 0 250 150 0 0 20 0 7 0 abc "
                       "987654321 2048 0\n"),                       // starttime not a number
           std::string("1234 (hbfence)\n"),                         // nothing after the comm
       }) {
    SetSelfStat(bad);
    std::optional<ProcessStats> s;
    EXPECT_NO_THROW(s = ReadStats(root_, kTicks, kPage)) << '"' << bad << '"';
    EXPECT_FALSE(s.has_value()) << '"' << bad << '"';
  }
}

// Runs ReadProcessStats and turns an escaping exception into a test failure.
std::optional<ProcessStats> ReadNoThrow(const std::filesystem::path& root) {
  try {
    return ReadStats(root, kTicks, kPage);
  } catch (const std::exception& e) {
    ADD_FAILURE() << "ReadProcessStats threw " << typeid(e).name() << ": " << e.what();
    return std::nullopt;
  }
}

// Regression (was a bug, metrics/process_collector.cc:45): when ')' is the last byte of the file
// (no trailing newline), `stat->substr(close + 2)` starts past the end and throws
// std::out_of_range, which escapes ReadProcessStats and, through Collect(), the HTTP
// handler. Fix: `if (close + 2 > stat->size()) return std::nullopt;` before substr.
TEST_F(ProcFixture, StatEndingAtTheCommGivesNulloptNotAnException) {
  SetSelfStat("1234 (hbfence)");
  EXPECT_FALSE(ReadNoThrow(root_).has_value());
}

// Regression (was a bug, metrics/process_collector.cc:53): the btime value is parsed with std::stod
// outside the try block, so a malformed "btime" line throws std::invalid_argument out
// of ReadProcessStats instead of giving nullopt. Fix: parse inside the try (or with
// std::from_chars) and return nullopt on failure.
TEST_F(ProcFixture, MalformedBtimeGivesNulloptNotAnException) {
  WriteFile(root_ / "stat", "cpu  1 2 3\nbtime garbage\n");
  EXPECT_FALSE(ReadNoThrow(root_).has_value());
}

// Regression (was a bug, metrics/process_collector.cc:50-54): without a "btime" line in <root>/stat
// the boot time silently defaults to 0, so process_start_time_seconds becomes seconds
// since boot (here 1234.56, i.e. 1970) instead of a Unix time. The header promises
// nullopt for malformed stat files. Fix: track whether btime was found and return
// std::nullopt if not.
TEST_F(ProcFixture, MissingBtimeGivesNullopt) {
  WriteFile(root_ / "stat", "cpu  1 2 3\nctxt 456\n");
  EXPECT_FALSE(ReadNoThrow(root_).has_value());
}

TEST_F(ProcFixture, CollectExportsTheSixStandardFamilies) {
  const ProcessCollector collector(root_);
  const auto families = collector.Collect();
  std::map<std::string, const prometheus::MetricFamily*> by_name;
  for (const auto& f : families) by_name[f.name] = &f;
  ASSERT_EQ(by_name.size(), 6u);
  auto value = [&](const std::string& name) {
    const auto* f = by_name.at(name);
    EXPECT_EQ(f->metric.size(), 1u) << name;
    return f->type == prometheus::MetricType::Counter ? f->metric.at(0).counter.value : f->metric.at(0).gauge.value;
  };
  EXPECT_EQ(by_name.at("process_cpu_seconds_total")->type, prometheus::MetricType::Counter);
  EXPECT_EQ(by_name.at("process_open_fds")->type, prometheus::MetricType::Gauge);
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  EXPECT_DOUBLE_EQ(value("process_cpu_seconds_total"), 400.0 / ticks);
  EXPECT_DOUBLE_EQ(value("process_resident_memory_bytes"), 2048.0 * page);
  EXPECT_DOUBLE_EQ(value("process_virtual_memory_bytes"), 987654321.0);
  EXPECT_DOUBLE_EQ(value("process_open_fds"), 3);
  rlimit limit{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &limit), 0);
  EXPECT_DOUBLE_EQ(value("process_max_fds"), limit.rlim_cur == RLIM_INFINITY ? 0 : static_cast<double>(limit.rlim_cur));
  EXPECT_DOUBLE_EQ(value("process_start_time_seconds"), 1700000000.0 + 123456.0 / ticks);
}

TEST_F(ProcFixture, ScrapesCloseTogetherShareOneReading) {
  auto cpu = [](const std::vector<prometheus::MetricFamily>& families) {
    for (const auto& f : families) {
      if (f.name == "process_cpu_seconds_total") return f.metric.at(0).counter.value;
    }
    return -1.0;
  };
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const ProcessCollector reusing(root_, std::chrono::hours(1));
  const ProcessCollector fresh(root_, std::chrono::seconds(0));
  EXPECT_DOUBLE_EQ(cpu(reusing.Collect()), 400.0 / ticks);
  SetSelfStat(std::string("1234 (hb fence) x) ") + std::string(kStatTail).replace(std::string(kStatTail).find(" 250 150 "), 9, " 500 300 "));
  EXPECT_DOUBLE_EQ(cpu(reusing.Collect()), 400.0 / ticks) << "within reuse_for: the earlier reading";
  EXPECT_DOUBLE_EQ(cpu(fresh.Collect()), 800.0 / ticks);
}

TEST_F(ProcFixture, CollectIsEmptyWhenUnreadable) {
  std::filesystem::remove(root_ / "self" / "stat");
  EXPECT_TRUE(ProcessCollector(root_).Collect().empty());
}

TEST(ProcessCollectorRealProcTest, ReadsPlausibleValuesForThisProcess) {
  const auto s = ReadStats("/proc", ::sysconf(_SC_CLK_TCK), ::sysconf(_SC_PAGESIZE));
  ASSERT_TRUE(s.has_value());
  EXPECT_GT(s->open_fds, 0);  // at least stdin/stdout/stderr or the fd directory itself
  EXPECT_GT(s->resident_bytes, 0);
  EXPECT_GE(s->virtual_bytes, s->resident_bytes);
  EXPECT_GE(s->cpu_seconds, 0);
  const double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_GT(s->start_time_seconds, 1e9);           // after 2001: btime was added
  EXPECT_LE(s->start_time_seconds, now + 1.0);     // not in the future
  EXPECT_GT(s->start_time_seconds, now - 86400.0 * 365 * 10);
}

}  // namespace
}  // namespace hbfence
