// SPDX-License-Identifier: Apache-2.0

#include "fence/destroy_vms.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <sstream>

#include "src/sys/io_worker.h"

namespace hbfence {
namespace {

std::string Seconds(Duration d) {
  std::ostringstream out;
  out << ToSeconds(d);
  return out.str();
}

class DestroyVms final : public FenceAction {
 public:
  DestroyVms(const FenceConfig& cfg, ActionDeps deps) : cfg_(cfg), deps_(std::move(deps)) {}

  std::vector<ActionStep> Execute(const Decision& d) override {
    deadline_ = deps_.clock.Now() + cfg_.destroy_timeout;
    for (const auto& place : d.places) {
      VmFenceReport report{place.target};
      std::string escalation, detail;
      FencePool(place, report, escalation, detail);
      report.escalation = escalation;
      if (deps_.report) deps_.report(report);
      if (!escalation.empty()) return Escalate(d, escalation, detail);
    }
    if (d.places.empty()) {
      return Escalate(d, "no_mount", "the decision names no target's storage: nothing to scope the fence by");
    }
    return std::move(steps_);
  }

 private:
  // What is left of destroy_timeout.
  Duration Left() const { return std::max(Duration::zero(), deadline_ - deps_.clock.Now()); }

  template <typename T>
  std::optional<T> Bounded(std::function<T()> call) {
    return CallWithin<T>("hbfence-vmfence", std::move(call), Left());
  }

  void Journal(FenceActionKind as, const std::string& note, std::vector<std::string> domains) {
    if (!deps_.journal) return;
    std::vector<std::string> lines;
    for (const auto& s : steps_) lines.push_back(std::string(Name(s.action)) + "=" + s.result + ": " + s.detail);
    // Durability within its bound; a failure is the executor's to count and log.
    (void)deps_.journal(as, note, std::move(domains), std::move(lines));
  }

