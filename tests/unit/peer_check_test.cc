// SPDX-License-Identifier: Apache-2.0

// storage/peer_check.h: CheckPeer over scripted readers and a FakeClock (the window
// passes instantly), the exact first lines CloudStack parses, ReadHeartbeatFile's
// strict parse on temp files, the block reader on sectors a real BlockTarget wrote
// to a temp file, and WithReadTimeout on a read that never returns.
#include "storage/peer_check.h"

#include <sys/stat.h>

#include <algorithm>
#include <future>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "storage/block_target.h"
#include "tests/support/fake_clock.h"
#include "tests/support/temp_dir.h"

namespace hbfence {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::FakeClock;
using testing::TempDir;
using testing::WriteFile;

using ReadResult = Result<HeartbeatValue, std::string>;

constexpr Duration kWindow = 60s;

int64_t UnixNow(const FakeClock& clock) {
  return std::chrono::duration_cast<std::chrono::seconds>(clock.WallNow().time_since_epoch()).count();
}

// Returns the scripted results in order, the last one again for every read after
// the script, and records when (on the fake clock) each read happened, so a test can
// check when the verdict came.
class ScriptedReader {
 public:
  ScriptedReader(const FakeClock& clock, std::vector<ReadResult> script) : clock_(clock), script_(std::move(script)) {}
  HeartbeatReader reader() {
    return [this]() -> ReadResult {
      read_at_.push_back(clock_.Now());
      return script_.at(std::min(read_at_.size(), script_.size()) - 1);
    };
  }
  const std::vector<MonoTime>& read_at() const { return read_at_; }

