// SPDX-License-Identifier: Apache-2.0

// storage/peer_watch.h: PeerAgeTracker with hand-made times, ReadPeerHeartbeats on
// a temp KVMHA directory.
#include "storage/peer_watch.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/temp_dir.h"

namespace hbfence {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using testing::TempDir;
using testing::WriteFile;

const MonoTime kT0 = MonoTime(1000s);
const WallTime kWall0 = WallTime(std::chrono::seconds(1'795'000'000));
constexpr int64_t kUnix0 = 1'795'000'000;

PeerReading Read(std::string name, int64_t value) { return {std::move(name), value}; }
PeerReading Unreadable(std::string name, std::string error) { return {std::move(name), Err{std::move(error)}}; }

std::vector<std::string> Names(const std::vector<PeerAge>& ages) {
  std::vector<std::string> out;
  for (const auto& a : ages) out.push_back(a.name);
  return out;
}

TEST(PeerAgeTrackerTest, FirstSightingStartsFromTheFilesOwnTime) {
  PeerAgeTracker t;
  const auto ages = t.Update({Read("hb-a", kUnix0 - 7)}, kT0, kWall0);
  ASSERT_EQ(ages.size(), 1u);
  EXPECT_EQ(ages[0], (PeerAge{"hb-a", 7s, true, ""}));
}

TEST(PeerAgeTrackerTest, FirstSightingOfAFutureValueIsZeroNotNegative) {
  PeerAgeTracker t;
  EXPECT_EQ(t.Update({Read("hb-a", kUnix0 + 300)}, kT0, kWall0)[0].age, 0s);
}

TEST(PeerAgeTrackerTest, AgeGrowsOnTheMonotonicClockUntilTheValueAdvances) {
  PeerAgeTracker t;
  t.Update({Read("hb-a", kUnix0 - 2)}, kT0, kWall0);
  // The wall clock jumping (NTP step here) changes nothing once the peer is known.
  EXPECT_EQ(t.Update({Read("hb-a", kUnix0 - 2)}, kT0 + 5s, kWall0 + 1h)[0].age, 7s);
  EXPECT_EQ(t.Update({Read("hb-a", kUnix0 + 4)}, kT0 + 6s, kWall0 - 1h)[0].age, 0s);
  EXPECT_EQ(t.Update({Read("hb-a", kUnix0 + 4)}, kT0 + 9s, kWall0)[0].age, 3s);
}

TEST(PeerAgeTrackerTest, ValueGoingBackwardsDoesNotResetTheAgeButTheNextAdvanceDoes) {
  PeerAgeTracker t;
  t.Update({Read("hb-a", kUnix0)}, kT0, kWall0);
  EXPECT_EQ(t.Update({Read("hb-a", kUnix0 - 100)}, kT0 + 5s, kWall0)[0].age, 5s);
  // A writer whose clock was stepped back advances again from its new value.
  EXPECT_EQ(t.Update({Read("hb-a", kUnix0 - 95)}, kT0 + 10s, kWall0)[0].age, 0s);
}

TEST(PeerAgeTrackerTest, UnreadableFileKeepsAgeingAndSaysWhy) {
  PeerAgeTracker t;
  t.Update({Read("hb-a", kUnix0)}, kT0, kWall0);
  const auto ages = t.Update({Unreadable("hb-a", "hb-a is empty")}, kT0 + 4s, kWall0);
  EXPECT_EQ(ages[0], (PeerAge{"hb-a", 4s, false, "hb-a is empty"}));
  // Readable again with the same value: still ageing from the last advance.
  EXPECT_EQ(t.Update({Read("hb-a", kUnix0)}, kT0 + 8s, kWall0)[0].age, 8s);
}

TEST(PeerAgeTrackerTest, PeerFirstSeenUnreadableAgesFromThatSighting) {
  PeerAgeTracker t;
  EXPECT_EQ(t.Update({Unreadable("hb-a", "garbage")}, kT0, kWall0)[0].age, 0s);
  EXPECT_EQ(t.Update({Unreadable("hb-a", "garbage")}, kT0 + 3s, kWall0)[0].age, 3s);
  // Its first readable value is a first sighting of a value: the file's own time.
  EXPECT_EQ(t.Update({Read("hb-a", kUnix0 - 20)}, kT0 + 4s, kWall0)[0].age, 20s);
}

TEST(PeerAgeTrackerTest, VanishedPeersAreDroppedAndComeBackAsNew) {
  PeerAgeTracker t;
  t.Update({Read("hb-a", kUnix0), Read("hb-b", kUnix0)}, kT0, kWall0);
  const auto ages = t.Update({Read("hb-b", kUnix0)}, kT0 + 5s, kWall0);
  EXPECT_THAT(Names(ages), ::testing::ElementsAre("hb-b"));
  // hb-a reappears with its old value: a first sighting, aged by the file's time.
  EXPECT_EQ(t.Update({Read("hb-a", kUnix0)}, kT0 + 10s, kWall0 + 10s)[0].age, 10s);
}

class ReadPeerHeartbeatsTest : public ::testing::Test {
 protected:
  std::filesystem::path kvmha() const { return dir / "KVMHA"; }
  TempDir dir;
};

TEST_F(ReadPeerHeartbeatsTest, ReadsOtherHostsHbFilesInNameOrder) {
  WriteFile(kvmha() / "hb-10.0.0.1", "1795000000\n");
  WriteFile(kvmha() / "hb-10.0.0.3", "1795000003\n");
  WriteFile(kvmha() / "hb-10.0.0.2", "1795000002\n");
  WriteFile(kvmha() / "hb-10.0.0.9", "not a time\n");
  WriteFile(kvmha() / "hb-self", "1795000009\n");                      // our own file
  WriteFile(kvmha() / ".hb-self.hbfence-tmp", "1795000009\n");         // our writer's temp file
  WriteFile(kvmha() / "ac-10.0.0.1", "1:2:3\n");                        // CloudStack's activity file
  WriteFile(kvmha() / "hb-", "1795000000\n");                           // no host name
  std::filesystem::create_directories(kvmha() / "hb-dir");              // a directory is read and fails
  WriteFile(kvmha() / "hb-a b\xff", "1795000000\n");                    // not a host name: never a label

  const PeerScan scan = ReadPeerHeartbeats(kvmha(), "hb-self", 64);
  EXPECT_EQ(scan.error, "");
  EXPECT_EQ(scan.left_out, 0u);
  ASSERT_EQ(scan.readings.size(), 5u);
  EXPECT_EQ(scan.readings[0].name, "hb-10.0.0.1");
  EXPECT_EQ(scan.readings[0].value.value(), 1795000000);
  EXPECT_EQ(scan.readings[1].name, "hb-10.0.0.2");
  EXPECT_EQ(scan.readings[1].value.value(), 1795000002);
  EXPECT_EQ(scan.readings[2].name, "hb-10.0.0.3");
  EXPECT_EQ(scan.readings[3].name, "hb-10.0.0.9");
  ASSERT_FALSE(scan.readings[3].value);
  EXPECT_THAT(scan.readings[3].value.error(), HasSubstr("does not hold Unix seconds"));
  EXPECT_EQ(scan.readings[4].name, "hb-dir");
  EXPECT_FALSE(scan.readings[4].value);
}

TEST_F(ReadPeerHeartbeatsTest, KeepsTheFirstMaxPeersByNameAndCountsTheRest) {
  for (int i = 0; i < 10; ++i) WriteFile(kvmha() / ("hb-10.0.0." + std::to_string(i)), "1795000000\n");
  const PeerScan scan = ReadPeerHeartbeats(kvmha(), "hb-10.0.0.0", 3);
  EXPECT_EQ(scan.left_out, 6u);
  ASSERT_EQ(scan.readings.size(), 3u);
  EXPECT_EQ(scan.readings[0].name, "hb-10.0.0.1");
  EXPECT_EQ(scan.readings[2].name, "hb-10.0.0.3");
}

TEST_F(ReadPeerHeartbeatsTest, EmptyAndMissingDirectory) {
  std::filesystem::create_directories(kvmha());
  const PeerScan empty = ReadPeerHeartbeats(kvmha(), "hb-self");
  EXPECT_TRUE(empty.readings.empty());
  EXPECT_EQ(empty.error, "");
  const PeerScan missing = ReadPeerHeartbeats(dir / "nope", "hb-self");
  EXPECT_TRUE(missing.readings.empty());
  EXPECT_THAT(missing.error, HasSubstr("list " + (dir / "nope").string() + ": No such file or directory"));
}

TEST_F(ReadPeerHeartbeatsTest, ScanFeedsTheTracker) {
  WriteFile(kvmha() / "hb-10.0.0.2", std::to_string(kUnix0 - 4) + "\n");
  PeerAgeTracker t;
  const auto ages = t.Update(ReadPeerHeartbeats(kvmha(), "hb-10.0.0.1").readings, kT0, kWall0);
  ASSERT_EQ(ages.size(), 1u);
  EXPECT_EQ(ages[0], (PeerAge{"hb-10.0.0.2", 4s, true, ""}));
}

}  // namespace
}  // namespace hbfence
