// SPDX-License-Identifier: Apache-2.0

#include "storage/byte_order.h"

#include <array>

namespace hbfence {
namespace {

constexpr std::array<uint32_t, 256> MakeCrc32cTable() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t crc = i;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ ((crc & 1) ? 0x82F63B78u : 0);  // 0x1EDC6F41 reflected
    table[i] = crc;
  }
  return table;
}
constexpr auto kCrc32cTable = MakeCrc32cTable();

}  // namespace

uint32_t Crc32c(std::span<const uint8_t> data) {
  uint32_t crc = 0xFFFFFFFFu;
  for (const uint8_t byte : data) crc = (crc >> 8) ^ kCrc32cTable[(crc ^ byte) & 0xFF];
  return crc ^ 0xFFFFFFFFu;
}

}  // namespace hbfence