 private:
  const FakeClock& clock_;
  std::vector<ReadResult> script_;
  std::vector<MonoTime> read_at_;
};

ReadResult Value(int64_t unix_seconds) { return HeartbeatValue{unix_seconds, unix_seconds}; }

// The agent checks its pools in turn within one timeout: a live writer must not
// cost the whole window. ALIVE comes with the first read that shows progress.
TEST(CheckPeerTest, AdvancingValueIsAliveAtTheFirstReadThatShowsIt) {
  FakeClock clock;
  const int64_t now = UnixNow(clock);
  // Unchanged for three polls, then advanced (the writer's next second).
  ScriptedReader script(clock, {Value(now - 3), Value(now - 3), Value(now - 3), Value(now - 3), Value(now - 2)});
  const PeerVerdict v = CheckPeer(script.reader(), clock, kWindow);
  EXPECT_TRUE(v.alive);
  EXPECT_TRUE(v.reasons.empty());
  EXPECT_EQ(v.last_written_at_unix, now - 2);
  ASSERT_EQ(script.read_at().size(), 5u);
  EXPECT_EQ(script.read_at().back() - script.read_at().front(), 4 * kPeerPollInterval);
  EXPECT_EQ(clock.slept(), 1s) << "not the 60 s window";
}

TEST(CheckPeerTest, ReadsArePollIntervalsApartAndThePollIsAParameter) {
  FakeClock clock;
  const int64_t now = UnixNow(clock);
  ScriptedReader script(clock, {Value(now), Value(now), Value(now + 1)});
  EXPECT_TRUE(CheckPeer(script.reader(), clock, kWindow, 2s).alive);
  ASSERT_EQ(script.read_at().size(), 3u);
  EXPECT_EQ(script.read_at()[1] - script.read_at()[0], 2s);
  EXPECT_EQ(script.read_at()[2] - script.read_at()[1], 2s);
}

// DEAD needs the whole window: the writer may write just before it ends.
TEST(CheckPeerTest, FrozenValueIsDeadOnlyAfterTheWholeWindow) {
  FakeClock clock;
  const int64_t written = UnixNow(clock) - 5;
  ScriptedReader script(clock, {Value(written)});
  const PeerVerdict v = CheckPeer(script.reader(), clock, kWindow);
  EXPECT_FALSE(v.alive);
  EXPECT_EQ(clock.slept(), kWindow);
  EXPECT_EQ(script.read_at().back() - script.read_at().front(), kWindow) << "the last read is at the window's end";
  EXPECT_EQ(script.read_at().size(), 1u + 60s / kPeerPollInterval);
  EXPECT_EQ(v.last_written_at_unix, written);
  EXPECT_THAT(v.reasons, ElementsAre("value " + std::to_string(written) + " did not advance in 60 s"));
  EXPECT_EQ(FormatVerdictLine(v, "/pool/KVMHA/hb-10.0.0.2", kWindow, clock.WallNow()),
            "=====> DEAD <====== Considering host as DEAD because last write on [/pool/KVMHA/hb-10.0.0.2] was [65] "
            "seconds ago, but the max interval is [60]");
}

TEST(CheckPeerTest, AWindowShorterThanThePollIsOneReadAtItsEnd) {
  FakeClock clock;
  const int64_t now = UnixNow(clock);
  ScriptedReader script(clock, {Value(now)});
  EXPECT_FALSE(CheckPeer(script.reader(), clock, 100ms).alive);
  ASSERT_EQ(script.read_at().size(), 2u);
  EXPECT_EQ(script.read_at()[1] - script.read_at()[0], 100ms);
}

// A torn or briefly missing file mid-window (an operator's copy, a rename) is not a
// verdict; only the last read's failure is.
TEST(CheckPeerTest, AFailedReadBeforeTheEndDecidesNothing) {
  FakeClock clock;
  const int64_t now = UnixNow(clock);
  ScriptedReader recovers(clock, {Value(now), Err{std::string("open f: No such file or directory")}, Value(now + 1)});
  EXPECT_TRUE(CheckPeer(recovers.reader(), clock, kWindow).alive);

  ScriptedReader frozen_then_fails(clock, {Value(now), Err{std::string("open f: No such file or directory")},
                                           Value(now)});
  const PeerVerdict v = CheckPeer(frozen_then_fails.reader(), clock, kWindow);
  EXPECT_FALSE(v.alive);
  EXPECT_THAT(v.reasons, ElementsAre("value " + std::to_string(now) + " did not advance in 60 s"));
}

// A read that hangs past the window's end is the last read: its timeout is the
// verdict, and the command still returns within window + 2 read timeouts.
TEST(CheckPeerTest, AReadThatHangsPastTheEndIsTheLastOne) {
  FakeClock clock;
  const int64_t now = UnixNow(clock);
  int reads = 0;
  const HeartbeatReader read = [&]() -> ReadResult {
    if (++reads < 230) return Value(now);  // the 230th read starts 57.25 s in
    clock.Advance(kPeerReadTimeout);  // this one hangs until the timeout gives up
    return Err{std::string("read timed out after 10 s (storage not answering)")};
  };
  const PeerVerdict v = CheckPeer(read, clock, kWindow);
  EXPECT_FALSE(v.alive);
  EXPECT_EQ(reads, 230);
  EXPECT_THAT(v.reasons, ElementsAre("read timed out after 10 s (storage not answering)"));
  EXPECT_LE(clock.slept(), kWindow + kPeerReadTimeout);
}

TEST(CheckPeerTest, ValueGoingBackwardsIsDead) {
  FakeClock clock;
  const int64_t now = UnixNow(clock);
  ScriptedReader script(clock, {Value(now), Value(now - 10)});
  const PeerVerdict v = CheckPeer(script.reader(), clock, kWindow);
  EXPECT_FALSE(v.alive);
  EXPECT_THAT(v.reasons, ElementsAre(HasSubstr("went backwards from " + std::to_string(now))));
}

TEST(CheckPeerTest, FailedFirstReadIsDeadAtOnceWithTheEpochSentinel) {
  FakeClock clock;
  ScriptedReader script(clock, {Err{std::string("open /p/hb-x: No such file or directory")}});
  const PeerVerdict v = CheckPeer(script.reader(), clock, kWindow);
  EXPECT_FALSE(v.alive);
  EXPECT_EQ(script.read_at().size(), 1u);
  EXPECT_EQ(clock.slept(), Duration::zero()) << "no baseline, nothing to wait for";
  EXPECT_FALSE(v.last_written_at_unix);
  EXPECT_THAT(v.reasons, ElementsAre("open /p/hb-x: No such file or directory"));
  EXPECT_EQ(FormatVerdictLine(v, "/p/hb-x", kWindow, clock.WallNow()),
            "=====> DEAD <====== Considering host as DEAD because last write on [/p/hb-x] was [" +
                std::to_string(UnixNow(clock)) + "] seconds ago, but the max interval is [60]");
}

TEST(CheckPeerTest, FailedLastReadIsDeadAndKeepsTheFirstValue) {
  FakeClock clock;
  const int64_t written = UnixNow(clock) - 1;
  ScriptedReader script(clock, {Value(written), Err{std::string("read timed out after 10 s")}});
  const PeerVerdict v = CheckPeer(script.reader(), clock, kWindow);
  EXPECT_FALSE(v.alive);
  EXPECT_EQ(v.last_written_at_unix, written);
  EXPECT_THAT(v.reasons, ElementsAre("read timed out after 10 s"));
}

// kvmheartbeat.sh compares the file with its own clock: a writer 1 h ahead that
// stopped writing stays "ALIVE" for an hour.
TEST(CheckPeerTest, FutureDatedButFrozenIsDead) {
  FakeClock clock;
  const int64_t ahead = UnixNow(clock) + 3600;
  ScriptedReader script(clock, {Value(ahead), Value(ahead)});
  const PeerVerdict v = CheckPeer(script.reader(), clock, kWindow);
  EXPECT_FALSE(v.alive);
  ASSERT_EQ(v.reasons.size(), 2u);
  EXPECT_THAT(v.reasons[1], HasSubstr("dated 3540 s in our future"));
  // N is printed as is: negative, it tells the operator how far ahead the writer is.
  EXPECT_EQ(FormatVerdictLine(v, "f", kWindow, clock.WallNow()),
            "=====> DEAD <====== Considering host as DEAD because last write on [f] was [-3540] seconds ago, but the "
            "max interval is [60]");
}

TEST(CheckPeerTest, FutureDatedAndAdvancingIsAlive) {
  FakeClock clock;
  const int64_t ahead = UnixNow(clock) + 3600;
  ScriptedReader script(clock, {Value(ahead), Value(ahead + 60)});
  EXPECT_TRUE(CheckPeer(script.reader(), clock, kWindow).alive);
}

// The block reader to come: progress is a sequence number, unrelated to the time.
TEST(CheckPeerTest, ProgressNotTheTimestampDecides) {
  FakeClock clock;
  const int64_t written = UnixNow(clock) - 100;
  ScriptedReader advancing(clock, {HeartbeatValue{7, written}, HeartbeatValue{8, written}});
  EXPECT_TRUE(CheckPeer(advancing.reader(), clock, kWindow).alive);
  ScriptedReader frozen(clock, {HeartbeatValue{7, written}, HeartbeatValue{7, written + 60}});
  EXPECT_FALSE(CheckPeer(frozen.reader(), clock, kWindow).alive);
}

TEST(FormatVerdictLineTest, AliveLineIsExact) {
  PeerVerdict v;
  v.alive = true;
  EXPECT_EQ(FormatVerdictLine(v, "anything", kWindow, WallTime{}), "=====> ALIVE <=====");
}

TEST(FormatVerdictLineTest, WindowIsWholeSeconds) {
  PeerVerdict v;
  v.last_written_at_unix = 1000;
  EXPECT_EQ(FormatVerdictLine(v, "f", 7s, WallTime(1010s)),
            "=====> DEAD <====== Considering host as DEAD because last write on [f] was [10] seconds ago, but the max "
            "interval is [7]");
}

// What each CloudStack release looks for in the first line: older KVMHAChecker
// `contains("> DEAD <")`, LibvirtStoragePool today `contains("DEAD")`; an ALIVE line
// must match neither.
TEST(FormatVerdictLineTest, DeadLineSatisfiesOldAndNewAgentsAliveLineNeither) {
  PeerVerdict dead;
  dead.reasons = {"value 5 did not advance in 60 s"};
  const std::string line = FormatVerdictLine(dead, "/mnt/p/KVMHA/hb-10.0.0.2", kWindow, WallTime(1010s));
  EXPECT_EQ(line.rfind("=====> DEAD <======", 0), 0u) << "upstream's own line first: " << line;
  EXPECT_NE(line.find("> DEAD <"), std::string::npos);
  EXPECT_NE(line.find("DEAD"), std::string::npos);
  EXPECT_NE(line.find("Considering host as DEAD because last write on [/mnt/p/KVMHA/hb-10.0.0.2] was [1010] seconds "
                      "ago, but the max interval is [60]"),
            std::string::npos)
      << "the explanation stays on the line the agent logs: " << line;
  PeerVerdict alive;
  alive.alive = true;
  EXPECT_EQ(FormatVerdictLine(alive, "f", kWindow, WallTime{}).find("DEAD"), std::string::npos);
}

TEST(ReadHeartbeatFileTest, AcceptsWhatFileTargetWrites) {
  TempDir dir;
  WriteFile(dir / "hb", "1795000000\n");
  auto r = ReadHeartbeatFile(dir / "hb");
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r.value(), 1795000000);
  WriteFile(dir / "no-newline", "1795000001");
  ASSERT_TRUE(ReadHeartbeatFile(dir / "no-newline"));
  EXPECT_EQ(ReadHeartbeatFile(dir / "no-newline").value(), 1795000001);
}

