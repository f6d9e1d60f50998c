// SPDX-License-Identifier: Apache-2.0

#include "storage/history_format.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>

#include "storage/byte_order.h"

namespace hbfence {
namespace {

constexpr std::string_view kMagic{"hbfhist\0", 8};
constexpr size_t kVersionAt = 8, kHeaderSizeAt = 12, kRecordSizeAt = 16, kNameLengthAt = 20, kCreatedAt = 24,
                 kNameAt = 32, kHeaderCrcAt = 252;
constexpr size_t kWallAt = 0, kMonoAt = 8, kValueAt = 16, kKindAt = 24, kErrorAt = 25, kBootAt = 26, kRecordCrcAt = 28;
static_assert(kNameAt + kHistoryMaxName <= kHeaderCrcAt && kHeaderCrcAt + 4 == kHistoryHeaderSize);
static_assert(kRecordCrcAt + 4 == kHistoryRecordSize);

int64_t Ns(Duration d) { return d.count(); }

bool KnownKind(uint8_t k) { return k >= 1 && k <= 4; }
bool KnownError(uint8_t e) { return e <= static_cast<uint8_t>(WriteError::kOther); }

}  // namespace

std::array<uint8_t, kHistoryRecordSize> EncodeHistoryRecord(const HistoryRecord& r) {
  std::array<uint8_t, kHistoryRecordSize> out{};
  PutLe<int64_t>(out, kWallAt, Ns(r.wall.time_since_epoch()));
  PutLe<int64_t>(out, kMonoAt, Ns(r.mono.time_since_epoch()));
  PutLe<int64_t>(out, kValueAt, Ns(r.value));
  out[kKindAt] = static_cast<uint8_t>(r.kind);
  out[kErrorAt] = static_cast<uint8_t>(r.error);
  PutLe<uint16_t>(out, kBootAt, r.boot);
  PutLe<uint32_t>(out, kRecordCrcAt, Crc32c(std::span<const uint8_t>(out).first(kRecordCrcAt)));
  return out;
}

std::array<uint8_t, kHistoryHeaderSize> EncodeHistoryHeader(std::string_view target, WallTime created) {
  std::array<uint8_t, kHistoryHeaderSize> out{};
  const std::string_view name = target.substr(0, kHistoryMaxName);
  std::memcpy(out.data(), kMagic.data(), kMagic.size());
  PutLe<uint32_t>(out, kVersionAt, kHistoryVersion);
  PutLe<uint32_t>(out, kHeaderSizeAt, kHistoryHeaderSize);
  PutLe<uint32_t>(out, kRecordSizeAt, kHistoryRecordSize);
  PutLe<uint32_t>(out, kNameLengthAt, static_cast<uint32_t>(name.size()));
  PutLe<int64_t>(out, kCreatedAt, Ns(created.time_since_epoch()));
  std::memcpy(out.data() + kNameAt, name.data(), name.size());
  PutLe<uint32_t>(out, kHeaderCrcAt, Crc32c(std::span<const uint8_t>(out).first(kHeaderCrcAt)));
  return out;
}

Result<HistoryFile, std::string> ParseHistoryFile(std::span<const uint8_t> bytes) {
  if (bytes.size() < kMagic.size() || !std::equal(kMagic.begin(), kMagic.end(), bytes.begin())) {
    return Err{std::string("not an hbfence write history (bad magic)")};
  }
  if (bytes.size() < kHistoryHeaderSize) {
    return Err{"header cut short at " + std::to_string(bytes.size()) + " of " + std::to_string(kHistoryHeaderSize) +
               " bytes"};
  }
  const auto version = GetLe<uint32_t>(bytes, kVersionAt);
  if (version != kHistoryVersion) {
    return Err{"format version " + std::to_string(version) + ", this hbfence reads version " +
               std::to_string(kHistoryVersion)};
  }
  if (GetLe<uint32_t>(bytes, kHeaderCrcAt) != Crc32c(bytes.first(kHeaderCrcAt))) {
    return Err{std::string("header checksum mismatch")};
  }
  if (GetLe<uint32_t>(bytes, kHeaderSizeAt) != kHistoryHeaderSize ||
      GetLe<uint32_t>(bytes, kRecordSizeAt) != kHistoryRecordSize) {
    return Err{std::string("header and record sizes are not those of version 1")};
  }
  const auto name_length = GetLe<uint32_t>(bytes, kNameLengthAt);
  if (name_length > kHistoryMaxName) return Err{"target name length " + std::to_string(name_length) + " exceeds 128"};
  HistoryFile file;
  file.target.assign(reinterpret_cast<const char*>(bytes.data() + kNameAt), name_length);
  file.created = WallTime(Duration(GetLe<int64_t>(bytes, kCreatedAt)));
  auto body = bytes.subspan(kHistoryHeaderSize);
  file.torn_tail_bytes = body.size() % kHistoryRecordSize;
  const size_t count = body.size() / kHistoryRecordSize;
  file.records.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    const auto rec = body.subspan(i * kHistoryRecordSize, kHistoryRecordSize);
    const uint8_t kind = rec[kKindAt], error = rec[kErrorAt];
    if (GetLe<uint32_t>(rec, kRecordCrcAt) != Crc32c(rec.first(kRecordCrcAt)) || !KnownKind(kind) ||
        !KnownError(error)) {
      ++file.corrupt_records;
      continue;
    }
    file.records.push_back({static_cast<HistoryKind>(kind), WallTime(Duration(GetLe<int64_t>(rec, kWallAt))),
                            MonoTime(Duration(GetLe<int64_t>(rec, kMonoAt))), Duration(GetLe<int64_t>(rec, kValueAt)),
                            static_cast<WriteError>(error), GetLe<uint16_t>(rec, kBootAt)});
  }
  return file;
}

uint16_t HistoryBootTag(std::string_view boot_id) {
  if (boot_id.empty()) return 0;
  const uint32_t crc = Crc32c({reinterpret_cast<const uint8_t*>(boot_id.data()), boot_id.size()});
  return static_cast<uint16_t>(crc % 65535 + 1);
}

std::string HistoryFileStem(std::string_view target) {
  auto plain = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-'; };
  if (!target.empty() && target.size() <= 64 && target[0] != '.' && std::all_of(target.begin(), target.end(), plain)) {
    return std::string(target);
  }
  std::string stem;
  for (char c : target.substr(0, 48)) stem += plain(c) ? c : '_';
  if (!stem.empty() && stem[0] == '.') stem[0] = '_';
  char crc[10];
  std::snprintf(crc, sizeof crc, "-%08x",
                Crc32c({reinterpret_cast<const uint8_t*>(target.data()), target.size()}));
  return stem + crc;
}

}  // namespace hbfence
