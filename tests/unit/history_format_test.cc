// SPDX-License-Identifier: Apache-2.0

// The write history's file format (storage/history_format.h): what is written reads
// back as itself, and every way a file read back can be wrong (torn, damaged, of
// another version, not a history) is either skipped and counted or named.
#include "storage/history_format.h"

#include <gtest/gtest.h>

#include <cctype>
#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include "storage/byte_order.h"

namespace hbfence {
namespace {

using namespace std::chrono_literals;
using Bytes = std::vector<uint8_t>;

const WallTime kCreated = WallTime(1795000000s + 123456789ns);

HistoryRecord Rec(HistoryKind kind, int i, WriteError error = WriteError::kNone) {
  return {kind, WallTime(1795000000s + i * 5s), MonoTime(86400s + i * 5s), Duration(1000000 + i), error};
}

Bytes File(std::string_view target, const std::vector<HistoryRecord>& records) {
  const auto header = EncodeHistoryHeader(target, kCreated);
  Bytes out(header.begin(), header.end());
  for (const auto& r : records) {
    const auto rec = EncodeHistoryRecord(r);
    out.insert(out.end(), rec.begin(), rec.end());
  }
  return out;
}

std::string ParseError(const Bytes& bytes) {
  const auto parsed = ParseHistoryFile(bytes);
  return parsed ? "parsed" : parsed.error();
}

// Rewrites the header's checksum after a deliberate change, so that only the change is wrong.
void ResealHeader(Bytes& bytes) {
  PutLe<uint32_t>(bytes, kHistoryHeaderSize - 4, Crc32c(std::span<const uint8_t>(bytes).first(kHistoryHeaderSize - 4)));
}

TEST(HistoryFormatTest, EveryKindAndEveryErrorRoundTrips) {
  std::vector<HistoryRecord> records;
  int i = 0;
  for (auto kind : {HistoryKind::kRun, HistoryKind::kWrite, HistoryKind::kStuck, HistoryKind::kStop}) {
    records.push_back(Rec(kind, i++));
  }
  for (auto error : kWriteErrorReasons) records.push_back(Rec(HistoryKind::kWrite, i++, error));
  // Negative and extreme values too: mono is another boot's clock, wall may be before 1970.
  records.push_back({HistoryKind::kWrite, WallTime(-1ns), MonoTime(Duration::max()), Duration::min(), WriteError::kOther});
  records.push_back({HistoryKind::kRun, WallTime(1795000000s), MonoTime(5s), 5s, WriteError::kNone, 65535});

  const auto parsed = ParseHistoryFile(File("pool", records));
  ASSERT_TRUE(parsed) << parsed.error();
  EXPECT_EQ(parsed.value().records, records);
  EXPECT_EQ(parsed.value().torn_tail_bytes, 0u);
  EXPECT_EQ(parsed.value().corrupt_records, 0u);
}

TEST(HistoryFormatTest, HeaderRoundTripsTargetAndCreationTime) {
  const std::string longest(kHistoryMaxName, 'n');
  for (const std::string& target : {std::string("pool"), std::string("/mnt/ä b"), longest}) {
    const auto parsed = ParseHistoryFile(File(target, {}));
    ASSERT_TRUE(parsed) << parsed.error();
    EXPECT_EQ(parsed.value().target, target);
    EXPECT_EQ(parsed.value().created, kCreated);
    EXPECT_TRUE(parsed.value().records.empty());
  }
  EXPECT_EQ(EncodeHistoryHeader("pool", kCreated).size(), kHistoryHeaderSize);
  EXPECT_EQ(EncodeHistoryRecord(Rec(HistoryKind::kWrite, 0)).size(), kHistoryRecordSize);
}

TEST(HistoryFormatTest, TornTailIsCountedAndWholeRecordsKept) {
  const std::vector<HistoryRecord> records{Rec(HistoryKind::kRun, 0), Rec(HistoryKind::kWrite, 1)};
  const auto next = EncodeHistoryRecord(Rec(HistoryKind::kWrite, 2));
  for (size_t cut = 1; cut < kHistoryRecordSize; ++cut) {
    Bytes bytes = File("pool", records);
    bytes.insert(bytes.end(), next.begin(), next.begin() + static_cast<ptrdiff_t>(cut));
    const auto parsed = ParseHistoryFile(bytes);
    ASSERT_TRUE(parsed) << parsed.error();
    EXPECT_EQ(parsed.value().torn_tail_bytes, cut);
    EXPECT_EQ(parsed.value().records, records) << "cut at " << cut;
    EXPECT_EQ(parsed.value().corrupt_records, 0u);
  }
}

TEST(HistoryFormatTest, AnotherVersionIsAnErrorNamingBothVersions) {
  Bytes bytes = File("pool", {Rec(HistoryKind::kWrite, 0)});
  PutLe<uint32_t>(bytes, 8, 2);
  ResealHeader(bytes);
  const std::string error = ParseError(bytes);
  EXPECT_NE(error.find("format version 2"), std::string::npos) << error;
  EXPECT_NE(error.find("reads version 1"), std::string::npos) << error;
}

TEST(HistoryFormatTest, NotAHistoryIsAnErrorSayingSo) {
  Bytes bytes = File("pool", {});
  bytes[0] = 'X';
  EXPECT_NE(ParseError(bytes).find("bad magic"), std::string::npos) << ParseError(bytes);
  EXPECT_NE(ParseError({}).find("bad magic"), std::string::npos);
  const std::string text = "# a text file someone put here\n";
  EXPECT_NE(ParseError(Bytes(text.begin(), text.end())).find("bad magic"), std::string::npos);
}

TEST(HistoryFormatTest, HeaderCutShortIsAnError) {
  Bytes bytes = File("pool", {});
  bytes.resize(100);
  EXPECT_NE(ParseError(bytes).find("header cut short at 100 of 256"), std::string::npos) << ParseError(bytes);
}

TEST(HistoryFormatTest, DamagedHeaderIsAnErrorNotAGuess) {
  Bytes bytes = File("pool", {Rec(HistoryKind::kWrite, 0)});
  bytes[32] ^= 0x01;  // the target name: "qool"
  EXPECT_EQ(ParseError(bytes), "header checksum mismatch");
}

TEST(HistoryFormatTest, HeaderOfOtherSizesOrAnOverlongNameIsAnError) {
  Bytes sizes = File("pool", {});
  PutLe<uint32_t>(sizes, 16, 64);
  ResealHeader(sizes);
  EXPECT_NE(ParseError(sizes).find("sizes"), std::string::npos) << ParseError(sizes);
  Bytes name = File("pool", {});
  PutLe<uint32_t>(name, 20, kHistoryMaxName + 1);
  ResealHeader(name);
  EXPECT_NE(ParseError(name).find("exceeds 128"), std::string::npos) << ParseError(name);
}

TEST(HistoryFormatTest, CorruptRecordInTheMiddleIsSkippedAndCounted) {
  const std::vector<HistoryRecord> records{Rec(HistoryKind::kWrite, 0), Rec(HistoryKind::kWrite, 1),
                                           Rec(HistoryKind::kWrite, 2)};
  Bytes bytes = File("pool", records);
  bytes[kHistoryHeaderSize + kHistoryRecordSize + 3] ^= 0x40;
  const auto parsed = ParseHistoryFile(bytes);
  ASSERT_TRUE(parsed) << parsed.error();
  EXPECT_EQ(parsed.value().corrupt_records, 1u);
  EXPECT_EQ(parsed.value().records, (std::vector<HistoryRecord>{records[0], records[2]}));
}

TEST(HistoryFormatTest, RecordOfAnUnknownKindOrErrorIsCorruptEvenWithAGoodChecksum) {
  Bytes bytes = File("pool", {Rec(HistoryKind::kWrite, 0), Rec(HistoryKind::kWrite, 1)});
  const auto reseal = [&](size_t record, size_t at, uint8_t value) {
    const size_t base = kHistoryHeaderSize + record * kHistoryRecordSize;
    bytes[base + at] = value;
    auto rec = std::span<uint8_t>(bytes).subspan(base, kHistoryRecordSize);
    PutLe<uint32_t>(rec, kHistoryRecordSize - 4, Crc32c(rec.first(kHistoryRecordSize - 4)));
  };
  reseal(0, 24, 9);    // kind
  reseal(1, 25, 200);  // write error
  const auto parsed = ParseHistoryFile(bytes);
  ASSERT_TRUE(parsed) << parsed.error();
  EXPECT_EQ(parsed.value().corrupt_records, 2u);
  EXPECT_TRUE(parsed.value().records.empty());
}

TEST(HistoryBootTagTest, IsNeverZeroForABootAndZeroForNone) {
  EXPECT_EQ(HistoryBootTag(""), 0);
  EXPECT_NE(HistoryBootTag("2f5d8a9e-1c3b-4e6f-9a7d-0b1c2d3e4f50"), 0);
  EXPECT_EQ(HistoryBootTag("2f5d8a9e-1c3b-4e6f-9a7d-0b1c2d3e4f50"), HistoryBootTag("2f5d8a9e-1c3b-4e6f-9a7d-0b1c2d3e4f50"));
  EXPECT_NE(HistoryBootTag("2f5d8a9e-1c3b-4e6f-9a7d-0b1c2d3e4f50"), HistoryBootTag("7c1e0f4a-8b2d-4c6e-a1f3-5d7b9e0c2a41"));
}

TEST(HistoryFileStemTest, PlainNamesAreKept) {
  const std::string longest(64, 'p');
  for (const std::string& name : {std::string("pool"), std::string("nfs-1.primary_A"), std::string("a"), longest}) {
    EXPECT_EQ(HistoryFileStem(name), name);
  }
}

TEST(HistoryFileStemTest, OtherNamesAreCleanedAndCarryTheirChecksum) {
  const std::string long_name(65, 'x');
  for (std::string_view name : {std::string_view("/mnt/pool"), std::string_view("pool ä"), std::string_view(".hidden"),
                                std::string_view(".."), std::string_view(long_name), std::string_view("")}) {
    const std::string stem = HistoryFileStem(name);
    SCOPED_TRACE(std::string(name) + " -> " + stem);
    ASSERT_GE(stem.size(), 9u);
    EXPECT_NE(stem.front(), '.') << "never a hidden file, never . or ..";
    EXPECT_LE(stem.size(), 48u + 9u);
    for (char c : stem) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-');
    char crc[10];
    std::snprintf(crc, sizeof crc, "-%08x", Crc32c({reinterpret_cast<const uint8_t*>(name.data()), name.size()}));
    EXPECT_TRUE(stem.ends_with(crc));
  }
  EXPECT_EQ(HistoryFileStem("/mnt/pool"), "_mnt_pool-" + HistoryFileStem("/mnt/pool").substr(10));
}

TEST(HistoryFileStemTest, DistinctNamesGetDistinctStems) {
  // Names that clean to the same prefix, or that a plain name could collide with.
  const std::vector<std::string> names{"a/b", "a_b", "a b", "a\xc3\xa4", "a\xc3\xb6", ".a", "_a", std::string(64, 'y'),
                                       std::string(65, 'y'), std::string(66, 'y'), std::string(49, 'z') + "1",
                                       std::string(49, 'z') + "2"};
  std::set<std::string> stems;
  for (const auto& n : names) stems.insert(HistoryFileStem(n));
  EXPECT_EQ(stems.size(), names.size());
}

}  // namespace
}  // namespace hbfence
