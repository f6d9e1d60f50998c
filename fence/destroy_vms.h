// SPDX-License-Identifier: Apache-2.0

// destroy-vms: fence the VMs a failed pool holds, not the host.
//
// The split-brain rule only needs the VMs whose storage is on the failed pool dead,
// with no write of theirs able to reach that storage later. For each failed target
// (a file target on a mount), within destroy_timeout:
//
//   1. select: every running domain with a file-backed source on the pool's mount
//      (fence/vm_selection.h), through the hypervisor seam (libvirt);
//   2. refuse and escalate what destroying cannot make safe: a writable disk on the
//      pool cached by the host (dirty pages could land after the VM was restarted
//      elsewhere), a domain whose storage cannot be placed, libvirt unreachable, a
//      block or exec target or one without a mount (nothing to scope by, no in-flight
//      I/O that can be aborted);
//   3. journal the domains (name, UUID), durably within the journal timeout, before
//      anything is destroyed;
//   4. kill their QEMU processes (SIGKILL) and destroy them through libvirt;
//   5. force-unmount the pool (force_unmount): the NFS client fails every request
//      still queued, so a killed QEMU's write cannot be retransmitted when the server
//      returns, after the VM was restarted elsewhere; a QEMU stuck in that I/O dies now;
//   6. confirm every QEMU process is gone;
//   7. journal the result, and escalate (destroy_escalation, hard-reboot by default)
//      when any step failed or the time ran out.
//
// A pool no running domain uses is journaled and counted; nothing is destroyed or
// unmounted. Runs on the fence executor thread; every call that can hang (libvirt,
// the unmount, symlinks outside the pool) is bounded by the remaining time.
#pragma once

#include <memory>

#include "fence/actions.h"

namespace hbfence {

std::unique_ptr<FenceAction> MakeDestroyVms(const FenceConfig& cfg, ActionDeps deps);

}  // namespace hbfence
