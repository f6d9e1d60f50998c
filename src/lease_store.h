// SPDX-License-Identifier: Apache-2.0

// What a crash restart continues: each target's last successful write and when the
// daemon first started in this boot. Without it, a daemon killed and restarted
// faster than its lease (Restart=always) would grant itself a fresh lease every
// time and never fence dead storage.
//
// The record lives in the runtime directory (tmpfs: it dies with the boot) and
// names the boot it belongs to (/proc/sys/kernel/random/boot_id), so a host that was
// just fenced never fences again at start over a heartbeat age from before its
// reboot. A clean stop removes it: an operator's stop and start begins afresh.
// Times are CLOCK_MONOTONIC (steady_clock), which every process of one boot shares.
//
// Thread-safety: Update() and Flush() from the scheduler thread; the file is written
// on the store's own IoWorker, coalesced, so a hung runtime directory never delays
// the scheduler (updates then wait in memory, the newest wins).
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "src/sys/io_worker.h"
#include "src/sys/result.h"
#include "src/sys/time.h"

namespace hbfence {

struct LeaseRecord {
  std::string boot_id;
  MonoTime started;  // the first start in this boot: the startup grace runs from here
  struct Target {
    std::string identity;  // HeartbeatIdentity(): what is written where, not the name
    MonoTime last_success;
    std::optional<WallTime> last_success_wall;  // unset: no success since the first start
  };
  std::vector<Target> targets;
};

std::string FormatLeaseRecord(const LeaseRecord& record);
// nullopt for anything but a complete record in FormatLeaseRecord's format.
std::optional<LeaseRecord> ParseLeaseRecord(std::string_view text);

// This boot's id, or the reason it cannot be read.
Result<std::string, std::string> ReadBootId();

class LeaseStore {
 public:
  // Keeps the record at `runtime_directory`/leases; the directory exists (the
  // instance lock made it).
  explicit LeaseStore(std::filesystem::path runtime_directory);

  // The record a previous instance of this boot left, if any; waits at most `wait`.
  // A record of another boot, or none, is nullopt; an unreadable one is an error.
  Result<std::optional<LeaseRecord>, std::string> Load(std::string_view boot_id, Duration wait);

  // The state to write next (after a start or a reload); written by Flush().
  void Update(LeaseRecord record);
  // A new success for the target at `index` in the last Update(): no allocation,
  // for the scheduler's hot path.
  void SetSuccess(size_t index, MonoTime last_success, WallTime last_success_wall);
  // Queues a write of the newest state when it changed and no write is queued yet
  // (a stuck directory holds one write; the rest coalesce in memory).
  void Flush();
  // Removes the record (clean stop), waiting at most `wait`.
  Status Clear(Duration wait);
  // Stops the writer thread, abandoning it when stuck.
  bool StopWithin(Duration wait) { return io_.StopWithin(wait); }

  const std::filesystem::path& path() const { return state_->path; }

 private:
  // Shared with the writer thread, which may outlive this object when abandoned.
  struct State {
    std::filesystem::path path;
    std::mutex mu;  // guards the members below
    LeaseRecord record;
    bool dirty = false;
    bool write_queued = false;
    bool write_failing = false;  // the writer thread's own
  };
  static void Write(State& state);

  std::shared_ptr<State> state_ = std::make_shared<State>();
  IoWorker io_{"hbfence-leases", 4};
};

}  // namespace hbfence