  // Fences one pool; on a reason to escalate, fills `escalation` (a label) and
  // `detail`, and stops.
  void FencePool(const TargetPlace& place, VmFenceReport& report, std::string& escalation, std::string& detail) {
    auto fail = [&](std::string label, std::string why) {
      escalation = std::move(label);
      detail = "target " + place.target + ": " + std::move(why);
    };
    if (place.kind != "file" || !place.mount) {
      return fail("no_mount", place.kind == "file"
                                  ? "no mount is configured, so neither its VMs nor its in-flight I/O can be told apart"
                                  : "a " + place.kind + " target: its VMs cannot be told apart, its in-flight I/O not "
                                                        "aborted");
    }
    const std::filesystem::path mount = *place.mount;
    const MonoTime select_started = deps_.clock.Now();

    // 1. Select.
    auto mount_of = deps_.mounts ? deps_.mounts() : Result<MountOf, std::string>(Err{std::string("no mount table")});
    if (!mount_of) return fail("unknown_source", "cannot read the mount table: " + mount_of.error());
    const HypervisorFactory connect = deps_.connect;
    const std::string uri = cfg_.libvirt_uri;
    using Connected = Result<std::shared_ptr<Hypervisor>, std::string>;
    auto connected = Bounded<Connected>([connect, uri]() -> Connected {
      if (!connect) return Err{std::string("no hypervisor connection")};
      auto hv = connect(uri);
      if (!hv) return Err{hv.error()};
      return std::shared_ptr<Hypervisor>(std::move(hv).value());
    });
    if (!connected) return fail("libvirt_error", "libvirt at " + uri + " did not answer in time");
    if (!connected->ok()) return fail("libvirt_error", connected->error());
    const std::shared_ptr<Hypervisor> hv = connected->value();
    using Listed = Result<std::vector<DomainInfo>, std::string>;
    auto listed = Bounded<Listed>([hv] { return hv->RunningDomains(); });
    if (!listed) return fail("libvirt_error", "listing the running domains did not finish in time");
    if (!listed->ok()) return fail("libvirt_error", listed->error());
    auto selected = Bounded<VmSelection>([domains = listed->value(), mount, mo = mount_of.value()] {
      return SelectDomains(domains, mount, ResolveUpToPool(mount, mo), mo);
    });
    if (!selected) return fail("unknown_source", "placing the domains' files did not finish in time (a path hangs)");
    report.select = deps_.clock.Now() - select_started;
    std::vector<DomainInfo> affected;
    std::vector<std::string> names;
    for (const auto& a : selected->affected) {
      auto it = std::find_if(listed->value().begin(), listed->value().end(),
                             [&](const DomainInfo& d) { return d.uuid == a.uuid; });
      if (it != listed->value().end()) affected.push_back(*it);
      names.push_back(a.name + " " + a.uuid);
    }
    // 2. Refuse what destroying cannot make safe.
    if (!selected->refusals.empty()) {
      std::string why;
      for (const auto& r : selected->refusals) why += (why.empty() ? "" : "; ") + r.domain + ": " + r.detail;
      Journal(FenceActionKind::kDestroyVms, "refused on pool " + mount.string() + ": " + why, names);
      return fail(selected->refusals.front().reason, why);
    }
    if (affected.empty()) {
      steps_.push_back({FenceActionKind::kDestroyVms, "success",
                        "no running domain uses pool " + mount.string() + " (target " + place.target +
                            "): nothing destroyed, not unmounted"});
      Journal(FenceActionKind::kDestroyVms, steps_.back().detail, {});
      return;
    }
    // Each domain's processes; a domain whose processes were not found can be
    // confirmed gone only by libvirt's teardown, below.
    using Found = std::pair<std::vector<pid_t>, std::vector<std::string>>;
    auto found = Bounded<Found>([hv, affected] {
      Found out;
      for (const auto& d : affected) {
        const auto mine = hv->Processes(d);
        if (mine.empty()) out.second.push_back(d.name);
        out.first.insert(out.first.end(), mine.begin(), mine.end());
      }
      return out;
    });
    if (!found) return fail("processes_survived", "finding the domains' processes did not finish in time");
    const std::vector<pid_t>* pids = &found->first;
    const std::vector<std::string>& unseen = found->second;

    // 3. On record before anything is destroyed.
    Journal(FenceActionKind::kDestroyVms,
            "destroying " + std::to_string(affected.size()) + " domain(s) on pool " + mount.string(), names);

    // 4. Kill, and let libvirt tear the domains down meanwhile: a destroy waits for a
    // QEMU stuck in the pool's I/O, which only the unmount below releases.
    const MonoTime destroy_started = deps_.clock.Now();
    hv->Kill(*pids);
    auto teardown = std::make_shared<IoWorker>("hbfence-vmdestroy", affected.size() + 2);
    // domain name -> empty once destroyed, else libvirt's error
    auto destroyed = std::make_shared<std::map<std::string, std::string>>();
    auto destroyed_mu = std::make_shared<std::mutex>();
    for (const auto& d : affected) {
      teardown->Post([hv, d, destroyed, destroyed_mu] {
        const Status st = hv->Destroy(d);
        std::lock_guard lock(*destroyed_mu);
        (*destroyed)[d.name] = st ? "" : st.error();
      });
    }

    // 5. Abort the pool's in-flight I/O.
    if (cfg_.force_unmount) {
      const MonoTime unmount_started = deps_.clock.Now();
      FenceIo* io = &deps_.io;
      auto unmounted = Bounded<Status>([io, mount] { return io->ForceUnmount(mount); });
      report.unmount = deps_.clock.Now() - unmount_started;
      if (!unmounted || !unmounted->ok()) {
        return fail("unmount_failed", unmounted ? unmounted->error() : "umount2 " + mount.string() + " did not return in time");
      }
    }

    // 6. Every QEMU gone.
    const auto survivors = hv->WaitGone(*pids, Left());
    report.destroy = deps_.clock.Now() - destroy_started;
    if (!survivors.empty()) {
      std::string list;
      for (pid_t pid : survivors) list += (list.empty() ? "" : ", ") + std::to_string(pid);
      return fail("processes_survived", "QEMU process(es) " + list + " still running after " +
                                             Seconds(cfg_.destroy_timeout) + " s");
    }
    // libvirt's teardowns, as far as they got: for domains whose processes were
    // seen, their exit is the proof; for the others, only a finished teardown is.
    (void)teardown->Call<bool>([] { return true; }, Left());
    std::string libvirt;
    {
      std::lock_guard lock(*destroyed_mu);
      for (const auto& name : unseen) {
        auto it = destroyed->find(name);
        if (it == destroyed->end() || !it->second.empty()) {
          return fail("processes_survived",
                      "domain " + name + ": no process of it was found, and libvirt did not confirm it destroyed (" +
                          (it == destroyed->end() ? "no answer in time" : it->second) + ")");
        }
      }
      for (const auto& [name, error] : *destroyed) {
        if (!error.empty()) libvirt += (libvirt.empty() ? "" : "; ") + name + ": " + error;
      }
    }
    report.destroyed = static_cast<int>(affected.size());
    steps_.push_back({FenceActionKind::kDestroyVms, "success",
                      std::to_string(affected.size()) + " domain(s) on pool " + mount.string() + " (target " +
                          place.target + ") destroyed, their processes gone" +
                          (cfg_.force_unmount ? ", the pool force-unmounted" : "") +
                          (libvirt.empty() ? "" : " (libvirt reported: " + libvirt + ")")});
    Journal(FenceActionKind::kDestroyVms, steps_.back().detail, names);
  }

  std::vector<ActionStep> Escalate(const Decision& d, const std::string& label, const std::string& detail) {
    steps_.push_back({FenceActionKind::kDestroyVms, "escalated",
                      detail + " [" + label + "]; escalating to " + std::string(Name(cfg_.destroy_escalation))});
    // On record as what runs now, so the hourly reboot cap counts it.
    Journal(cfg_.destroy_escalation, "destroy-vms escalated: " + detail, {});
    FenceConfig next = cfg_;
    next.action = cfg_.destroy_escalation;
    for (auto& s : MakeFenceAction(next, deps_)->Execute(d)) steps_.push_back(std::move(s));
    return std::move(steps_);
  }

  const FenceConfig& cfg_;
  ActionDeps deps_;
  MonoTime deadline_{};
  std::vector<ActionStep> steps_;
};

}  // namespace

std::unique_ptr<FenceAction> MakeDestroyVms(const FenceConfig& cfg, ActionDeps deps) {
  return std::make_unique<DestroyVms>(cfg, std::move(deps));
}

}  // namespace hbfence
