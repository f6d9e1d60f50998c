// SPDX-License-Identifier: Apache-2.0

#include "src/sys/hypervisor.h"

#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <mutex>

#include "src/sys/fs_util.h"

namespace hbfence {
namespace {

std::string LastError(const std::string& what) {
  const char* message = virGetLastErrorMessage();
  return what + ": " + (message ? message : "unknown libvirt error");
}

// libvirt prints every error to stderr by default; ours are returned and logged once.
void QuietLibvirt() {
  static std::once_flag once;
  std::call_once(once, [] {
    virInitialize();
    virSetErrorFunc(nullptr, [](void*, virErrorPtr) {});
  });
}

std::optional<pid_t> Pid(std::string_view name) {
  pid_t pid = 0;
  auto [p, ec] = std::from_chars(name.data(), name.data() + name.size(), pid);
  if (ec != std::errc() || p != name.data() + name.size() || pid <= 0) return std::nullopt;
  return pid;
}

class LibvirtHypervisor final : public Hypervisor {
 public:
  LibvirtHypervisor(virConnectPtr conn, std::string proc_root) : conn_(conn), proc_root_(std::move(proc_root)) {}
  ~LibvirtHypervisor() override { virConnectClose(conn_); }

  Result<std::vector<DomainInfo>, std::string> RunningDomains() override {
    virDomainPtr* domains = nullptr;
    const int n = virConnectListAllDomains(conn_, &domains, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
    if (n < 0) return Err{LastError("listing the running domains")};
    std::vector<DomainInfo> out;
    std::string error;
    for (int i = 0; i < n; ++i) {
      virDomainPtr d = domains[i];
      char uuid[VIR_UUID_STRING_BUFLEN] = {};
      const char* name = virDomainGetName(d);
      char* xml = virDomainGetXMLDesc(d, 0);
      if (!name || virDomainGetUUIDString(d, uuid) != 0 || !xml) {
        // A domain that stopped meanwhile has nothing left to fence.
        if (virDomainIsActive(d) == 1 && error.empty()) error = LastError("reading a running domain");
      } else {
        out.push_back({name, uuid, xml});
      }
      std::free(xml);
      virDomainFree(d);
    }
    std::free(domains);
    if (!error.empty()) return Err{error};
    return out;
  }

  std::vector<pid_t> Processes(const DomainInfo& domain) override {
    return ProcessesWithArguments(proc_root_, "-uuid", domain.uuid);
  }

  // pidfds signal the exit of any process, not only a child's: an event, not a poll
  // of /proc. A pid without a pidfd (no such process: gone) needs no wait.
  std::vector<pid_t> WaitGone(const std::vector<pid_t>& pids, Duration within) override {
    const auto deadline = std::chrono::steady_clock::now() + within;
    std::vector<pollfd> fds;
    std::vector<pid_t> watched;
    std::vector<pid_t> survivors;
    for (pid_t pid : pids) {
      const int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
      if (fd >= 0) {
        fds.push_back({fd, POLLIN, 0});
        watched.push_back(pid);
      } else if (errno != ESRCH && ProcessAlive(proc_root_, pid)) {
        survivors.push_back(pid);  // cannot watch it: judged once, now
      }
    }
    while (!fds.empty()) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      const int n = ::poll(fds.data(), fds.size(), static_cast<int>(left.count()));
      if (n < 0 && errno != EINTR) break;
      for (size_t i = fds.size(); i-- > 0;) {
        if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        ::close(fds[i].fd);
        fds.erase(fds.begin() + static_cast<std::ptrdiff_t>(i));
        watched.erase(watched.begin() + static_cast<std::ptrdiff_t>(i));
      }
    }
    for (size_t i = 0; i < fds.size(); ++i) {
      ::close(fds[i].fd);
      survivors.push_back(watched[i]);
    }
    return survivors;
  }

  void Kill(const std::vector<pid_t>& pids) override {
    for (pid_t pid : pids) ::kill(pid, SIGKILL);
  }

  Status Destroy(const DomainInfo& domain) override {
    virDomainPtr d = virDomainLookupByUUIDString(conn_, domain.uuid.c_str());
    if (!d) {
      if (virGetLastErrorCode() == VIR_ERR_NO_DOMAIN) return OkStatus();  // transient, gone with its process
      return Err{LastError("looking up domain " + domain.name)};
    }
    const int rc = virDomainDestroyFlags(d, 0);
    const int code = virGetLastErrorCode();
    const std::string error = rc == 0 ? "" : LastError("destroying domain " + domain.name);
    virDomainFree(d);
    // Already shut off: the kill above was faster than libvirt.
    if (rc != 0 && code != VIR_ERR_OPERATION_INVALID && code != VIR_ERR_NO_DOMAIN) return Err{error};
    return OkStatus();
  }

 private:
  virConnectPtr conn_;
  std::string proc_root_;
};

}  // namespace

Result<std::unique_ptr<Hypervisor>, std::string> ConnectLibvirt(const std::string& uri, const std::string& proc_root) {
  QuietLibvirt();
  virConnectPtr conn = virConnectOpen(uri.c_str());
  if (!conn) return Err{LastError("connecting to libvirt at " + uri)};
  return std::unique_ptr<Hypervisor>(std::make_unique<LibvirtHypervisor>(conn, proc_root));
}

std::vector<pid_t> ProcessesWithArguments(const std::string& proc_root, const std::string& flag,
                                          const std::string& value) {
  std::vector<pid_t> out;
  DIR* dir = ::opendir(proc_root.c_str());
  if (!dir) return out;
  const std::string wanted = flag + '\0' + value + '\0';
  while (const dirent* e = ::readdir(dir)) {
    const auto pid = Pid(e->d_name);
    if (!pid) continue;
    auto cmdline = ReadRegularFile(proc_root + "/" + e->d_name + "/cmdline", 1 << 20);
    if (!cmdline) continue;
    const std::string& args = cmdline.value();
    // Whole arguments only: the pair starts the command line or follows a NUL.
    for (size_t at = args.find(wanted); at != std::string::npos; at = args.find(wanted, at + 1)) {
      if (at == 0 || args[at - 1] == '\0') {
        out.push_back(*pid);
        break;
      }
    }
  }
  ::closedir(dir);
  return out;
}

bool ProcessAlive(const std::string& proc_root, pid_t pid) {
  auto stat = ReadRegularFile(proc_root + "/" + std::to_string(pid) + "/stat", 4096);
  if (!stat) return false;
  // "PID (COMM) STATE ...": COMM may hold spaces and parentheses, so the state
  // follows the last ')'.
  const auto& s = stat.value();
  const auto close = s.rfind(')');
  return close != std::string::npos && close + 2 < s.size() && s[close + 2] != 'Z' && s[close + 2] != 'X';
}

}  // namespace hbfence
