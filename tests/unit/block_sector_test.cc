// SPDX-License-Identifier: Apache-2.0

// The block heartbeat sector format: layout, round trip, and every way a sector
// read back from a device can be wrong.
#include "storage/block_sector.h"
#include "storage/byte_order.h"

#include <gtest/gtest.h>

namespace hbfence {
namespace {

using Sector = std::array<uint8_t, kBlockSectorSize>;

Sector Encoded(const BlockSector& s) {
  Sector out;
  out.fill(0xAA);  // Encode must overwrite every byte
  const auto st = EncodeBlockSector(s, out);
  EXPECT_TRUE(st.ok()) << st.error();
  return out;
}

std::string DecodeError(const Sector& bytes) {
  const auto r = DecodeBlockSector(bytes);
  return r ? "decoded" : r.error();
}

const BlockSector kSector{"3f1c2d2e-6b3a-4c49-9d4e-2f8c6a1b0e77", 42, 1795000000};

TEST(Crc32cTest, MatchesTheStandardCheckValue) {
  const std::string check = "123456789";
  EXPECT_EQ(Crc32c({reinterpret_cast<const uint8_t*>(check.data()), check.size()}), 0xE3069283u);
  EXPECT_EQ(Crc32c({}), 0u);
}

TEST(BlockSectorTest, RoundTrips) {
  const auto decoded = DecodeBlockSector(Encoded(kSector));
  ASSERT_TRUE(decoded) << decoded.error();
  EXPECT_EQ(decoded.value(), kSector);

  const BlockSector extremes{std::string(kBlockSectorMaxHostId, 'h'), UINT64_MAX, -1};
  const auto again = DecodeBlockSector(Encoded(extremes));
  ASSERT_TRUE(again) << again.error();
  EXPECT_EQ(again.value(), extremes);
}

TEST(BlockSectorTest, LayoutIsFixedAndLittleEndian) {
  const Sector s = Encoded({"ab", 0x0102030405060708ull, 0x1122334455667788ll});
  EXPECT_EQ(std::string(s.begin(), s.begin() + 8), "HBFENCE1");
  const std::array<uint8_t, 4> version{1, 0, 0, 0}, header_length{0x28, 0x01, 0, 0}, host_id_length{2, 0, 0, 0};
  EXPECT_TRUE(std::equal(version.begin(), version.end(), s.begin() + 8));
  EXPECT_TRUE(std::equal(header_length.begin(), header_length.end(), s.begin() + 12));  // 296
  const std::array<uint8_t, 8> sequence{8, 7, 6, 5, 4, 3, 2, 1};
  EXPECT_TRUE(std::equal(sequence.begin(), sequence.end(), s.begin() + 16));
  const std::array<uint8_t, 8> time{0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11};
  EXPECT_TRUE(std::equal(time.begin(), time.end(), s.begin() + 24));
  EXPECT_TRUE(std::equal(host_id_length.begin(), host_id_length.end(), s.begin() + 32));
  EXPECT_EQ(s[36], 'a');
  EXPECT_EQ(s[37], 'b');
  EXPECT_TRUE(std::all_of(s.begin() + 38, s.begin() + 292, [](uint8_t b) { return b == 0; })) << "NUL padding";
  const uint32_t crc = Crc32c(std::span<const uint8_t>(s).first(292));
  EXPECT_EQ(s[292] | s[293] << 8 | s[294] << 16 | static_cast<uint32_t>(s[295]) << 24, crc);
  EXPECT_TRUE(std::all_of(s.begin() + 296, s.end(), [](uint8_t b) { return b == 0; })) << "reserved bytes are zero";
}

TEST(BlockSectorTest, RejectsHostIdsTooLongInsteadOfTruncating) {
  Sector out{};
  const auto st = EncodeBlockSector({std::string(kBlockSectorMaxHostId + 1, 'h'), 1, 0}, out);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error(), "host id is 256 bytes, a block sector holds at most 255");
}

TEST(BlockSectorTest, AllZerosIsNeverWritten) {
  EXPECT_EQ(DecodeError(Sector{}), "never written (all zeros)");
}

TEST(BlockSectorTest, WrongMagicIsNotOurs) {
  Sector s = Encoded(kSector);
  s[7] = '2';
  EXPECT_EQ(DecodeError(s), "bad magic: not an hbfence heartbeat sector");
  Sector filesystem{};
  filesystem[1080] = 0x53;  // an ext4 superblock magic byte, say: some data, not ours
  EXPECT_EQ(DecodeError(filesystem), "bad magic: not an hbfence heartbeat sector");
}

TEST(BlockSectorTest, UnknownVersionIsReportedBeforeTheChecksum) {
  Sector s = Encoded(kSector);
  s[8] = 2;
  EXPECT_EQ(DecodeError(s), "unknown format version 2");
}

TEST(BlockSectorTest, BadHeaderLength) {
  Sector s = Encoded(kSector);
  s[12] = 0;
  EXPECT_EQ(DecodeError(s), "bad header length 256");
}

TEST(BlockSectorTest, AnyFlippedHeaderBitFailsTheChecksum) {
  const Sector good = Encoded(kSector);
  for (const size_t at : {16u, 24u, 31u, 33u, 40u, 291u, 292u, 295u}) {
    Sector s = good;
    s[at] ^= 0x10;
    EXPECT_NE(DecodeError(s).find("checksum mismatch"), std::string::npos) << "byte " << at;
  }
}

TEST(BlockSectorTest, ReservedBytesAreIgnored) {
  Sector s = Encoded(kSector);
  s[4000] = 0xFF;  // a future version may use them
  const auto decoded = DecodeBlockSector(s);
  ASSERT_TRUE(decoded) << decoded.error();
  EXPECT_EQ(decoded.value(), kSector);
}

}  // namespace
}  // namespace hbfence
