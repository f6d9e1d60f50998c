// SPDX-License-Identifier: Apache-2.0

// Deciding, from another host, whether the writer of a heartbeat is alive: read the
// value, wait a window on the local monotonic clock, read again; alive only if the
// value advanced. Clocks are never compared across hosts, so a writer whose clock
// runs ahead or behind is judged by its progress alone (CloudStack's kvmheartbeat.sh
// compares wall clocks and calls such a writer alive forever).
//
// The decision is pure over an injected reader and clock. A reader returns a
// progress value that must advance (file: the Unix seconds it holds; block sector:
// its sequence number) and the written-at time used only to print how long ago the
// last write was. Reads may hang forever on dead storage: the program
// wraps its reader in WithReadTimeout().
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "src/sys/clock.h"
#include "src/sys/result.h"
#include "src/sys/time.h"

namespace hbfence {

// Why a window shorter than the writer's interval + 1 s can call a live file writer
// dead: the file holds whole seconds, so two reads less than interval + 1 s apart may
// both see the same second. A block sector's sequence number advances on every
// write, so there the window need only exceed the interval (plus write latency).
// CloudStack passes -t 60 (its heartbeat update frequency).
inline constexpr std::chrono::seconds kDefaultPeerWindow{60};
// Each read gives up after this long; peer-check returns within window + 2 × this.
inline constexpr std::chrono::seconds kPeerReadTimeout{10};
// How often the value is read again during the window, to answer ALIVE as soon as
// it advances. A read is a few bytes (or one sector): four a second cost the
// storage nothing, and the agent, which checks its pools one after another within
// one timeout, gets a live host's answer within a writer interval or so.
inline constexpr std::chrono::milliseconds kPeerPollInterval{250};

struct HeartbeatValue {
  int64_t progress = 0;         // must advance between the two reads
  int64_t written_at_unix = 0;  // the writer's wall clock, seconds; only printed
};

using HeartbeatReader = std::function<Result<HeartbeatValue, std::string>()>;

struct PeerVerdict {
  bool alive = false;
  std::optional<int64_t> last_written_at_unix;  // the newest value read; empty if none could be
  std::vector<std::string> reasons;             // why DEAD, one line each; empty when alive
};

// Reads, then reads again every `poll` (clock.SleepFor()) until a value above the
// first shows progress: ALIVE at once. DEAD needs the whole `window` on the
// monotonic clock: the verdict is then the last read's, the first read at or after
// the window's end (its error, or the value that did not advance). A failed read
// before that decides nothing. A failed first read is DEAD at once: without a first
// value no progress can be shown. Blocks only in the reader and the sleeps; the wall
// clock is read only to explain a future-dated value.
PeerVerdict CheckPeer(const HeartbeatReader& read, const Clock& clock, Duration window,
                      Duration poll = kPeerPollInterval);

// The first output line, which CloudStack's agent parses:
// =====> ALIVE <=====
// =====> DEAD <====== Considering host as DEAD because last write on [FILE] was [N] seconds ago, but the max interval is [W]
// The DEAD line opens with kvmheartbeat.sh's original "=====> DEAD <======": older
// agents (KVMHAChecker) look for "> DEAD <" in it, current ones (LibvirtStoragePool)
// for "DEAD"; the explanation newer scripts print stays on the same line, so the
// agent's log, which quotes it, shows why.
// N = wall_now - last_written_at_unix, informational: negative when the writer's
// clock runs ahead (printed as is, it shows by how much). When nothing could be read,
// N is the local Unix time now (as if the file said 0, the epoch): larger than any
// real age. W = the window in whole seconds.
std::string FormatVerdictLine(const PeerVerdict& verdict, const std::string& source, Duration window,
                              WallTime wall_now);

// Unix seconds and an optional newline, nothing else: what FileTarget writes
// ("%d\n"). Missing, empty, oversized, non-digit, zero or past year 9999 is an
// error naming the file. Reads at most a few dozen bytes. Blocking; may hang on
// dead storage.
Result<int64_t, std::string> ReadHeartbeatFile(const std::filesystem::path& path);

// ReadHeartbeatFile as a HeartbeatReader: the value is both progress and written-at.
HeartbeatReader FileHeartbeatReader(std::filesystem::path path);

// ReadBlockSector as a HeartbeatReader: progress is the sector's sequence number
// (strictly increasing per write, so neither clock skew nor the one-second
// resolution of the time field matters), written-at its time. Never written, bad
// checksum, a device too small for the sector and the like are errors naming the
// device. Blocking; may hang on dead storage.
HeartbeatReader BlockHeartbeatReader(std::filesystem::path device, uint64_t offset);

// How a block heartbeat is named in the verdict line: the device, with "@offset"
// when the sector is not at its start.
std::string BlockHeartbeatName(const std::filesystem::path& device, uint64_t offset);

// Runs each read on its own detached thread and gives up after `timeout` with the
// error "read timed out". A read stuck in the kernel stays stuck on that thread but
// no longer holds up the caller, and does not stop the process from exiting.
HeartbeatReader WithReadTimeout(HeartbeatReader read, Duration timeout);

}  // namespace hbfence