TEST(ReadHeartbeatFileTest, MissingFile) {
  TempDir dir;
  auto r = ReadHeartbeatFile(dir / "hb-gone");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), "open " + (dir / "hb-gone").string() + ": No such file or directory");
}

TEST(ReadHeartbeatFileTest, EmptyFile) {
  TempDir dir;
  WriteFile(dir / "hb", "");
  auto r = ReadHeartbeatFile(dir / "hb");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), (dir / "hb").string() + " is empty");
}

TEST(ReadHeartbeatFileTest, GarbageIsRejectedAndShownEscaped) {
  TempDir dir;
  for (const std::string bad : {"abc\n", "17950000x0\n", " 1795000000\n", "1795000000 \n", "1795000000\n\n", "-5\n",
                                "+1795000000\n", "\n", "0\n", "1795000000\r\n", "253402300800\n"}) {
    WriteFile(dir / "hb", bad);
    auto r = ReadHeartbeatFile(dir / "hb");
    EXPECT_FALSE(r) << "accepted " << bad;
    if (!r) {
      EXPECT_THAT(r.error(), HasSubstr("does not hold Unix seconds")) << bad;
    }
  }
  WriteFile(dir / "hb", "12\x01\"\n");
  EXPECT_THAT(ReadHeartbeatFile(dir / "hb").error(), HasSubstr(R"(: "12\x01\x22\x0a")"));
}

