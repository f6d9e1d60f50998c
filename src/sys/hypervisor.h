// SPDX-License-Identifier: Apache-2.0

// The hypervisor seam, for the destroy-vms action: the running domains with their
// live XML, their processes, and destroying one. Every call may block (a hung
// libvirtd, a QEMU stuck in the kernel): callers bound them.
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <memory>
#include <string>
#include <vector>

#include "src/sys/result.h"
#include "src/sys/time.h"

namespace hbfence {

struct DomainInfo {
  std::string name;
  std::string uuid;
  std::string xml;  // the live XML
};

class Hypervisor {
 public:
  virtual ~Hypervisor() = default;
  virtual Result<std::vector<DomainInfo>, std::string> RunningDomains() = 0;
  // The processes running the domain (QEMU), looked up while it runs.
  virtual std::vector<pid_t> Processes(const DomainInfo& domain) = 0;
  // Waits at most `within` for `pids` to be gone (a zombie is gone: it holds no file
  // open) and returns those still there.
  virtual std::vector<pid_t> WaitGone(const std::vector<pid_t>& pids, Duration within) = 0;
  // SIGKILL, at once: no graceful shutdown (the storage is gone, and a QEMU told to
  // exit may still flush to it). Never blocks.
  virtual void Kill(const std::vector<pid_t>& pids) = 0;
  // virDomainDestroyFlags: libvirt's own teardown of the domain (it kills what is
  // left). A domain already gone is success.
  virtual Status Destroy(const DomainInfo& domain) = 0;
};

// Opens a hypervisor connection; the daemon's is libvirt.
using HypervisorFactory = std::function<Result<std::unique_ptr<Hypervisor>, std::string>(const std::string& uri)>;

// libvirt's C API at `uri` (qemu:///system; libvirt's test driver test:///… in
// tests). Processes are QEMU's, found in `proc_root` by their -uuid argument.
Result<std::unique_ptr<Hypervisor>, std::string> ConnectLibvirt(const std::string& uri,
                                                                 const std::string& proc_root = "/proc");

// The pids in `proc_root` whose command line holds the argument pair `flag value`
// (QEMU's "-uuid <uuid>"). Zombies have no command line and are not listed.
std::vector<pid_t> ProcessesWithArguments(const std::string& proc_root, const std::string& flag,
                                          const std::string& value);
// Whether `pid` exists in `proc_root` and is not a zombie (from its stat line, which
// unlike its command line never waits on the process's memory).
bool ProcessAlive(const std::string& proc_root, pid_t pid);

}  // namespace hbfence
