// SPDX-License-Identifier: Apache-2.0

// Fixed-layout binary formats (block sectors, the write history): little-endian
// fields and a CRC32C, the same on every host.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

namespace hbfence {

// CRC32C (polynomial 0x1EDC6F41, reflected), as used by iSCSI and ext4 metadata.
uint32_t Crc32c(std::span<const uint8_t> data);

// Byte by byte rather than memcpy of host integers: the layout is little-endian on every host.
template <typename T>
void PutLe(std::span<uint8_t> out, size_t at, T value) {
  const auto u = static_cast<std::make_unsigned_t<T>>(value);
  for (size_t i = 0; i < sizeof(T); ++i) out[at + i] = static_cast<uint8_t>(u >> (8 * i));
}

template <typename T>
T GetLe(std::span<const uint8_t> in, size_t at) {
  std::make_unsigned_t<T> u = 0;
  for (size_t i = 0; i < sizeof(T); ++i) u |= static_cast<std::make_unsigned_t<T>>(in[at + i]) << (8 * i);
  return static_cast<T>(u);
}

}  // namespace hbfence