TEST(ReadHeartbeatFileTest, LargestValueAndOversizedFile) {
  TempDir dir;
  WriteFile(dir / "hb", "253402300799\n");
  EXPECT_TRUE(ReadHeartbeatFile(dir / "hb"));
  WriteFile(dir / "hb", "00000000000001\n");
  EXPECT_THAT(ReadHeartbeatFile(dir / "hb").error(), HasSubstr("is longer than a heartbeat"));
  WriteFile(dir / "hb", std::string(1 << 20, '7'));
  EXPECT_THAT(ReadHeartbeatFile(dir / "hb").error(), HasSubstr("is longer than a heartbeat"));
}

TEST(FileHeartbeatReaderTest, ValueIsProgressAndWrittenAt) {
  TempDir dir;
  WriteFile(dir / "hb", "1795000000\n");
  auto r = FileHeartbeatReader(dir / "hb")();
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r.value().progress, 1795000000);
  EXPECT_EQ(r.value().written_at_unix, 1795000000);
}

constexpr uint64_t kOffset = 8192;
const WallTime kWrittenAt = WallTime(std::chrono::seconds(1795000000));

// A sparse regular file standing in for the device, as block_target_test does.
std::filesystem::path MakeDevice(const TempDir& dir, uint64_t size = 1 << 20) {
  const auto device = dir / "lun";
  WriteFile(device, "");
  std::filesystem::resize_file(device, size);
  return device;
}

BlockTarget Writer(const std::filesystem::path& device) {
  return BlockTarget(TargetConfig{.name = "lun", .kind = "block", .path = device, .offset = kOffset}, "h1");
}

TEST(BlockHeartbeatReaderTest, SequenceIsProgressAndTheSectorTimeIsWrittenAt) {
  TempDir dir;
  const auto device = MakeDevice(dir);
  BlockTarget writer = Writer(device);
  ASSERT_TRUE(writer.Write(kWrittenAt).ok());
  ASSERT_TRUE(writer.Write(kWrittenAt).ok());
  auto r = BlockHeartbeatReader(device, kOffset)();
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r.value().progress, 2) << "two writes within one second still advance";
  EXPECT_EQ(r.value().written_at_unix, 1795000000);
}

