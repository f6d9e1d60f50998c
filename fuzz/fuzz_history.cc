// SPDX-License-Identifier: Apache-2.0

// Fuzzes the write history's file format (storage/history_format.h): the bytes of a
// history file come from a local disk that may be torn, damaged or replaced, and
// `hbfence replay` reads them. Properties, all run on every input:
//
//  1. read: ParseHistoryFile over any bytes accounts for every byte (header, whole
//     records kept or counted corrupt, a torn tail under one record) and keeps only
//     records of known kinds and errors.
//  2. read -> write -> read: what it accepted, encoded again, parses to the same
//     target, creation time and records, with nothing torn or corrupt.
//  3. write -> read: any record the daemon can write reads back as itself.
//  4. HistoryFileStem of the raw bytes as a name is a safe file name: not empty, no
//     '/', no leading '.', at most 64 bytes; plain names are kept as they are.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_check.h"
#include "storage/history_format.h"

using namespace hbfence;

namespace {

std::vector<uint8_t> Encode(std::string_view target, WallTime created, const std::vector<HistoryRecord>& records) {
  const auto header = EncodeHistoryHeader(target, created);
  std::vector<uint8_t> out(header.begin(), header.end());
  for (const auto& r : records) {
    const auto rec = EncodeHistoryRecord(r);
    out.insert(out.end(), rec.begin(), rec.end());
  }
  return out;
}

void ReadWriteRead(std::span<const uint8_t> bytes) {
  const auto first = ParseHistoryFile(bytes);
  if (!first) {
    FUZZ_CHECK(!first.error().empty(), "a rejected file says why");
    return;
  }
  const HistoryFile& f = first.value();
  FUZZ_CHECK(bytes.size() >= kHistoryHeaderSize, "an accepted file has a whole header");
  FUZZ_CHECK(f.target.size() <= kHistoryMaxName, "the target name is bounded");
  FUZZ_CHECK(f.torn_tail_bytes < kHistoryRecordSize, "a torn tail is less than one record");
  FUZZ_CHECK(kHistoryHeaderSize + (f.records.size() + f.corrupt_records) * kHistoryRecordSize + f.torn_tail_bytes ==
                 bytes.size(),
             "every byte is a header, a kept record, a corrupt record or the torn tail");
  for (const auto& r : f.records) {
    const auto k = static_cast<int>(r.kind);
    FUZZ_CHECK(k >= static_cast<int>(HistoryKind::kRun) && k <= static_cast<int>(HistoryKind::kStop),
               "only known kinds are kept");
    FUZZ_CHECK(r.error >= WriteError::kNone && r.error <= WriteError::kOther, "only known write errors are kept");
  }
  const auto second = ParseHistoryFile(Encode(f.target, f.created, f.records));
  FUZZ_CHECK(second.ok(), "a parsed file, written again, parses");
  const HistoryFile& g = second.value();
  FUZZ_CHECK(g.target == f.target && g.created == f.created, "the header reads back the same");
  FUZZ_CHECK(g.records == f.records, "the records read back the same");
  FUZZ_CHECK(g.torn_tail_bytes == 0 && g.corrupt_records == 0, "a file written whole has nothing torn or corrupt");
}

void WriteRead(FuzzedDataProvider& in) {
  const std::string target = in.ConsumeRandomLengthString(kHistoryMaxName);
  const WallTime created{Duration(in.ConsumeIntegral<int64_t>())};
  std::vector<HistoryRecord> records(in.ConsumeIntegralInRange<size_t>(0, 16));
  for (auto& r : records) {
    r.kind = static_cast<HistoryKind>(in.ConsumeIntegralInRange<int>(1, 4));
    r.wall = WallTime(Duration(in.ConsumeIntegral<int64_t>()));
    r.mono = MonoTime(Duration(in.ConsumeIntegral<int64_t>()));
    r.value = Duration(in.ConsumeIntegral<int64_t>());
    r.error = static_cast<WriteError>(in.ConsumeIntegralInRange<int>(0, static_cast<int>(WriteError::kOther)));
    r.boot = in.ConsumeIntegral<uint16_t>();
  }
  const auto back = ParseHistoryFile(Encode(target, created, records));
  FUZZ_CHECK(back.ok(), "every file the writer produces parses");
  FUZZ_CHECK(back.value().target == target && back.value().created == created, "the header reads back as written");
  FUZZ_CHECK(back.value().records == records, "every record reads back as written");
}

void StemIsASafeFileName(std::string_view name) {
  const std::string stem = HistoryFileStem(name);
  FUZZ_CHECK(!stem.empty() && stem.size() <= 64, "a stem is 1 to 64 bytes");
  FUZZ_CHECK(stem.front() != '.', "a stem is never hidden, . or ..");
  FUZZ_CHECK(std::all_of(stem.begin(), stem.end(),
                         [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-'; }),
             "a stem holds only [A-Za-z0-9._-]");
  const bool plain = !name.empty() && name.size() <= 64 && name.front() != '.' &&
                     std::all_of(name.begin(), name.end(), [](char c) {
                       return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
                     });
  FUZZ_CHECK(!plain || stem == name, "a plain name is its own stem");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ReadWriteRead({data, size});
  StemIsASafeFileName({reinterpret_cast<const char*>(data), std::min<size_t>(size, 256)});
  FuzzedDataProvider in(data, size);
  WriteRead(in);
  return 0;
}