// The writer writes once while peer-check waits its window.
TEST(BlockHeartbeatReaderTest, ASectorWrittenDuringTheWindowIsAliveAFrozenOneDead) {
  TempDir dir;
  const auto device = MakeDevice(dir);
  BlockTarget writer = Writer(device);
  ASSERT_TRUE(writer.Write(kWrittenAt).ok());
  FakeClock clock;
  int reads = 0;
  const HeartbeatReader read_block = BlockHeartbeatReader(device, kOffset);
  const HeartbeatReader written_between = [&]() {
    auto r = read_block();
    if (++reads == 1) {
      EXPECT_TRUE(writer.Write(kWrittenAt).ok());
    }
    return r;
  };
  EXPECT_TRUE(CheckPeer(written_between, clock, 1s).alive);

  const PeerVerdict frozen = CheckPeer(read_block, clock, 1s);
  EXPECT_FALSE(frozen.alive);
  EXPECT_THAT(frozen.reasons, ElementsAre("value 2 did not advance in 1 s"));
  EXPECT_EQ(frozen.last_written_at_unix, 1795000000);
}

// Every decoding error is ReadBlockSector's (block_target_test covers them): they pass through.
TEST(BlockHeartbeatReaderTest, UnusableSectorsAreErrorsNamingTheDevice) {
  TempDir dir;
  const auto device = MakeDevice(dir);
  EXPECT_EQ(BlockHeartbeatReader(device, kOffset)().error(),
            device.string() + " at offset 8192: never written (all zeros)");
  EXPECT_THAT(BlockHeartbeatReader(device, 1 << 20)().error(), HasSubstr("too small for a 4096-byte sector"));
  EXPECT_THAT(BlockHeartbeatReader(dir / "absent", 0)().error(), HasSubstr("No such file or directory"));
}

TEST(BlockHeartbeatNameTest, OffsetShownOnlyWhenNotZero) {
  EXPECT_EQ(BlockHeartbeatName("/dev/drbd7", 0), "/dev/drbd7");
  EXPECT_EQ(BlockHeartbeatName("/dev/drbd7", 8192), "/dev/drbd7@8192");
}

TEST(WithReadTimeoutTest, ReadThatCompletesPassesThrough) {
  auto read = WithReadTimeout([]() -> ReadResult { return Value(42); }, 1h);
  auto r = read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r.value().progress, 42);
  auto failing = WithReadTimeout([]() -> ReadResult { return Err{std::string("boom")}; }, 1h);
  EXPECT_EQ(failing().error(), "boom");
}

// The read blocks until the test releases it, so it cannot finish within the bound
// whatever the machine's speed; the caller gets its answer without it.
TEST(WithReadTimeoutTest, StuckReadGivesUp) {
  auto release = std::make_shared<std::promise<void>>();
  std::shared_future<void> released = release->get_future().share();
  auto finished = std::make_shared<std::promise<void>>();
  auto read = WithReadTimeout(
      [released, finished]() -> ReadResult {
        released.wait();
        finished->set_value();
        return Value(1);
      },
      20ms);
  auto r = read();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), "read timed out after 20 ms (storage not answering)");
  // Let the abandoned read end before the test's state goes away.
  release->set_value();
  finished->get_future().wait();
}

}  // namespace
}  // namespace hbfence

namespace hbfence {
namespace {

// Whoever can write the pool can put a FIFO where a heartbeat belongs: reading it
// must fail at once, not wait for a writer that never comes.
TEST(ReadHeartbeatFileTest, AFifoOrADirectoryIsAnErrorNotAHang) {
  TempDir dir;
  const auto fifo = dir / "hb-10.0.0.9";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  auto read = std::async(std::launch::async, [&] { return ReadHeartbeatFile(fifo); });
  ASSERT_EQ(read.wait_for(10s), std::future_status::ready) << "blocked on a FIFO";
  const auto result = read.get();
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.error(), HasSubstr("is not a regular file"));
  std::filesystem::create_directory(dir / "hb-dir");
  EXPECT_THAT(ReadHeartbeatFile(dir / "hb-dir").error(), HasSubstr("is not a regular file"));
}

}  // namespace
}  // namespace hbfence
